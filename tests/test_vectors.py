"""The dense index chosen by size: exact while small, IVF (tuned to a recall target) above."""

import json

import numpy as np
import pytest

from assistant.retriever import Retriever
from index.builder import build_index, index_status
from index.store import MANIFEST, DataDir
from index.vectors import EXACT, VectorIndex, VectorLayout, choose_factory, write_vectors


def clustered_unit_vectors(n: int, seed: int, dim: int = 64) -> np.ndarray:
    """Points around 40 centres, like embeddings of a corpus with topics (random uniform
    vectors have no near neighbours worth finding)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((40, dim))
    x = centres[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(vectors: np.ndarray, query: np.ndarray, n: int) -> np.ndarray:
    return np.argsort(-(vectors @ query), kind="stable")[:n]


def test_exact_up_to_the_limit_then_ivf_with_lists_growing_with_size():
    assert choose_factory(20_000, 20_000) == EXACT
    assert choose_factory(20_001, 20_000) == "IVF512,SQ8"
    assert choose_factory(1_000_000, 20_000) == "IVF4096,SQ8"
    assert choose_factory(6000, 1000) == "IVF128,SQ8"  # 39 training points per list at least
    assert choose_factory(10, 0) == "IVF1,SQ8"


def test_ivf_reaches_its_recall_target_and_scores_exactly(tmp_path):
    vectors = clustered_unit_vectors(6000, seed=1)
    queries = clustered_unit_vectors(50, seed=2)
    layout = write_vectors(tmp_path, vectors, exact_max_chunks=1000, recall_target=0.95)
    assert layout.factory == "IVF128,SQ8"
    assert layout.nprobe is not None and 1 <= layout.nprobe <= 128
    assert layout.recall_at_10 >= 0.95

    index = VectorIndex.load(tmp_path, layout)
    assert index.size == 6000
    found = 0
    for query in queries:
        rows, scores = index.search(query, 10)
        found += len(set(rows.tolist()) & set(exact_top(vectors, query, 10).tolist()))
        np.testing.assert_allclose(scores, vectors[rows] @ query, rtol=1e-5, atol=1e-6)
        assert list(scores) == sorted(scores, reverse=True)
    assert found / (10 * len(queries)) >= 0.9  # unseen queries: a little below the tuned target


def test_a_lower_recall_target_probes_fewer_lists(tmp_path):
    vectors = clustered_unit_vectors(6000, seed=1)
    (tmp_path / "low").mkdir()
    (tmp_path / "high").mkdir()
    low = write_vectors(tmp_path / "low", vectors, 1000, recall_target=0.5)
    high = write_vectors(tmp_path / "high", vectors, 1000, recall_target=0.99)
    assert low.nprobe < high.nprobe
    assert low.recall_at_10 < high.recall_at_10


@pytest.mark.parametrize("allowed", [30, 4000])
def test_filtered_search_returns_only_allowed_rows_best_first(tmp_path, allowed):
    vectors = clustered_unit_vectors(6000, seed=1)
    layout = write_vectors(tmp_path, vectors, exact_max_chunks=1000, recall_target=0.95)
    index = VectorIndex.load(tmp_path, layout)
    rows = np.random.default_rng(3).choice(6000, allowed, replace=False)
    query = clustered_unit_vectors(1, seed=4)[0]
    found, scores = index.search(query, 10, rows)
    assert set(found.tolist()) <= set(rows.tolist())
    assert len(found) == 10
    truth = rows[exact_top(vectors[rows], query, 10)]
    assert len(set(found.tolist()) & set(truth.tolist())) >= 8
    assert list(scores) == sorted(scores, reverse=True)


def test_exact_index_finds_the_true_neighbours(tmp_path):
    vectors = clustered_unit_vectors(500, seed=1)
    layout = write_vectors(tmp_path, vectors, exact_max_chunks=1000, recall_target=0.95)
    assert layout == VectorLayout(EXACT)
    index = VectorIndex.load(tmp_path, layout)
    query = clustered_unit_vectors(1, seed=5)[0]
    rows, _ = index.search(query, 10)
    assert rows.tolist() == exact_top(vectors, query, 10).tolist()
    np.testing.assert_array_equal(index.vectors_of(np.array([7, 3])), vectors[[7, 3]])


def test_index_type_is_recorded_and_a_changed_limit_makes_the_index_stale(writable_index, embedder):
    settings = writable_index.with_overrides(exact_max_chunks=0)
    assert index_status(settings) == (False, "changed: vector index type")
    build_index(settings, embedder=embedder)
    manifest = json.loads((DataDir(settings.data_dir).require_current() / MANIFEST).read_text())
    assert manifest["faiss_index"].startswith("IVF") and manifest["faiss_index"].endswith(",SQ8")
    assert manifest["nprobe"] >= 1 and manifest["ann_recall_at_10"] >= 0.95
    assert index_status(settings) == (True, "up to date")


def test_an_ivf_index_answers_like_the_exact_one(writable_index, fixture_settings, embedder):
    settings = writable_index.with_overrides(exact_max_chunks=0)
    build_index(settings, embedder=embedder)
    exact = Retriever.load(fixture_settings)
    approximate = Retriever.load(settings)
    for query in ("ID cards issued", "online public services", "steering committee meeting"):
        assert [p.id for p in approximate.search(query, k=3)] == [
            p.id for p in exact.search(query, k=3)
        ]
