"""Segments: an add writes one beside links to the others, a delete lists a tombstone, a
compaction merges them. Each state searches as a rebuild of the same documents would (scores
and BM25 statistics included), and a kill at any moment leaves a whole index."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from assistant.retriever import Retriever
from index.builder import build_index
from index.reader import IndexReader
from index.snapshot import Snapshot
from index.store import DataDir, read_manifest
from index.updater import add_document, compact, remove_document
from tests.conftest import KEY, ROOT, start_server, stop_server
from tests.test_documents import HANOI, _keyword_scores_by_chunk, assert_whole

DANANG = (
    "---\ntitle: Da Nang digital services\ndate: 2024-06-01\n---\n"
    "Da Nang moved 210 procedures online in 2024 and cut processing time for land dossiers by "
    "a third. The city handled 85,000 dossiers through its one-stop shops."
)
QUERIES = [
    "one-stop shops in Hanoi", "land certificates", "budget for 2024", "dossiers",
    "Da Nang procedures online",
]  # fmt: skip


def _assert_same_as_rebuild(settings, embedder) -> None:
    ours = Retriever(IndexReader.open(settings.data_dir, embedder.name), embedder, settings)
    rebuilt_settings = settings.with_overrides(data_dir=settings.data_dir.parent / "rebuilt")
    build_index(rebuilt_settings, embedder=embedder)
    theirs = Retriever(
        IndexReader.open(rebuilt_settings.data_dir, embedder.name), embedder, rebuilt_settings
    )
    matched = 0
    for query in QUERIES:
        assert [(p.id, p.score, p.figures) for p in ours.search(query, k=5)] == [
            (p.id, p.score, p.figures) for p in theirs.search(query, k=5)
        ], query
        keyword = _keyword_scores_by_chunk(ours.reader, query)
        assert keyword == _keyword_scores_by_chunk(theirs.reader, query), query
        matched += len(keyword)
    assert matched >= 4
    assert_whole(ours.reader)
    assert sorted(d.id for d in ours.reader.documents()) == sorted(
        d.id for d in theirs.reader.documents()
    )


def _segments(settings) -> list:
    return read_manifest(DataDir(settings.data_dir).require_current()).segments


def test_an_add_links_the_current_segments_and_writes_only_the_new_document(
    writable_index, embedder
):
    before = DataDir(writable_index.data_dir).require_current()
    [base] = read_manifest(before).segments
    change = add_document(writable_index, embedder, HANOI.encode(), {}, "hanoi")
    first, added = _segments(writable_index)
    assert first == base and added.documents == 1 and added.chunks == change.document.chunks
    for name in ("store.sqlite", "vectors.npy", "vectors.faiss", "bm25/tf.npy"):
        old, new = before / base.name / name, change.version / base.name / name
        assert os.stat(old).st_ino == os.stat(new).st_ino, name  # a hard link: no byte copied

    remove_document(writable_index, embedder, "land_registry")
    first, second = _segments(writable_index)
    assert first.deleted == ["land_registry"] and second == added
    remove_document(writable_index, embedder, "hanoi")  # its segment has nothing left: dropped
    assert [s.name for s in _segments(writable_index)] == [base.name]


def test_compaction_merges_the_segments_into_the_index_a_rebuild_would(writable_index, embedder):
    settings = writable_index
    add_document(settings, embedder, HANOI.encode(), {}, "hanoi")
    add_document(settings, embedder, DANANG.encode(), {}, "danang")
    remove_document(settings, embedder, "land_registry")
    assert len(_segments(settings)) == 3
    _assert_same_as_rebuild(settings, embedder)  # three segments, one tombstone

    compact(settings)
    [merged] = _segments(settings)
    assert (
        merged.deleted == []
        and merged.documents
        == read_manifest(DataDir(settings.data_dir).require_current()).documents
    )
    _assert_same_as_rebuild(settings, embedder)
    assert compact(settings) is None  # one segment, nothing deleted: nothing to do


def test_writes_made_during_a_compaction_are_kept_by_its_publish(
    writable_index, embedder, monkeypatch
):
    """The merge runs without the build lock: an add and a delete land while it runs, and the
    compaction's publish keeps both (the delete as a tombstone in the merged segment)."""
    settings = writable_index
    add_document(settings, embedder, DANANG.encode(), {}, "danang")
    write_segment = Snapshot.write_segment
    during = []

    def write_and_meanwhile(self, staging, *args, **kwargs):
        if not during and staging.name.startswith(".compacting-"):
            during.append(add_document(settings, embedder, HANOI.encode(), {}, "hanoi"))
            during.append(remove_document(settings, embedder, "land_registry"))
        return write_segment(self, staging, *args, **kwargs)

    monkeypatch.setattr(Snapshot, "write_segment", write_and_meanwhile)
    compact(settings)
    merged, later = _segments(settings)
    assert len(during) == 2 and merged.deleted == ["land_registry"]
    assert later.documents == 1 and later.deleted == []
    monkeypatch.setattr(Snapshot, "write_segment", write_segment)
    _assert_same_as_rebuild(settings, embedder)


KILLED_COMPACTION = """
import sys, time
from index.settings import Settings
from index.store import DataDir
from index.updater import compact

def stalled_publish(self, staging):
    print("publishing", flush=True)
    time.sleep(600)

DataDir.publish = stalled_publish
compact(Settings.from_env(data_dir=sys.argv[1], corpus_dir=sys.argv[2]))
"""


def test_a_compaction_killed_before_its_publish_leaves_the_index_whole(writable_index, embedder):
    """A real SIGKILL of a real compaction, once its merged segment is written: the index is the
    one before it, whole, and the next compaction clears the leftovers and merges."""
    settings = writable_index
    add_document(settings, embedder, HANOI.encode(), {}, "hanoi")
    remove_document(settings, embedder, "land_registry")
    before = DataDir(settings.data_dir).require_current()
    script = textwrap.dedent(KILLED_COMPACTION)
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(settings.data_dir), str(settings.corpus_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout.readline().strip() == "publishing"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    versions = settings.data_dir / "versions"
    assert list(versions.glob(".compacting-*")), "the kill came before the publish"
    assert DataDir(settings.data_dir).require_current() == before
    assert_whole(IndexReader.open(settings.data_dir, embedder.name))

    compact(settings)
    assert not list(versions.glob(".compacting-*"))
    assert len(_segments(settings)) == 1
    _assert_same_as_rebuild(settings, embedder)


def test_the_server_compacts_in_the_background_past_max_segments(writable_index):
    settings = writable_index
    server = start_server(settings, REFORMQA_MAX_SEGMENTS="2")
    try:
        for doc_id, text in (("hanoi", HANOI), ("danang", DANANG)):
            response = httpx.post(
                f"{server.base_url}/v1/documents", json={"text": text, "id": doc_id},
                headers={"X-API-Key": KEY}, timeout=120,
            )  # fmt: skip
            assert response.status_code == 201, response.text
        deadline = time.monotonic() + 120
        while len(_segments(settings)) > 1:  # three segments: one over the limit
            assert time.monotonic() < deadline, (settings.data_dir / "compaction.log").read_text()
            time.sleep(0.2)
        body = {"query": "Da Nang moved procedures online", "top_k": 1}
        merged = str(DataDir(settings.data_dir).require_current())
        deadline = time.monotonic() + 30
        maps = f"/proc/{server.process.pid}/maps"  # the files the server has memory-mapped
        while True:  # the first request after the publish opens the merged version
            httpx.post(f"{server.base_url}/v1/search", json=body)
            if merged in Path(maps).read_text():
                break
            assert time.monotonic() < deadline, "the server never opened the merged version"
            time.sleep(0.2)
        found = httpx.post(f"{server.base_url}/v1/search", json=body).json()
        assert found["passages"][0]["doc_id"] == "danang"
    finally:
        stop_server(server)


def test_the_corpus_hash_reads_only_files_changed_since_it_last_ran(tmp_path, monkeypatch):
    """An add hashes the corpus twice; with the digest cache a large corpus is stat'ed, not
    read, and an edit is still seen."""
    from index.loader import corpus_hash

    corpus, cache = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    for name in ("a.md", "b.md"):
        (corpus / name).write_text(f"text of {name}\n")
        os.utime(corpus / name, (time.time() - 60, time.time() - 60))
    files = [corpus / "a.md", corpus / "b.md"]
    first = corpus_hash(files, corpus, cache)
    assert first == corpus_hash(files, corpus)  # the cache changes the cost, not the hash

    def no_reading(self):
        raise AssertionError(f"{self} was read again")

    with monkeypatch.context() as patched:
        patched.setattr(Path, "read_bytes", no_reading)
        assert corpus_hash(files, corpus, cache) == first
    (corpus / "b.md").write_text("text of b.md, edited\n")
    assert corpus_hash(files, corpus, cache) != first


def test_an_add_and_a_delete_read_no_other_corpus_file(writable_index, embedder, monkeypatch):
    """The corpus hash is a sum of one term per file: a change moves it by its own file's term,
    and the index stays exactly as fresh as a full hash says."""
    from index import loader
    from index.builder import index_status

    def no_hashing(self, name):
        raise AssertionError(f"{name} was hashed")

    with monkeypatch.context() as patched:
        patched.setattr(loader._DigestCache, "digest", no_hashing)
        add_document(writable_index, embedder, HANOI.encode(), {"title": "Hanoi"}, "hanoi")
        remove_document(writable_index, embedder, "land_registry")
    assert index_status(writable_index) == (True, "up to date")  # the full hash agrees
