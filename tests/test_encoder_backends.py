"""The ONNX backends against torch: the same vectors (fp32) or close ones (int8), an export made
once and reused, and the settings and index checks that keep backends from being mixed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embedder import Embedder, recorded_name
from index.errors import IndexMismatch
from index.onnx_export import GRAPH, RECORD
from index.reader import IndexReader
from index.settings import Settings

TEXTS = [
    "How many ID cards had been issued by 2023?",
    "To date, more than 76 million electronic chip-embedded citizen identification cards have "
    "been issued to citizens.",
    "The Government cut and simplified 1,041 business regulations in 2022.",
    "Ninth meeting of the Steering Committee for Administrative Reform",
    "ok",
    "Online public services " * 60,  # past the model's 256-token limit: truncated alike
]
# Measured on this project's machine (AVX2, no VNNI): int8 cosine to torch's vectors, min/mean,
# 0.968/0.987 over the corpus's lines, 0.987/0.992 over the eval queries; 0.946 for "ok" batched
# with these texts (activations are quantized per batch, so a text's vector depends a little on
# its batch). The bounds sit under that.
INT8_MIN_COSINE, INT8_MEAN_COSINE = 0.93, 0.975


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return Embedder(backend="torch").encode(TEXTS)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)  # both are unit vectors


def test_an_unknown_backend_is_a_settings_error():
    with pytest.raises(ValueError, match=r"REFORMQA_EMBED_BACKEND='tensorrt' is not one of"):
        Settings.from_env(environ={"REFORMQA_EMBED_BACKEND": "tensorrt"})
    with pytest.raises(ValueError, match="unknown embedding backend"):
        Embedder(backend="tensorrt")


def test_onnx_on_a_gpu_is_a_settings_error():
    env = {"REFORMQA_EMBED_BACKEND": "onnx", "REFORMQA_DEVICE": "cuda"}
    with pytest.raises(ValueError, match="runs on the CPU only"):
        Settings.from_env(environ=env)


def test_only_backends_with_different_vectors_change_the_recorded_name():
    name = "sentence-transformers/all-MiniLM-L6-v2"
    assert recorded_name("default", "torch") == recorded_name("default", "onnx") == name
    assert recorded_name("default", "onnx-int8") == f"{name}@onnx-int8"


def test_an_fp32_index_serves_torch_and_onnx_and_refuses_int8(fixture_settings):
    for backend in ("torch", "onnx"):  # the same vectors, to float rounding
        IndexReader.open(fixture_settings.data_dir, recorded_name("default", backend))
    with pytest.raises(IndexMismatch, match=r"configured model is .*@onnx-int8"):
        IndexReader.open(fixture_settings.data_dir, recorded_name("default", "onnx-int8"))


@pytest.mark.slow
def test_onnx_vectors_match_torch(torch_vectors, onnx_cache):
    onnx = Embedder(backend="onnx", cache_dir=onnx_cache)
    cosines = _cosines(onnx.encode(TEXTS), torch_vectors)
    assert cosines.min() > 0.9999  # measured 0.99999994: float rounding only


HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")
IN_A_FRESH_PROCESS = """
import json, sys
import numpy as np
from index.embedder import Embedder
embedder = Embedder(backend="onnx", cache_dir=sys.argv[1])
np.save(sys.argv[2], embedder.encode(json.loads(sys.argv[3])))
print(json.dumps({"graph": embedder.graph is not None, "dimension": embedder.dimension,
                  "heavy": sorted(set(sys.modules) & set(json.loads(sys.argv[4])))}))
"""


def test_an_exported_model_encodes_without_torch_and_gives_the_same_vectors(
    torch_vectors, onnx_cache, tmp_path
):
    Embedder(backend="onnx", cache_dir=onnx_cache).warm_up()  # exports it, if not yet done
    out = tmp_path / "vectors.npy"
    run = subprocess.run(
        [sys.executable, "-c", IN_A_FRESH_PROCESS, str(onnx_cache), str(out), json.dumps(TEXTS),
         json.dumps(HEAVY)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1],
    )  # fmt: skip
    seen = json.loads(run.stdout)
    assert seen == {"graph": True, "dimension": 384, "heavy": []}
    assert _cosines(np.load(out), torch_vectors).min() > 0.9999


def test_without_torch_the_splitter_counts_the_same_tokens_and_cuts_the_same_chunks(onnx_cache):
    from index.loader import load_corpus
    from index.splitter import Splitter

    light = Embedder(backend="onnx", cache_dir=onnx_cache)
    light.warm_up()  # exports the graph if this module has not yet
    light = Embedder(backend="onnx", cache_dir=onnx_cache)
    assert light.graph is not None
    full = Embedder(backend="torch")
    for text in [*TEXTS, "", "Bao nhiêu thẻ căn cước đã được cấp?", "x" * 3000]:
        for special in (True, False):
            ours = light.tokenizer(text, add_special_tokens=special, return_offsets_mapping=True)
            theirs = full.tokenizer(text, add_special_tokens=special, return_offsets_mapping=True)
            assert ours["input_ids"] == theirs["input_ids"]
            assert [tuple(o) for o in ours["offset_mapping"]] == [
                tuple(o) for o in theirs["offset_mapping"]
            ]
    documents = load_corpus(Path(__file__).parent / "fixtures" / "corpus")
    documents.append(documents[0].model_copy(update={"id": "long", "text": "y" * 4000}))

    def chunks(embedder: Embedder) -> list:
        splitter = Splitter(embedder.tokenizer, embedder.max_tokens, 120, 20)
        return [c for d in documents for c in splitter.split(d)]

    assert chunks(light) == chunks(full) and len(chunks(full)) > len(documents)


def test_a_graph_exported_from_other_weights_is_not_used_without_torch(onnx_cache):
    Embedder(backend="onnx", cache_dir=onnx_cache).warm_up()
    record_path = next(onnx_cache.glob("*-onnx")) / RECORD
    record = json.loads(record_path.read_text())
    assert Embedder(backend="onnx", cache_dir=onnx_cache).graph is not None
    record_path.write_text(json.dumps({**record, "weights_digest": "another model's"}))
    try:
        assert Embedder(backend="onnx", cache_dir=onnx_cache).graph is None
    finally:
        record_path.write_text(json.dumps(record))


@pytest.mark.slow
def test_int8_vectors_stay_within_the_measured_bound(torch_vectors, onnx_cache):
    int8 = Embedder(backend="onnx-int8", cache_dir=onnx_cache)
    cosines = _cosines(int8.encode(TEXTS), torch_vectors)
    assert cosines.min() > INT8_MIN_COSINE
    assert cosines.mean() > INT8_MEAN_COSINE
    assert cosines.min() < 0.9999  # it is a different model: hence the distinct recorded name


@pytest.mark.slow
def test_the_export_is_reused_and_remade_when_the_weights_differ(onnx_cache):
    first = Embedder(backend="onnx", cache_dir=onnx_cache)
    first.warm_up()
    folder = next(onnx_cache.glob("*-onnx"))
    made = (folder / GRAPH).stat().st_mtime_ns
    again = Embedder(backend="onnx", cache_dir=onnx_cache)
    again.warm_up()
    assert (folder / GRAPH).stat().st_mtime_ns == made  # loaded, not exported again
    record = json.loads((folder / RECORD).read_text())
    record["fingerprint"] = "weights of another model"
    record["weights_digest"] = "the weights file of another model"
    (folder / RECORD).write_text(json.dumps(record))
    Embedder(backend="onnx", cache_dir=onnx_cache).warm_up()
    assert (folder / GRAPH).stat().st_mtime_ns != made
    assert json.loads((folder / RECORD).read_text())["fingerprint"] != "weights of another model"
    assert not [p for p in onnx_cache.iterdir() if p.name.startswith(".")]  # no leftovers
