from pathlib import Path

import pytest

from index.settings import Settings


def test_defaults_need_no_configuration():
    settings = Settings.from_env(environ={})
    assert settings.data_dir == Path("data")
    assert settings.corpus_dir == Path("docs_corpus")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_then_overrides():
    env = {"REFORMQA_CHUNK_TOKENS": "120", "REFORMQA_DATA_DIR": "/tmp/x", "REFORMQA_PORT": "9000"}
    settings = Settings.from_env(environ=env, port=9100)
    assert settings.chunk_tokens == 120
    assert settings.data_dir == Path("/tmp/x")
    assert settings.port == 9100


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REFORMQA_CHUNK_TOKENS": "many"}, "not a valid int"),
        ({"REFORMQA_CHUNK_OVERLAP": "500"}, "CHUNK_OVERLAP"),
        ({"REFORMQA_FUSION": "max"}, "FUSION"),
        ({"REFORMQA_DENSE_WEIGHT": "1.5"}, "DENSE_WEIGHT"),
        ({"REFORMQA_SENTENCE_VECTORS": "averaged"}, "SENTENCE_VECTORS"),
    ],
)
def test_bad_values_are_refused_by_name(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(environ=env)
