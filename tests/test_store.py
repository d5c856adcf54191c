import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from assistant.retriever import Retriever
from index import store
from index.builder import PIPELINE_VERSION, build_index, index_status
from index.errors import BadDocument, EmptyCorpus, IndexMismatch, IndexNotFound
from index.reader import IndexReader
from index.settings import Settings
from index.store import FORMAT_VERSION, MANIFEST, DataDir
from index.updater import add_document
from tests.conftest import ROOT


def test_manifest_describes_the_build(fixture_settings):
    version = DataDir(fixture_settings.data_dir).require_current()
    manifest = json.loads((version / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    expected = {
        "chunk_tokens": 200,
        "chunk_overlap": 50,
        "sentence_vectors": Settings().sentence_vectors,
        "pipeline": PIPELINE_VERSION,
    }
    assert manifest["chunker"] == expected
    assert len(manifest["corpus_hash"]) == 64
    assert manifest["documents"] == 4 and manifest["chunks"] >= 4
    assert manifest["built_at"]


def test_no_pickle_anywhere_in_the_index(fixture_settings):
    version = DataDir(fixture_settings.data_dir).require_current()
    for path in version.rglob("*"):
        assert path.suffix not in (".pkl", ".pickle", ".joblib")
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)


def test_an_unchanged_corpus_is_not_rebuilt_and_a_change_is_noticed(writable_index):
    assert index_status(writable_index) == (True, "up to date")
    assert build_index(writable_index, if_stale=True).skipped
    (writable_index.corpus_dir / "new.txt").write_text("A new report on 12 new procedures.")
    fresh, reason = index_status(writable_index)
    assert not fresh and reason == "changed: corpus"
    fresh, reason = index_status(writable_index.with_overrides(chunk_tokens=100))
    assert not fresh and "chunker settings" in reason


def test_an_index_built_with_another_model_is_refused_with_what_to_run(writable_index):
    version = DataDir(writable_index.data_dir).require_current()
    manifest = json.loads((version / MANIFEST).read_text())
    (version / MANIFEST).write_text(json.dumps({**manifest, "model": "other/model"}))
    with pytest.raises(
        IndexMismatch, match=r"built with model 'other/model'.*reformqa index build"
    ):
        Retriever.load(writable_index)
    (version / MANIFEST).write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(IndexMismatch, match=r"format version 99.*reformqa index build"):
        IndexReader.open(writable_index.data_dir, manifest["model"])


def test_a_missing_index_says_what_to_run(tmp_path, fixture_settings):
    with pytest.raises(IndexNotFound, match="reformqa index build"):
        Retriever.load(fixture_settings.with_overrides(data_dir=tmp_path / "nothing"))


def test_a_bad_file_fails_the_build_before_anything_is_written(writable_index, embedder):
    before = DataDir(writable_index.data_dir).require_current()
    (writable_index.corpus_dir / "scan.txt").write_bytes(b"\x00\x01binary")
    with pytest.raises(BadDocument, match=r"scan\.txt is a binary file"):
        build_index(writable_index, embedder=embedder)
    assert DataDir(writable_index.data_dir).require_current() == before
    assert not list((writable_index.data_dir / "versions").glob(".staging-*"))


def test_an_empty_corpus_fails_the_build(tmp_path, fixture_settings, embedder):
    (tmp_path / "empty").mkdir()
    settings = fixture_settings.with_overrides(corpus_dir=tmp_path / "empty", data_dir=tmp_path)
    with pytest.raises(EmptyCorpus):
        build_index(settings, embedder=embedder)


def test_a_rebuild_swaps_versions_and_removes_retired_ones(writable_index, embedder, monkeypatch):
    """The previous version stays for requests still reading it; older ones are removed once
    they have been retired for the grace period (zero here)."""
    monkeypatch.setattr(store, "RETIRED_GRACE_SECONDS", 0.0)
    data_dir = DataDir(writable_index.data_dir)
    first = data_dir.require_current()
    (writable_index.corpus_dir / "new.txt").write_text("Officials approved 12 new procedures.")
    second = build_index(writable_index, embedder=embedder)
    assert second.version == data_dir.require_current() != first
    assert first.exists() and second.documents == 5
    (writable_index.corpus_dir / "newer.txt").write_text("Officials approved 14 procedures.")
    third = build_index(writable_index, embedder=embedder)
    assert sorted(data_dir.versions.glob("v-*")) == sorted([second.version, third.version])
    assert not first.exists()


def test_a_killed_build_leaves_the_previous_index_working(writable_index, embedder):
    """kill -9 in the middle of a real build: the old version stays current and loadable."""
    data_dir = DataDir(writable_index.data_dir)
    before = data_dir.require_current()
    for i in range(40):  # enough text that embedding takes several seconds
        body = " ".join(
            f"District {i} processed {n} dossiers online in week {n}." for n in range(30)
        )
        (writable_index.corpus_dir / f"bulk_{i:03d}.txt").write_text(body)
    build = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "index", "build",
         "--corpus", str(writable_index.corpus_dir), "--data-dir", str(writable_index.data_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # the staging folder comes first; nothing is written into it until every text is
        # encoded, which takes seconds here: kill it while it loads the model or encodes
        _wait_for(lambda: list(data_dir.versions.glob(".staging-*")) or build.poll() is not None)
        time.sleep(0.5)
        assert build.poll() is None, "the build finished before it could be killed"
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        build.kill()
    assert data_dir.require_current() == before
    assert list(data_dir.versions.glob(".staging-*")), "a killed build leaves its staging folder"
    passages = Retriever.load(writable_index).search("land-use certificates online", k=1)
    assert passages[0].doc_id == "land_registry"
    for bulk in writable_index.corpus_dir.glob("bulk_*.txt"):
        bulk.unlink()
    build_index(writable_index, embedder=embedder)  # the next build clears the leftover
    assert not list(data_dir.versions.glob(".staging-*"))
    assert data_dir.require_current() != before


def _wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_burst_of_adds_keeps_at_most_keep_versions_versions(writable_index, embedder):
    """Within the grace period too: the current version and the last ones it replaced stay,
    anything older goes at the next publish."""
    settings = writable_index.with_overrides(keep_versions=3)
    data_dir = DataDir(settings.data_dir)
    published = [data_dir.require_current()]
    for n in range(5):
        text = f"District {n} processed {100 + n} dossiers online in 2024.\n"
        published.append(add_document(settings, embedder, text.encode(), {}, f"burst-{n}").version)
        kept = sorted(data_dir.versions.glob("v-*"))
        assert kept == sorted(published[-3:])
    assert Retriever.load(settings).search("District 4 dossiers", k=1)[0].doc_id == "burst-4"
