"""The dense side of the index: FAISS, inner product over normalized vectors.

Exact search (`Flat`) up to `Settings.exact_max_chunks` chunks; above that, an inverted file
with 8-bit scalar quantization (`IVF<nlist>,SQ8`, a quarter of the memory of float32) whose
`nprobe` is tuned at build time until recall@10 against exact search reaches
`Settings.ann_recall`. The exact float32 vectors are kept beside it (`vectors.npy`, memory-
mapped, so only the rows read are paged in): candidates are re-scored exactly, a filter that
leaves few rows is searched exactly over those rows, and updates copy vectors rather than
encode them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FAISS_FILE = "vectors.faiss"
EXACT_FILE = "vectors.npy"
EXACT = "Flat"
_NPROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_TUNING_QUERIES = 200
_TRAINING_POINTS_PER_LIST = 50  # FAISS warns below 39
_FEW_ROWS = 50_000  # a filter leaving at most this many rows is searched exactly over them


@dataclass(frozen=True)
class VectorLayout:
    """What the manifest records about the dense index."""

    factory: str  # a FAISS index_factory string: "Flat" or "IVF<nlist>,SQ8"
    nprobe: int | None = None  # inverted lists searched per query (IVF only)
    recall_at_10: float | None = None  # measured against exact search at build time

    @classmethod
    def of(cls, manifest) -> VectorLayout:
        """The layout a version's manifest (index.store.Manifest) records."""
        return cls(manifest.faiss_index, manifest.nprobe, manifest.ann_recall_at_10)

    def manifest_fields(self) -> dict:
        """The manifest fields that record this layout."""
        return {"faiss_index": self.factory, "nprobe": self.nprobe,
                "ann_recall_at_10": self.recall_at_10}  # fmt: skip


def choose_factory(n: int, exact_max_chunks: int) -> str:
    """Exact while small; IVF with about 4·sqrt(n) lists (a power of two) above that, and
    never fewer than 39 points to train each list on."""
    if n <= exact_max_chunks:
        return EXACT
    nlist = 2 ** round(math.log2(4 * math.sqrt(n)))
    trainable = 2 ** math.floor(math.log2(max(1, n // 39)))
    return f"IVF{min(nlist, trainable)},SQ8"


def write_vectors(
    folder: Path,
    vectors: np.ndarray,
    exact_max_chunks: int,
    recall_target: float,
    tuning_queries: np.ndarray | None = None,
) -> VectorLayout:
    """Write the FAISS index and the exact vectors; `tuning_queries` (e.g. sentence vectors,
    which resemble questions) tune nprobe, else a sample of the vectors themselves does."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    np.save(folder / EXACT_FILE, vectors)
    factory = choose_factory(len(vectors), exact_max_chunks)
    index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
    layout = VectorLayout(factory)
    if factory != EXACT:
        _train(index, vectors)
    index.add(vectors)  # ids are rows 0..n-1
    if factory != EXACT:
        has_queries = tuning_queries is not None and len(tuning_queries) > 0
        queries = _sample(tuning_queries if has_queries else vectors)
        layout = VectorLayout(factory, *tune_nprobe(index, vectors, queries, recall_target))
    faiss.write_index(index, str(folder / FAISS_FILE))
    return layout


def read_exact_vectors(folder: Path) -> np.ndarray:
    return np.load(folder / EXACT_FILE)


def _train(index, vectors: np.ndarray) -> None:
    import faiss

    nlist = faiss.extract_index_ivf(index).nlist
    size = min(len(vectors), nlist * _TRAINING_POINTS_PER_LIST)
    rows = np.random.default_rng(0).choice(len(vectors), size, replace=False)
    index.train(vectors[np.sort(rows)])


def _sample(vectors: np.ndarray) -> np.ndarray:
    if len(vectors) <= _TUNING_QUERIES:
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.random.default_rng(1).choice(len(vectors), _TUNING_QUERIES, replace=False)
    return np.ascontiguousarray(vectors[np.sort(rows)], dtype=np.float32)


def tune_nprobe(index, vectors: np.ndarray, queries: np.ndarray, target: float):
    """(the smallest nprobe whose recall@10 reaches `target`, that recall)."""
    import faiss

    k = min(10, len(vectors))
    _, truth = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    recall = 0.0
    for nprobe in (p for p in _NPROBES if p <= ivf.nlist):
        ivf.nprobe = nprobe
        _, found = index.search(queries, k)
        recall = recall_at(found, truth)
        if recall >= target:
            break
    return ivf.nprobe, round(recall, 4)


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each true top-k found among the returned k."""
    pairs = zip(found.tolist(), truth.tolist(), strict=True)
    return sum(len(set(f) & set(t)) for f, t in pairs) / truth.size


class VectorIndex:
    """`search(vector, n, rows)`: the n nearest rows (optionally among `rows`), exact scores."""

    def __init__(self, index, exact: np.ndarray, layout: VectorLayout, nprobe: int = 0):
        import faiss

        self._index = index
        self.exact = exact
        self.layout = layout
        self._params = None
        if layout.factory != EXACT:
            self._params = faiss.SearchParametersIVF(nprobe=nprobe or layout.nprobe or 1)

    @classmethod
    def load(cls, folder: Path, layout: VectorLayout, nprobe: int = 0) -> VectorIndex:
        """An exact index is memory-mapped (opening copies nothing, searching is as fast); an
        IVF one is read into memory: searching its mapped lists was measured 3.7x slower."""
        import faiss

        flags = faiss.IO_FLAG_MMAP if layout.factory == EXACT else 0
        index = faiss.read_index(str(folder / FAISS_FILE), flags)
        exact = np.load(folder / EXACT_FILE, mmap_mode="r")
        return cls(index, exact, layout, nprobe)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def search(self, vector: np.ndarray, n: int, rows: np.ndarray | None = None):
        """(rows, exact inner products) of the n nearest, best first."""
        if rows is not None and len(rows) <= _FEW_ROWS:
            return self._search_rows(vector, n, rows)
        n = min(n, self.size)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self._index.search(vector.reshape(1, -1), n, params=self._search_params(rows))
        found = ids[0][ids[0] >= 0]
        if self.layout.factory == EXACT:
            return found, scores[0][ids[0] >= 0]
        return self._rescored(vector, found)

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.exact[np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def _search_params(self, rows: np.ndarray | None):
        import faiss

        if rows is None:
            return self._params
        selector = faiss.IDSelectorBatch(rows.astype(np.int64))
        if self._params is None:
            return faiss.SearchParameters(sel=selector)
        # Probe more lists as the filter keeps fewer rows, so as many allowed rows are scanned
        nlist = faiss.extract_index_ivf(self._index).nlist
        nprobe = math.ceil(self._params.nprobe * self.size / max(len(rows), 1))
        return faiss.SearchParametersIVF(sel=selector, nprobe=min(nlist, nprobe))

    def _search_rows(self, vector: np.ndarray, n: int, rows: np.ndarray):
        """Exact search over a few rows: cheaper and surer than probing for them."""
        rows = np.asarray(rows, dtype=np.int64)
        scores = self.vectors_of(rows) @ vector
        best = np.argsort(-scores, kind="stable")[: min(n, len(rows))]
        return rows[best], scores[best]

    def _rescored(self, vector: np.ndarray, rows: np.ndarray):
        scores = self.vectors_of(rows) @ vector
        order = np.argsort(-scores, kind="stable")
        return rows[order], scores[order]
