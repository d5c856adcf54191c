"""`reformqa index build --engine ray`: Ray Data actors, in a Ray started on this machine, give
the index the default engine gives. (Ray 2.60 has no `local_mode` any more: a local Ray is a
real one, its processes on this machine only.)"""

import json
import sqlite3
import sys

import numpy as np
import pytest

from assistant.retriever import Retriever
from index import ray_engine
from index.builder import build_index
from index.reader import IndexReader
from index.settings import Settings
from index.snapshot import Snapshot
from index.store import DATABASE, DataDir, read_manifest
from tests.conftest import FIXTURE_CORPUS, run_cli

QUERIES = (
    "land certificates stored electronically",
    "how long does a certificate take?",
    "budget for 2024",
    "provinces paying fees online",
)


def test_an_unknown_engine_is_refused_before_anything_is_built(tmp_path):
    settings = Settings.from_env(environ={}, corpus_dir=FIXTURE_CORPUS, data_dir=tmp_path / "d")
    with pytest.raises(ValueError, match=r"unknown engine 'spark': choose one of local, ray"):
        build_index(settings, engine="spark")
    assert not (tmp_path / "d").exists()
    result = run_cli("index", "build", "--engine", "spark", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "argument --engine: invalid choice: 'spark'" in result.stderr
    assert "usage: reformqa index build" in result.stderr
    assert not (tmp_path / "d").exists()


def test_the_engine_flag_is_in_the_help():
    result = run_cli("index", "build", "--help")
    assert result.returncode == 0
    assert "--engine {local,ray}" in result.stdout and "RAY_ADDRESS" in result.stdout


def test_rows_come_back_in_input_order_whatever_order_ray_finishes_in():
    vectors = np.arange(12, dtype=np.float32).reshape(6, 2)
    batches = [
        {"row": np.array([4, 5]), "vector": vectors[[4, 5]]},
        {"row": np.array([0]), "vector": vectors[[0]]},
        {"row": np.array([3, 1, 2]), "vector": vectors[[3, 1, 2]]},
    ]
    np.testing.assert_array_equal(ray_engine._in_input_order(batches, 6), vectors)
    with pytest.raises(RuntimeError, match="5 rows for 6 texts"):
        ray_engine._in_input_order(batches[:1] + batches[2:], 6)
    with pytest.raises(RuntimeError, match="6 rows for 6 texts, not each one once"):
        twice = {"row": np.array([3, 1]), "vector": vectors[[3, 1]]}
        ray_engine._in_input_order([batches[0], batches[0], twice], 6)
    with pytest.raises(RuntimeError, match="0 rows for 6 texts"):
        ray_engine._in_input_order([], 6)


def test_without_ray_installed_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ray_engine.RayNotInstalled, match=r"pip install -e '\.\[ray\]'"):
        ray_engine.encode_with_ray(["a text"], Settings.from_env(environ={}))


def test_a_ray_that_cannot_be_started_or_joined_is_one_clear_error(monkeypatch):
    ray = ray_engine._import_ray()

    def refuse(**options):
        assert "num_cpus" not in options  # a cluster's resources are its own
        raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.9:6379")

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.9:6379")
    with pytest.raises(
        ray_engine.RayUnavailable,
        match=r"join the Ray cluster at RAY_ADDRESS=10\.0\.0\.9:6379: Failed to connect",
    ):
        ray_engine.encode_with_ray(["a text"], Settings.from_env(environ={}))


@pytest.mark.slow
def test_encoding_with_ray_gives_embedder_vectors_in_input_order_and_leaves_a_running_ray(
    embedder,
):
    """Several actors, batches of 4, texts of very different lengths: the rows still line up
    with the input. A Ray the caller started is used and left running."""
    ray = ray_engine._import_ray()  # with the settings a Ray started by the engine gets
    texts = [f"Report {i}: " + "the land registry moved online. " * (i % 7) for i in range(40)]
    settings = Settings.from_env(environ={})
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        vectors = ray_engine.encode_with_ray(texts, settings, rows_per_batch=4)
        assert ray.is_initialized()
    finally:
        ray.shutdown()
    assert vectors.dtype == np.float32 and vectors.shape == (40, 384)
    np.testing.assert_allclose(vectors, embedder.encode(texts), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_pooling_with_ray_gives_the_embedders_span_vectors_whatever_the_batches_hold(embedder):
    """Texts without spans (whole batches of them), with several, and one past the window."""
    texts = [f"Report {i}. " + "The land registry moved online. " * (i % 9) for i in range(30)]
    texts[-1] = "Word " * 300 + "Late."
    spans = [(i, 0, 9 + len(str(i))) for i in range(8, 30, 3)] + [(8, 11, 42), (29, 1500, 1505)]
    settings = Settings.from_env(environ={})
    vectors, pooled, found = ray_engine.pool_with_ray(texts, spans, settings, rows_per_batch=3)
    expected = embedder.encode_with_spans(texts, spans)
    np.testing.assert_allclose(vectors, expected[0], atol=1e-5)
    np.testing.assert_allclose(pooled, expected[1], atol=1e-5)
    assert found.tolist() == expected[2].tolist() and found[:-1].all() and not found[-1]


@pytest.mark.slow
def test_the_ray_engine_builds_the_same_index_as_the_default(tmp_path, fixture_settings, embedder):
    """`reformqa index build --engine ray --json` in a subprocess, against the session's index
    of the same corpus built by the default engine."""
    data_dir = tmp_path / "ray-data"
    result = run_cli(
        "index", "build", "--engine", "ray", "--json",
        "--corpus", str(FIXTURE_CORPUS), "--data-dir", str(data_dir),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    local = DataDir(fixture_settings.data_dir)
    assert report["engine"] == "ray" and report["skipped"] is False
    assert report["chunks"] == local.read_manifest().chunks > 0
    ray_settings = fixture_settings.with_overrides(data_dir=data_dir)

    _assert_same_manifest(local, DataDir(data_dir))
    _assert_same_rows(local.require_current(), DataDir(data_dir).require_current())
    _assert_same_vectors(local.require_current(), DataDir(data_dir).require_current())
    for query in QUERIES:
        expected = _search(fixture_settings, embedder, query)
        found = _search(ray_settings, embedder, query)
        assert [p.id for p in found] == [p.id for p in expected], query
        np.testing.assert_allclose([p.score for p in found], [p.score for p in expected], atol=1e-4)


def _assert_same_manifest(local: DataDir, ray: DataDir) -> None:
    when = {"built_at": True, "build_seconds": True, "segments": {"__all__": {"name"}}}
    expected = local.read_manifest().model_dump(exclude=when)
    assert ray.read_manifest().model_dump(exclude=when) == expected


def _assert_same_rows(local, ray) -> None:
    for table, order in (("documents", "id"), ("chunks", "rowid"), ("figures", "rowid"),
                         ("sentences", "rowid")):  # fmt: skip
        rows = [_rows(_database(version), table, order) for version in (local, ray)]
        assert rows[0] == rows[1] and rows[0], table


def _database(version):
    return version / read_manifest(version).segments[0].name / DATABASE  # a build: one segment


def _rows(path, table: str, order: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(f"SELECT rowid, * FROM {table} ORDER BY {order}").fetchall()
    finally:
        conn.close()


def _assert_same_vectors(local, ray) -> None:
    expected = Snapshot.read_version(local, read_manifest(local))
    got = Snapshot.read_version(ray, read_manifest(ray))
    assert got.chunk_vectors.shape == expected.chunk_vectors.shape
    assert got.sentence_vectors.shape == expected.sentence_vectors.shape
    np.testing.assert_allclose(got.chunk_vectors, expected.chunk_vectors, atol=1e-5)
    np.testing.assert_allclose(got.sentence_vectors, expected.sentence_vectors, atol=1e-5)


def _search(settings: Settings, embedder, query: str):
    retriever = Retriever(IndexReader.open(settings.data_dir, embedder.name), embedder, settings)
    passages = retriever.search(query, k=5)
    assert len(passages) == min(5, retriever.reader.manifest.chunks), query
    return passages
