"""Per-client rate limits on feedback and writes, and the cap on the feedback file: a client
that posts too fast gets 429 with Retry-After, a full feedback store refuses with 507 and keeps
what it holds. In process, with no index: the limits answer before any index is needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.app import RetrieverSlot
from assistant.feedback import read_feedback
from index.settings import Settings
from tests.test_api import _assert_problem

RATING = {"rating": "up", "question": "How many shops?", "answer": "42 [1]."}


@pytest.fixture(autouse=True)
def _no_limits_from_the_environment(monkeypatch):
    for name in ("FEEDBACK_DB", "FEEDBACK_RATE", "WRITE_RATE", "FEEDBACK_MAX_BYTES"):
        monkeypatch.delenv(f"REFORMQA_{name}", raising=False)


def _client(settings: Settings, address: str = "203.0.113.7") -> TestClient:
    return TestClient(create_app(settings, slot=RetrieverSlot()), client=(address, 50000))


def _stored(settings: Settings) -> int:
    return len(list(read_feedback(settings.feedback_path())))


def test_feedback_past_the_rate_gets_a_429_with_retry_after_and_is_not_stored(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, feedback_rate=3)
    with _client(settings) as client:
        assert [client.post("/v1/feedback", json=RATING).status_code for _ in range(3)] == [201] * 3
        refused = client.post("/v1/feedback", json=RATING)
    _assert_problem(refused, 429, "3 requests a minute")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert _stored(settings) == 3


def test_each_address_and_each_valid_key_has_its_own_allowance(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, feedback_rate=1, api_keys="k-one")
    app = create_app(settings, slot=RetrieverSlot())
    with TestClient(app, client=("203.0.113.7", 1)) as first:
        assert first.post("/v1/feedback", json=RATING).status_code == 201
        assert first.post("/v1/feedback", json=RATING).status_code == 429
        # an invented key is no way around the limit: only a configured key names a client
        invented = first.post("/v1/feedback", json=RATING, headers={"X-API-Key": "made-up"})
        assert invented.status_code == 429
        keyed = first.post("/v1/feedback", json=RATING, headers={"X-API-Key": "k-one"})
        assert keyed.status_code == 201
    with TestClient(app, client=("198.51.100.9", 1)) as second:
        assert second.post("/v1/feedback", json=RATING).status_code == 201


def test_a_rate_of_zero_means_no_limit(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, feedback_rate=0)
    with _client(settings) as client:
        assert {client.post("/v1/feedback", json=RATING).status_code for _ in range(80)} == {201}


def test_writes_have_their_own_rate_limit(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, write_rate=2, api_keys="k-one")
    key = {"X-API-Key": "k-one"}
    with _client(settings) as client:
        for _ in range(2):  # no index is loaded: allowed through, the writes get 503
            assert client.delete("/v1/documents/some-doc", headers=key).status_code == 503
        _assert_problem(client.delete("/v1/documents/some-doc", headers=key), 429, "retry in")
        refused = client.post("/v1/documents", json={"text": "Hanoi opened 42 shops."}, headers=key)
        _assert_problem(refused, 429, "2 requests a minute")
        assert "retry-after" in refused.headers
        assert client.post("/v1/feedback", json=RATING).status_code == 201  # another allowance


def test_a_full_feedback_store_refuses_with_507_and_keeps_what_it_holds(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, feedback_rate=0, feedback_max_bytes=64_000)
    big = {**RATING, "answer": "a" * 20_000}
    with _client(settings) as client:
        statuses = [client.post("/v1/feedback", json=big).status_code for _ in range(12)]
        kept = _stored(settings)
        assert statuses[:kept] == [201] * kept and 0 < kept < 12
        _assert_problem(client.post("/v1/feedback", json=big), 507, "REFORMQA_FEEDBACK_MAX_BYTES")
    assert _stored(settings) == kept
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("feedback.sqlite3*"))
    assert on_disk < 64_000 + 2 * 24_000  # the cap, plus at most the entry that crossed it
