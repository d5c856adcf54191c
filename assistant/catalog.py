"""Look-ups over what the index holds, for the documents and figures endpoints."""

from __future__ import annotations

import datetime as dt

from index.keyword import tokenize
from index.reader import IndexReader
from index.types import Figure


def find_figures(
    reader: IndexReader,
    subject: str | None = None,
    doc_id: str | None = None,
    unit: str | None = None,
) -> list[Figure]:
    """Stored figures whose subject, unit or sentence hold every word of `subject` (stemmed, so
    'card' finds 'cards'), newest first."""
    if doc_id is not None:
        reader.document(doc_id)  # an unknown id is a 404, not an empty list
    figures = reader.figures(doc_id=doc_id, unit=unit)
    wanted = set(tokenize(subject or ""))
    if wanted:
        figures = [f for f in figures if wanted <= _words_of(f)]
    return sorted(figures, key=lambda f: f.as_of or dt.date.min, reverse=True)


def _words_of(figure: Figure) -> set[str]:
    return set(tokenize(f"{figure.subject or ''} {figure.unit or ''} {figure.sentence}"))
