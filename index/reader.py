"""Open the current index version read-only, its segments as one index, and answer low-level
lookups for the retriever."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import BadQuery, DocumentNotFound
from index.figures import distinct_figures
from index.keyword import KeywordIndex, KeywordPart, KeywordSearch
from index.store import (
    DATABASE,
    KEYWORDS,
    SENTENCE_VECTORS,
    DataDir,
    Manifest,
    Segment,
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


@dataclass(frozen=True)
class _Loaded:
    """A segment's searchable arrays, loaded once and shared by every version that holds the
    segment (its files are the same hard links in each)."""

    vectors: VectorIndex
    keywords: KeywordIndex
    sentence_vectors: np.ndarray

    @classmethod
    def load(cls, folder: Path, record: Segment, nprobe: int) -> _Loaded:
        layout = VectorLayout(record.faiss_index, record.nprobe, record.ann_recall_at_10)
        return cls(
            VectorIndex.load(folder, layout, nprobe),
            KeywordIndex.load(folder / KEYWORDS),
            np.load(folder / SENTENCE_VECTORS, mmap_mode="r"),
        )


class _SegmentView:
    """One segment as a version sees it: where its rows start, and its deleted documents."""

    def __init__(self, folder: Path, record: Segment, offset: int, loaded: _Loaded):
        self.folder, self.record, self.offset, self.loaded = folder, record, offset, loaded
        self.end = offset + record.chunks
        self._local = threading.local()
        self.deleted = list(record.deleted)
        self.dead_rows = np.zeros(0, dtype=np.int64)
        self.dead: np.ndarray | None = None
        if self.deleted:
            sql = f"SELECT rowid FROM chunks WHERE doc_id IN ({_marks(self.deleted)})"
            rows = [r[0] for r in self.db.execute(sql, self.deleted)]
            self.dead_rows = np.asarray(rows, dtype=np.int64)
            self.dead = np.zeros(record.chunks, dtype=bool)
            self.dead[self.dead_rows] = True

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one read-only connection per thread
            conn = self._local.conn = open_database(self.folder / DATABASE)
        return conn

    def live(self, column: str = "d.id") -> tuple[str, list[str]]:
        """An SQL condition keeping the segment's live documents, and its parameters."""
        if not self.deleted:
            return "1", []
        return f"{column} NOT IN ({_marks(self.deleted)})", list(self.deleted)

    def holds(self, rows: np.ndarray) -> np.ndarray:
        return (rows >= self.offset) & (rows < self.end)


class IndexReader:
    """The segments of one published version: their vectors, BM25 postings and SQLite stores,
    read as one index. Rows are numbered across segments in the manifest's order; the rows of
    deleted documents are never returned."""

    def __init__(
        self, version: Path, manifest: Manifest, nprobe: int = 0, reuse: IndexReader | None = None
    ):
        import faiss

        # Queries come one at a time: OpenMP workers gain nothing on them, and their spinning
        # steals the cores the query encoder runs on (measured: encode p50 31 ms -> 24 ms).
        faiss.omp_set_num_threads(1)
        self.version = version
        self.manifest = manifest
        shared = {s.record.name: s.loaded for s in reuse.segments} if reuse else {}
        self.segments: list[_SegmentView] = []
        offset = 0
        for record in manifest.segments:
            folder = version / record.name
            loaded = shared.get(record.name) or _Loaded.load(folder, record, nprobe)
            self.segments.append(_SegmentView(folder, record, offset, loaded))
            offset += record.chunks
        self.size = offset  # rows, deleted ones included
        self.keywords = KeywordSearch(
            [KeywordPart(s.loaded.keywords, s.offset, s.dead) for s in self.segments]
        )
        self._segment_of_document = {
            doc_id: segment
            for segment in self.segments
            for doc_id in self._live_document_ids(segment)
        }

    @classmethod
    def open(cls, data_dir: Path, model: str, nprobe: int = 0) -> IndexReader:
        """The current version, after checking it was built for `model` by this format."""
        version = DataDir(data_dir).require_current()
        manifest = read_manifest(version)
        manifest.check_compatible(model)
        return cls(version, manifest, nprobe)

    def dense_search(self, query_vector: np.ndarray, n: int, rows: np.ndarray | None):
        """(rows, inner products) of the n nearest live chunks, optionally among `rows` only."""
        found, scores = [], []
        for segment in self.segments:
            if rows is not None:
                local = rows[segment.holds(rows)] - segment.offset
                if segment.dead is not None:
                    local = local[~segment.dead[local]]
                if not len(local):
                    continue
                got, score = segment.loaded.vectors.search(query_vector, n, local)
            else:  # asking for as many more as are deleted still leaves the n best live ones
                got, score = segment.loaded.vectors.search(query_vector, n + len(segment.dead_rows))
                if segment.dead is not None:
                    got, score = got[~segment.dead[got]], score[~segment.dead[got]]
            found.append(got[:n] + segment.offset)
            scores.append(score[:n])
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found_all, scores_all = np.concatenate(found), np.concatenate(scores)
        best = np.argsort(-scores_all, kind="stable")[:n]
        return found_all[best], scores_all[best]

    def vectors_of(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.manifest.dimension), dtype=np.float32)
        for segment in self.segments:
            mask = segment.holds(rows)
            if mask.any():
                out[mask] = segment.loaded.vectors.vectors_of(rows[mask] - segment.offset)
        return out

    def rows_matching(self, filters: Filters | None) -> np.ndarray | None:
        """Live chunk rows that pass the filters; None when there are no filters."""
        if filters is None or filters.is_empty():
            return None
        clauses, params = [], []
        if filters.doc_ids is not None:
            self._check_known(filters.doc_ids)
            clauses.append(f"d.id IN ({_marks(filters.doc_ids)})")
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
        found = []
        for segment in self.segments:
            live, live_params = segment.live()
            sql = (
                "SELECT c.rowid FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE "
                + " AND ".join([*clauses, live])
            )
            rows = segment.db.execute(sql, [*params, *live_params])
            found.append(np.fromiter((r[0] + segment.offset for r in rows), dtype=np.int64))
        return np.concatenate(found)

    def passages(self, rows: list[int]) -> dict[int, sqlite3.Row]:
        """Each row's chunk with its document's fields, keyed by row."""
        found: dict[int, sqlite3.Row] = {}
        for segment, local in self._by_segment(rows):
            sql = (
                f"SELECT {_PASSAGE_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.doc_id "
                f"WHERE c.rowid IN ({_marks(local)})"
            )
            found.update({r["row"] + segment.offset: r for r in segment.db.execute(sql, local)})
        return found

    def figures_of(self, rows: list[int]) -> dict[int, list[Figure]]:
        """The figures stored with each chunk row, in reading order."""
        found: dict[int, list[Figure]] = {row: [] for row in rows}
        for segment, local in self._by_segment(rows):
            sql = (
                f"SELECT chunk_row, record FROM figures WHERE chunk_row IN ({_marks(local)}) "
                "ORDER BY chunk_row, position"
            )
            for row, record in segment.db.execute(sql, local):
                found[row + segment.offset].append(Figure.model_validate_json(record))
        return found

    def vectors_of_sentences(self, keys: list[tuple[str, str]]) -> list[np.ndarray | None]:
        """The stored vector of each (doc_id, sentence); None for a sentence not stored."""
        vectors: dict[tuple[str, str], np.ndarray] = {}
        for segment in self.segments:
            wanted = [k for k in keys if self._segment_of_document.get(k[0]) is segment]
            rows: dict[tuple[str, str], int] = {}
            for start in range(0, len(wanted), 400):  # SQLite caps the bound parameters
                block = wanted[start : start + 400]
                where = " OR ".join(["(doc_id = ? AND text = ?)"] * len(block))
                params = [v for key in block for v in key]
                sql = f"SELECT rowid, doc_id, text FROM sentences WHERE {where}"
                rows.update({(d, t): r for r, d, t in segment.db.execute(sql, params)})
            if rows:  # one read of the mmap
                found = np.asarray(segment.loaded.sentence_vectors[list(rows.values())])
                vectors.update(zip(rows, found, strict=True))
        return [vectors.get(k) for k in keys]

    def newest_date(self) -> dt.date | None:
        """The date of the newest dated document ("last year" is read against it)."""
        dates = []
        for segment in self.segments:
            live, params = segment.live()
            sql = f"SELECT max(d.date) FROM documents d WHERE {live}"
            dates.append(segment.db.execute(sql, params).fetchone()[0])
        newest = max((d for d in dates if d), default=None)
        return dt.date.fromisoformat(newest) if newest else None

    def documents(self, offset: int = 0, limit: int = -1, with_text: bool = True) -> list[Document]:
        """Documents oldest first (undated last); `limit` -1 for all of them."""
        keys = []
        for segment in self.segments:
            live, params = segment.live()
            sql = f"SELECT d.date, d.id FROM documents d WHERE {live}"
            rows = segment.db.execute(sql, params)
            keys.extend((date is None, date or "", doc_id) for date, doc_id in rows)
        keys.sort()
        page = keys[offset:] if limit < 0 else keys[offset : offset + limit]
        return [self._document(doc_id, with_text) for _, _, doc_id in page]

    def count_documents(self) -> int:
        return len(self._segment_of_document)

    def document(self, doc_id: str) -> Document:
        if doc_id not in self._segment_of_document:
            raise DocumentNotFound(f"no document with id {doc_id!r}")
        return self._document(doc_id)

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
        found = []
        for segment in self.segments:
            live, live_params = segment.live("f.doc_id")
            sql = (
                "SELECT f.doc_id, f.record FROM figures f JOIN chunks c ON c.rowid = f.chunk_row "
                f"WHERE {' AND '.join([*clauses, live])} ORDER BY f.doc_id, c.position, f.position"
            )
            found.extend(segment.db.execute(sql, [*params, *live_params]))
        found.sort(key=lambda row: row[0])  # stable: each document's own order stays
        return distinct_figures(Figure.model_validate_json(record) for _, record in found)

    def _document(self, doc_id: str, with_text: bool = True) -> Document:
        segment = self._segment_of_document[doc_id]
        text = "d.text" if with_text else "'' AS text"
        sql = (
            "SELECT d.id, d.title, d.date, d.source, d.url, d.language, d.path, d.sha256, "
            f"{text}, d.pages, {_COUNTS} FROM documents d WHERE d.id = ?"
        )
        return _document(segment.db.execute(sql, (doc_id,)).fetchone())

    def _by_segment(self, rows: list[int]):
        """(segment, its local rows) for each segment holding some of `rows`."""
        rows_array = np.asarray(rows, dtype=np.int64)
        for segment in self.segments:
            local = rows_array[segment.holds(rows_array)] - segment.offset
            if len(local):
                yield segment, local.tolist()

    @staticmethod
    def _live_document_ids(segment: _SegmentView) -> list[str]:
        live, params = segment.live()
        rows = segment.db.execute(f"SELECT d.id FROM documents d WHERE {live}", params)
        return [doc_id for (doc_id,) in rows]

    def _check_known(self, doc_ids: list[str]) -> None:
        unknown = [d for d in doc_ids if d not in self._segment_of_document]
        if unknown:
            raise BadQuery(f"unknown document id(s) in filters: {', '.join(unknown)}")


def _marks(values) -> str:
    return ",".join("?" * len(values))


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
