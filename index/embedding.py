"""Chunks and distinct sentences to vectors, for a build and for one uploaded document alike.

A sentence's vector (the answer step scores sentences by it) is, by `sentence_vectors`, its text
encoded alone ("encoded": a second pass over every sentence) or its tokens' states pooled out of
the pass that embeds its chunk ("pooled": no second pass; index/graph_encoder.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np

from index.embedder import Embedder
from index.sentences import sentence_spans
from index.tables import embedding_text, table_rows
from index.types import Chunk, Document


def distinct_sentences(chunks: list[Chunk]) -> list[tuple[str, str]]:
    """(doc_id, sentence) for each distinct sentence; overlapping chunks repeat sentences."""
    seen: dict[tuple[str, str], None] = {}
    for chunk in chunks:
        for start, end in sentence_spans(chunk.text):
            seen.setdefault((chunk.doc_id, chunk.text[start:end]), None)
    return list(seen)


def sentence_texts(sentences: list[tuple[str, str]], documents: list[Document]) -> list[str]:
    """What each distinct sentence is encoded as: a table row with its header before it."""
    tables = {d.id: table_rows(d.text) for d in documents}
    return [embedding_text(text, tables[doc_id]) for doc_id, text in sentences]


def embed_chunks_and_sentences(
    chunks: list[Chunk],
    sentences: list[tuple[str, str]],
    documents: list[Document],
    embedder: Embedder,
    mode: str,
    bar=None,
    stages: dict[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' vectors and the distinct sentences'. `mode="pooled"`: a sentence is pooled
    from the pass of the first chunk that holds it; encoded alone are a table row (embedded
    under its header line, which is not just before it in any chunk), a sentence past the
    model's window, and every sentence where the backend keeps no token states (torch)."""
    bar = bar or NoProgress()
    stages = {} if stages is None else stages
    texts = sentence_texts(sentences, documents)
    rows, spans = _pooling_spans(chunks, sentences, texts) if mode == "pooled" else ([], [])
    with stage(stages, "encode chunks"):
        vectors, pooled = _encode_chunks(chunks, rows, spans, embedder, bar)
    with stage(stages, "encode sentences"):
        sentence_vectors = np.empty((len(sentences), vectors.shape[1]), dtype=np.float32)
        if pooled:
            sentence_vectors[list(pooled)] = np.vstack(list(pooled.values()))
        left = [row for row in range(len(sentences)) if row not in pooled]
        sentence_vectors[left] = _encode_all([texts[row] for row in left], embedder, bar)
    return vectors, sentence_vectors


def _encode_chunks(
    chunks: list[Chunk], rows: list[int], spans: list[tuple[int, int, int]], embedder, bar
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The chunks' vectors, and by sentence row the vectors pooled from their passes."""
    texts = [c.search_text for c in chunks]
    task = bar.add_task("embedding chunks", total=len(texts))
    advance = lambda n: bar.advance(task, n)  # noqa: E731
    found = embedder.encode_with_spans(texts, spans, advance) if spans else None
    if found is None:
        return embedder.encode(texts, advance), {}
    vectors, span_vectors, pooled = found
    return vectors, {row: span_vectors[j] for j, row in enumerate(rows) if pooled[j]}


def _pooling_spans(
    chunks: list[Chunk], sentences: list[tuple[str, str]], texts: list[str]
) -> tuple[list[int], list[tuple[int, int, int]]]:
    """The sentences whose embedded text is their own, each with (chunk, start, end), its
    place in the search text of the first chunk that holds it."""
    row_of = {key: row for row, key in enumerate(sentences)}
    rows, spans = [], []
    for position, chunk in enumerate(chunks):
        shift = len(chunk.search_text) - len(chunk.text)  # the table header before the text
        for start, end in sentence_spans(chunk.text):
            row = row_of.pop((chunk.doc_id, chunk.text[start:end]), None)
            if row is not None and texts[row] == chunk.text[start:end]:
                rows.append(row)
                spans.append((position, start + shift, end + shift))
    return rows, spans


def _encode_all(texts: list[str], embedder: Embedder, bar) -> np.ndarray:
    task = bar.add_task("embedding sentences", total=len(texts))
    return embedder.encode(texts, progress=lambda n: bar.advance(task, n))


@contextlib.contextmanager
def stage(stages: dict[str, float], name: str) -> Iterator[None]:
    """The seconds the block takes, into `stages[name]`."""
    started = time.perf_counter()
    yield
    stages[name] = round(time.perf_counter() - started, 3)


class NoProgress:
    """The calls made of a rich progress bar, doing nothing."""

    def add_task(self, *args, **kwargs) -> int:
        return 0

    def advance(self, *args, **kwargs) -> None:
        pass
