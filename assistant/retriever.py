"""Hybrid retrieval: dense (FAISS) and BM25 candidates, scored exactly by both, then fused."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

import numpy as np

from assistant.fusion import rrf_fusion, weighted_fusion
from index.embedder import Embedder
from index.errors import BadQuery
from index.loader import page_of
from index.reader import IndexReader
from index.settings import Settings
from index.types import Filters, Passage

Mode = Literal["hybrid", "dense", "bm25"]


class Retriever:
    """`search(query, k, filters)` returns the k best passages, best first."""

    def __init__(self, reader: IndexReader, embedder: Embedder, settings: Settings):
        self.reader = reader
        self.embedder = embedder
        self.settings = settings

    @classmethod
    def load(cls, settings: Settings) -> Retriever:
        embedder = Embedder.from_settings(settings)
        reader = IndexReader.open(settings.data_dir, embedder.name, settings.ann_nprobe)
        return cls(reader, embedder, settings)

    def warm_up(self) -> None:
        """Load the model and run one query so the first real request is not the slow one."""
        self.search("warm up", k=1)

    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        fusion: str | None = None,
        dense_weight: float | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Passage]:
        """`query_vector`, when given, is the query's embedding (saves encoding it again)."""
        query = self.check_query(query, k)
        allowed = self.reader.rows_matching(filters)
        if allowed is not None and allowed.size == 0:
            return []
        rows, scores = self._rank(query, allowed, mode, fusion, dense_weight, query_vector)
        best = np.argsort(-scores, kind="stable")[:k]
        return self._passages(rows[best], scores[best])

    def check_query(self, query: str, k: int) -> str:
        if not isinstance(query, str) or not query.strip():
            raise BadQuery("the query is empty")
        if len(query) > self.settings.max_query_chars:
            raise BadQuery(
                f"the query is {len(query)} characters long; the limit is "
                f"{self.settings.max_query_chars}"
            )
        if not 1 <= k <= self.settings.max_top_k:
            raise BadQuery(f"k must be between 1 and {self.settings.max_top_k}, not {k}")
        return query.strip()

    def _rank(
        self, query, allowed, mode, fusion, dense_weight, vector
    ) -> tuple[np.ndarray, np.ndarray]:
        n = self.settings.candidates
        if vector is None and mode != "bm25":
            vector = self.embedder.encode([query])[0]
        elif mode == "bm25":
            vector = None
        keyword_all = self.reader.keywords.scores(query) if mode != "dense" else None
        candidates = []
        if vector is not None:
            candidates.append(self.reader.dense_search(vector, n, allowed)[0])
        if keyword_all is not None:
            candidates.append(_top_keyword_rows(keyword_all, n, allowed))
        rows = np.unique(np.concatenate(candidates)) if candidates else np.zeros(0, np.int64)
        if mode == "dense":
            return rows, self._dense_scores(vector, rows)
        if mode == "bm25":
            return rows, keyword_all[rows]
        dense, keyword = self._dense_scores(vector, rows), keyword_all[rows]
        if (fusion or self.settings.fusion) == "rrf":
            return rows, rrf_fusion(dense, keyword)
        weight = self.settings.dense_weight if dense_weight is None else dense_weight
        return rows, weighted_fusion(dense, keyword, weight)

    def _dense_scores(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self.reader.vectors_of(rows) @ vector

    def _passages(self, rows: np.ndarray, scores: np.ndarray) -> list[Passage]:
        found = self.reader.passages([int(r) for r in rows])
        figures = self.reader.figures_of([int(r) for r in rows])
        pages = {r: json.loads(p["pages"]) if p["pages"] else None for r, p in found.items()}
        return [
            Passage(
                id=found[row]["id"],
                doc_id=found[row]["doc_id"],
                title=found[row]["title"],
                source=found[row]["source"],
                url=found[row]["url"],
                date=dt.date.fromisoformat(found[row]["date"]) if found[row]["date"] else None,
                text=found[row]["text"],
                score=round(float(np.clip(score, 0.0, 1.0)), 6),
                span=(found[row]["start"], found[row]["end"]),
                page_start=page_of(pages[row], found[row]["start"]),
                page_end=page_of(pages[row], max(found[row]["start"], found[row]["end"] - 1)),
                figures=figures[row],
                table_header=found[row]["table_header"],
            )
            for row, score in zip(rows.tolist(), scores.tolist(), strict=True)
        ]


def _top_keyword_rows(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> np.ndarray:
    """Rows of the n best keyword scores (zero scores are not candidates)."""
    if allowed is not None:
        masked = np.full_like(scores, -1.0)
        masked[allowed] = scores[allowed]
        scores = masked
    n = min(n, int((scores > 0).sum()))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n]
    return top.astype(np.int64)
