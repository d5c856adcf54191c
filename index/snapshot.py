"""The content of one index segment in memory: made from chunks and vectors, read back from a
published version's segments, combined, and written as a segment into a staging folder.

Chunk rows are numbered 0..n-1 in every segment: FAISS ids and BM25 rows are those numbers, so
removing a document renumbers the rows after it (vectors are copied, never encoded again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.figures import extract_figures
from index.keyword import KeywordIndex
from index.store import (
    DATABASE,
    KEYWORDS,
    SENTENCE_VECTORS,
    Manifest,
    Segment,
    create_database,
    new_segment_name,
)
from index.tables import table_rows
from index.types import Chunk, Document, search_text
from index.vectors import VectorLayout, read_exact_vectors, write_vectors

_DOCUMENT_COLUMNS = "id, title, date, source, url, language, path, sha256, text, pages"
_CHUNK_COLUMNS = 'id, doc_id, position, start, "end", text, n_tokens, table_header'
_FIGURE_COLUMNS = "chunk_row, doc_id, position, value, unit, as_of, record"


@dataclass(frozen=True)
class Snapshot:
    documents: list[tuple]  # _DOCUMENT_COLUMNS
    chunks: list[tuple]  # _CHUNK_COLUMNS; a chunk's row is its place in this list
    chunk_vectors: np.ndarray
    figures: list[tuple]  # _FIGURE_COLUMNS; chunk_row points into `chunks`
    sentences: list[tuple[str, str]]  # (doc_id, text); row = place in this list
    sentence_vectors: np.ndarray

    @classmethod
    def of(
        cls,
        documents: list[Document],
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentences: list[tuple[str, str]],
        sentence_vectors: np.ndarray,
    ) -> Snapshot:
        """New content: figures are extracted from each chunk here."""
        return cls(
            documents=[_document_row(d) for d in documents],
            chunks=[
                (c.id, c.doc_id, c.position, c.start, c.end, c.text, c.n_tokens, c.table_header)
                for c in chunks
            ],
            chunk_vectors=np.asarray(chunk_vectors, dtype=np.float32),
            figures=list(_figure_rows(documents, chunks)),
            sentences=list(sentences),
            sentence_vectors=np.asarray(sentence_vectors, dtype=np.float32),
        )

    @classmethod
    def read_version(cls, version: Path, manifest: Manifest) -> Snapshot:
        """The live content of a published version: its segments in order, less their deleted
        documents."""
        content = cls.empty(manifest.dimension)
        for segment in manifest.segments:
            part = cls.read(version / segment.name)
            for doc_id in segment.deleted:
                part = part.without(doc_id)
            content = content.plus(part)
        return content

    @classmethod
    def empty(cls, dimension: int) -> Snapshot:
        no_vectors = np.zeros((0, dimension), dtype=np.float32)
        return cls([], [], no_vectors, [], [], no_vectors)

    @classmethod
    def read(cls, version: Path) -> Snapshot:
        """Everything a segment folder holds, vectors included (exact, never re-encoded)."""
        import sqlite3

        conn = sqlite3.connect(f"file:{version / DATABASE}?mode=ro", uri=True)
        try:
            documents = conn.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents").fetchall()
            chunks = conn.execute(f"SELECT {_CHUNK_COLUMNS} FROM chunks ORDER BY rowid").fetchall()
            figures = conn.execute(f"SELECT {_FIGURE_COLUMNS} FROM figures").fetchall()
            sentences = conn.execute("SELECT doc_id, text FROM sentences ORDER BY rowid").fetchall()
        finally:
            conn.close()
        return cls(
            documents=documents,
            chunks=chunks,
            chunk_vectors=read_exact_vectors(version),
            figures=figures,
            sentences=[tuple(s) for s in sentences],
            sentence_vectors=np.load(version / SENTENCE_VECTORS),
        )

    def doc_ids(self) -> list[str]:
        return [row[0] for row in self.documents]

    def plus(self, other: Snapshot) -> Snapshot:
        """This content followed by `other`'s (its chunk rows shifted past ours)."""
        shift = len(self.chunks)
        return Snapshot(
            documents=self.documents + other.documents,
            chunks=self.chunks + other.chunks,
            chunk_vectors=np.vstack([self.chunk_vectors, other.chunk_vectors]),
            figures=self.figures + [(row + shift, *rest) for row, *rest in other.figures],
            sentences=self.sentences + other.sentences,
            sentence_vectors=np.vstack([self.sentence_vectors, other.sentence_vectors]),
        )

    def without(self, doc_id: str) -> Snapshot:
        """This content less one document; the chunk rows after it move up."""
        kept_rows = [row for row, chunk in enumerate(self.chunks) if chunk[1] != doc_id]
        new_row = {old: new for new, old in enumerate(kept_rows)}
        kept_sentences = [i for i, (d, _) in enumerate(self.sentences) if d != doc_id]
        return Snapshot(
            documents=[d for d in self.documents if d[0] != doc_id],
            chunks=[self.chunks[row] for row in kept_rows],
            chunk_vectors=self.chunk_vectors[kept_rows],
            figures=[(new_row[row], *rest) for row, *rest in self.figures if row in new_row],
            sentences=[self.sentences[i] for i in kept_sentences],
            sentence_vectors=self.sentence_vectors[kept_sentences],
        )

    def write_segment(self, staging: Path, exact_max_chunks: int, recall_target: float) -> Segment:
        """This content as a new segment of the version being staged; its manifest record."""
        name = new_segment_name()
        (staging / name).mkdir()
        layout = self.write(staging / name, exact_max_chunks, recall_target)
        return Segment(
            name=name, documents=len(self.documents), chunks=len(self.chunks),
            **layout.manifest_fields(),
        )  # fmt: skip

    def write(self, folder: Path, exact_max_chunks: int, recall_target: float) -> VectorLayout:
        """SQLite (one transaction), FAISS, BM25 and sentence vectors into an empty folder;
        returns how the dense index was laid out, for the manifest."""
        conn = create_database(folder / DATABASE)
        with conn:
            conn.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self.documents
            )
            conn.executemany(
                f"INSERT INTO chunks (rowid, {_CHUNK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(row, *chunk) for row, chunk in enumerate(self.chunks)],
            )
            conn.executemany("INSERT INTO figures VALUES (?, ?, ?, ?, ?, ?, ?)", self.figures)
            conn.executemany(
                "INSERT INTO sentences (rowid, doc_id, text) VALUES (?, ?, ?)",
                [(row, doc_id, text) for row, (doc_id, text) in enumerate(self.sentences)],
            )
        conn.close()
        searched = (search_text(chunk[5], chunk[7]) for chunk in self.chunks)
        KeywordIndex.build(searched).save(folder / KEYWORDS)
        np.save(folder / SENTENCE_VECTORS, self.sentence_vectors.astype(np.float32))
        return write_vectors(
            folder, self.chunk_vectors, exact_max_chunks, recall_target, self.sentence_vectors
        )


def _document_row(d: Document) -> tuple:
    date = d.date.isoformat() if d.date else None
    pages = json.dumps(d.pages) if d.pages else None
    return (d.id, d.title, date, d.source, d.url, d.language, d.path, d.sha256, d.text, pages)


def _figure_rows(documents: list[Document], chunks: list[Chunk]):
    dates = {d.id: d.date for d in documents}
    tables = {d.id: table_rows(d.text) for d in documents}
    for row, chunk in enumerate(chunks):
        figures = extract_figures(
            chunk.text, dates[chunk.doc_id], chunk.doc_id, chunk.id, tables[chunk.doc_id]
        )
        for position, fig in enumerate(figures):
            yield (
                row, chunk.doc_id, position, fig.value, fig.unit,
                fig.as_of.isoformat() if fig.as_of else None, fig.model_dump_json(),
            )  # fmt: skip
