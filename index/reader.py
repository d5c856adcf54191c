"""Open the current index version read-only and answer low-level lookups for the retriever."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

import numpy as np

from index.errors import BadQuery, DocumentNotFound
from index.figures import distinct_figures
from index.keyword import KeywordIndex
from index.store import (
    DATABASE,
    KEYWORDS,
    SENTENCE_VECTORS,
    DataDir,
    Manifest,
    open_database,
    read_manifest,
)
from index.types import Document, Figure, Filters
from index.vectors import VectorIndex, VectorLayout

_COUNTS = (
    "(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id) AS n_chunks, "
    "(SELECT count(DISTINCT json_extract(f.record, '$.sentence') || '|' || "
    "json_extract(f.record, '$.text')) FROM figures f WHERE f.doc_id = d.id) AS n_figures"
)
_PASSAGE_COLUMNS = (
    'c.rowid AS row, c.id, c.doc_id, c.start, c.end AS "end", c.text, c.table_header, '
    "d.title, d.source, d.url, d.date, d.pages"
)


class IndexReader:
    """The vectors, the BM25 arrays and the SQLite store of one published version."""

    def __init__(self, version: Path, manifest: Manifest, nprobe: int = 0):
        import faiss

        # Queries come one at a time: OpenMP workers gain nothing on them, and their spinning
        # steals the cores the query encoder runs on (measured: encode p50 31 ms -> 24 ms).
        faiss.omp_set_num_threads(1)
        self.version = version
        self.manifest = manifest
        self.vectors = VectorIndex.load(version, VectorLayout.of(manifest), nprobe)
        self.keywords = KeywordIndex.load(version / KEYWORDS)
        self.sentence_vectors = np.load(version / SENTENCE_VECTORS, mmap_mode="r")
        self._local = threading.local()

    @classmethod
    def open(cls, data_dir: Path, model: str, nprobe: int = 0) -> IndexReader:
        """The current version, after checking it was built for `model` by this format."""
        version = DataDir(data_dir).require_current()
        manifest = read_manifest(version)
        manifest.check_compatible(model)
        return cls(version, manifest, nprobe)

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one read-only connection per thread
            conn = self._local.conn = open_database(self.version / DATABASE)
        return conn

    def dense_search(self, query_vector: np.ndarray, n: int, rows: np.ndarray | None):
        """(rows, inner products) of the n nearest chunks, optionally among `rows` only."""
        return self.vectors.search(query_vector, n, rows)

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        return self.vectors.vectors_of(rows)

    def rows_matching(self, filters: Filters | None) -> np.ndarray | None:
        """Chunk rows that pass the filters; None when there are no filters."""
        if filters is None or filters.is_empty():
            return None
        clauses, params = [], []
        if filters.doc_ids is not None:
            self._check_known(filters.doc_ids)
            clauses.append(f"d.id IN ({','.join('?' * len(filters.doc_ids))})")
            params.extend(filters.doc_ids)
        if filters.date_from:
            clauses.append("d.date >= ?")
            params.append(filters.date_from.isoformat())
        if filters.date_to:
            clauses.append("d.date <= ?")
            params.append(filters.date_to.isoformat())
        if filters.language:
            clauses.append("lower(d.language) = lower(?)")
            params.append(filters.language)
        sql = (
            "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
            + " AND ".join(clauses)
        )
        return np.fromiter((r[0] for r in self.db.execute(sql, params)), dtype=np.int64)

    def passages(self, rows: list[int]) -> dict[int, sqlite3.Row]:
        if not rows:
            return {}
        sql = (
            f"SELECT {_PASSAGE_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id "
            f"WHERE c.rowid IN ({','.join('?' * len(rows))})"
        )
        return {r["row"]: r for r in self.db.execute(sql, rows)}

    def figures_of(self, rows: list[int]) -> dict[int, list[Figure]]:
        """The figures stored with each chunk row, in reading order."""
        found: dict[int, list[Figure]] = {row: [] for row in rows}
        if not rows:
            return found
        sql = (
            f"SELECT chunk_row, record FROM figures WHERE chunk_row IN "
            f"({','.join('?' * len(rows))}) ORDER BY chunk_row, position"
        )
        for row, record in self.db.execute(sql, rows):
            found[row].append(Figure.model_validate_json(record))
        return found

    def vectors_of_sentences(self, keys: list[tuple[str, str]]) -> list[np.ndarray | None]:
        """The stored vector of each (doc_id, sentence); None for a sentence not stored."""
        rows: dict[tuple[str, str], int] = {}
        for start in range(0, len(keys), 400):  # SQLite caps the number of bound parameters
            block = keys[start : start + 400]
            where = " OR ".join(["(doc_id = ? AND text = ?)"] * len(block))
            params = [v for key in block for v in key]
            sql = f"SELECT rowid, doc_id, text FROM sentences WHERE {where}"
            rows.update({(d, t): r for r, d, t in self.db.execute(sql, params)})
        known = [rows[k] for k in keys if k in rows]
        gathered = iter(np.asarray(self.sentence_vectors[np.asarray(known, dtype=np.int64)]))
        return [next(gathered) if k in rows else None for k in keys]  # one read of the mmap

    def newest_date(self) -> dt.date | None:
        """The date of the newest dated document ("last year" is read against it)."""
        newest = self.db.execute("SELECT max(date) FROM documents").fetchone()[0]
        return dt.date.fromisoformat(newest) if newest else None

    def documents(self, offset: int = 0, limit: int = -1, with_text: bool = True) -> list[Document]:
        """Documents oldest first (undated last); `limit` -1 for all of them."""
        text = "d.text" if with_text else "'' AS text"
        sql = (
            "SELECT d.id, d.title, d.date, d.source, d.url, d.language, d.path, d.sha256, "
            f"{text}, d.pages, {_COUNTS} FROM documents d "
            "ORDER BY d.date IS NULL, d.date, d.id LIMIT ? OFFSET ?"
        )
        return [_document(row) for row in self.db.execute(sql, (limit, offset))]

    def count_documents(self) -> int:
        return self.db.execute("SELECT count(*) FROM documents").fetchone()[0]

    def document(self, doc_id: str) -> Document:
        sql = f"SELECT d.*, {_COUNTS} FROM documents d WHERE d.id = ?"
        row = self.db.execute(sql, (doc_id,)).fetchone()
        if row is None:
            raise DocumentNotFound(f"no document with id {doc_id!r}")
        return _document(row)

    def figures(self, doc_id: str | None = None, unit: str | None = None) -> list[Figure]:
        """Stored figures in reading order, optionally of one document or one unit. A figure
        in the overlap of two chunks is stored twice and listed once."""
        clauses, params = [], []
        if doc_id is not None:
            clauses.append("f.doc_id = ?")
            params.append(doc_id)
        if unit is not None:
            clauses.append("lower(f.unit) = lower(?)")
            params.append(unit)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            "SELECT f.record FROM figures f JOIN chunks c ON c.rowid = f.chunk_row "
            f"{where} ORDER BY f.doc_id, c.position, f.position"
        )
        rows = self.db.execute(sql, params)
        return distinct_figures(Figure.model_validate_json(record) for (record,) in rows)

    def _check_known(self, doc_ids: list[str]) -> None:
        if not doc_ids:
            return
        sql = f"SELECT id FROM documents WHERE id IN ({','.join('?' * len(doc_ids))})"
        known = {r[0] for r in self.db.execute(sql, doc_ids)}
        unknown = [d for d in doc_ids if d not in known]
        if unknown:
            raise BadQuery(f"unknown document id(s) in filters: {', '.join(unknown)}")


def _document(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"],
        title=row["title"],
        date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
        source=row["source"],
        url=row["url"],
        language=row["language"],
        text=row["text"],
        path=row["path"],
        sha256=row["sha256"],
        pages=json.loads(row["pages"]) if row["pages"] else None,
        chunks=row["n_chunks"],
        figures=row["n_figures"],
    )
