"""Writes and the folders they touch: a server not told its corpus folder writes where the
index was built from; a delete killed half-way is put right at start-up; a write that waits
too long for another gets a 503 it can retry."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.app import RetrieverSlot
from assistant.cli import main
from index.builder import index_status
from index.errors import Conflict
from index.store import DataDir
from index.tokens import seed_tiktoken_cache, use_tiktoken_cache
from index.updater import add_document, remove_document
from tests.conftest import DOCS_CORPUS, KEY, start_server, stop_server
from tests.test_api import _assert_problem

HANOI = "Hanoi opened 42 new one-stop shops for business licences in 2024.\n"


class _Killed(BaseException):
    """Stands for kill -9: nothing after it runs, no `except Exception` catches it."""


def _kill_at_publish(monkeypatch) -> None:
    def killed(self, staging):
        raise _Killed

    monkeypatch.setattr(DataDir, "publish", killed)


def _listed(settings) -> set[str]:
    seed_tiktoken_cache(settings.tiktoken_cache_dir)  # as create_app does
    use_tiktoken_cache(settings.tiktoken_cache_dir)
    slot = RetrieverSlot()  # what a server does when it starts
    slot.load(settings)
    return {d.id for d in slot.get().reader.documents(with_text=False)}


def _loaded_app(settings):
    slot = RetrieverSlot()
    app = create_app(settings, slot=slot)  # seeds the tiktoken cache the load needs
    slot.load(settings)
    return app


# -- the corpus folder --------------------------------------------------------------------


def test_a_server_not_given_a_corpus_writes_where_the_index_was_built_from(writable_index):
    settings = writable_index  # built from <tmp>/corpus, not ./docs_corpus
    server = start_server(settings, corpus=False)
    try:
        added = httpx.post(
            f"{server.base_url}/v1/documents",
            json={"text": HANOI, "id": "hanoi"},
            headers={"X-API-Key": KEY},
            timeout=120,
        )
        assert added.status_code == 201, added.text
        assert (settings.corpus_dir / "hanoi.md").is_file()
        assert not (DOCS_CORPUS / "hanoi.md").exists()
        assert index_status(settings) == (True, "up to date")
        gone = httpx.delete(
            f"{server.base_url}/v1/documents/land_registry", headers={"X-API-Key": KEY}
        )
        assert gone.status_code == 204, gone.text
        assert not (settings.corpus_dir / "land_registry.txt").exists()
        assert index_status(settings) == (True, "up to date")
    finally:
        stop_server(server)


def test_a_corpus_folder_given_explicitly_that_is_not_the_index_s_is_refused(
    writable_index, embedder, tmp_path
):
    elsewhere = writable_index.with_overrides(corpus_dir=tmp_path / "elsewhere")
    with pytest.raises(Conflict, match="--corpus"):
        add_document(elsewhere, embedder, HANOI.encode(), {}, "hanoi")
    assert not (tmp_path / "elsewhere").exists()


# -- a delete killed half-way ---------------------------------------------------------------


def test_a_delete_killed_before_its_publish_is_undone_when_the_server_starts(
    writable_index, embedder, monkeypatch
):
    corpus_file = writable_index.corpus_dir / "land_registry.txt"
    _kill_at_publish(monkeypatch)
    with pytest.raises(_Killed):
        remove_document(writable_index, embedder, "land_registry")
    monkeypatch.undo()
    listed = _listed(writable_index)
    assert ("land_registry" in listed) == corpus_file.is_file()
    assert "land_registry" in listed  # the index was the old one: so is the corpus now
    assert index_status(writable_index) == (True, "up to date")


def test_a_killed_delete_is_undone_by_index_build_if_stale(writable_index, embedder, monkeypatch):
    _kill_at_publish(monkeypatch)
    with pytest.raises(_Killed):
        remove_document(writable_index, embedder, "land_registry")
    monkeypatch.undo()
    assert index_status(writable_index)[0] is False  # the file is out of sight, not gone
    paths = ["--corpus", str(writable_index.corpus_dir), "--data-dir", str(writable_index.data_dir)]
    version = DataDir(writable_index.data_dir).require_current()
    assert main(["index", "build", "--if-stale", *paths]) == 0
    assert DataDir(writable_index.data_dir).require_current() == version  # no rebuild needed
    assert index_status(writable_index) == (True, "up to date")


def test_a_delete_killed_after_its_publish_is_finished_when_the_server_starts(
    writable_index, embedder, monkeypatch
):
    publish = DataDir.publish

    def published_then_killed(self, staging):
        publish(self, staging)
        raise _Killed

    monkeypatch.setattr(DataDir, "publish", published_then_killed)
    with pytest.raises(_Killed):
        remove_document(writable_index, embedder, "land_registry")
    monkeypatch.undo()
    assert "land_registry" not in _listed(writable_index)
    assert not list(writable_index.corpus_dir.rglob("*land_registry*"))
    assert index_status(writable_index) == (True, "up to date")


# -- a write waiting for another ------------------------------------------------------------


def test_a_write_waiting_past_write_wait_seconds_gets_a_503_to_retry(writable_index):
    settings = writable_index.with_overrides(api_keys="k-one", write_wait_seconds=0.3)
    with TestClient(_loaded_app(settings)) as client:
        with DataDir(settings.data_dir).build_lock():  # another write, in another process
            reply = client.delete("/v1/documents/land_registry", headers={"X-API-Key": "k-one"})
        _assert_problem(reply, 503, "another change to the index")
        assert int(reply.headers["retry-after"]) >= 1
        assert "0.3 s" in reply.json()["detail"]
        assert client.get("/v1/documents/land_registry").status_code == 200


def test_writes_waiting_their_turn_leave_the_request_threads_to_reads(writable_index):
    """Two request threads and three writes waiting on a running one: reads still answer
    while the writes wait, instead of queueing behind them until they give up."""
    settings = writable_index.with_overrides(
        api_keys="k-one", write_wait_seconds=20, request_threads=2, write_rate=0
    )
    done: list[str] = []
    with TestClient(_loaded_app(settings)) as client:

        def delete() -> None:
            client.delete("/v1/documents/no-such-doc", headers={"X-API-Key": "k-one"})
            done.append("write")

        with DataDir(settings.data_dir).build_lock():  # a write running in another process
            writers = [threading.Thread(target=delete) for _ in range(3)]
            for writer in writers:
                writer.start()
            time.sleep(0.5)  # let them all start waiting
            assert client.get("/v1/documents").status_code == 200
            done.append("read")
        for writer in writers:
            writer.join(timeout=60)
    assert done[0] == "read" and done.count("write") == 3
