"""A figure over time: when the retrieved figures for the answer's subject carry several dates."""

from __future__ import annotations

import re
from dataclasses import dataclass

import altair as alt

from index.types import Figure, Passage

_WORD = re.compile(r"[a-z]{4,}")
_MIN_DATES = 2


@dataclass(frozen=True)
class Point:
    as_of: str  # ISO date
    value: float
    text: str
    source: str
    sentence: str


def timeline_points(figures: list[Figure], passages: list[Passage]) -> list[Point]:
    """The answer's figures and the passages' figures that count the same thing as the lead
    figure (same unit, a subject word in common), one point per distinct dated reading; empty
    when they span fewer than two dates."""
    if not figures or not figures[0].unit:
        return []
    lead = figures[0]
    titles = {p.doc_id: p.title for p in passages}
    candidates = [*figures, *(f for p in passages for f in p.figures)]
    points: dict[tuple, Point] = {}
    for figure in candidates:
        if figure.as_of is None or not _counts_same_thing(lead, figure):
            continue
        key = (figure.as_of, figure.value, figure.doc_id)
        source = titles.get(figure.doc_id, figure.doc_id)
        points.setdefault(
            key, Point(figure.as_of.isoformat(), figure.value, figure.text, source, figure.sentence)
        )
    if len({p.as_of for p in points.values()}) < _MIN_DATES:
        return []
    return sorted(points.values(), key=lambda p: (p.as_of, p.value))


def _counts_same_thing(lead: Figure, other: Figure) -> bool:
    """Same unit, both or neither a share ('36/63'), and a subject word in common."""
    if other.unit != lead.unit or (other.of_total is None) != (lead.of_total is None):
        return False
    return bool(_subject_words(lead) & _subject_words(other))


def _subject_words(figure: Figure) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall((figure.subject or "").lower())}


def timeline_chart(points: list[Point], unit: str) -> alt.Chart:
    data = alt.Data(values=[p.__dict__ for p in points])
    base = alt.Chart(data).encode(
        x=alt.X("as_of:T", title="As of"),
        y=alt.Y("value:Q", title=unit, scale=alt.Scale(zero=False)),
        tooltip=[
            alt.Tooltip("text:N", title="Figure"),
            alt.Tooltip("as_of:T", title="As of"),
            alt.Tooltip("source:N", title="Source"),
            alt.Tooltip("sentence:N", title="Sentence"),
        ],
    )
    line = base.mark_line(point=alt.OverlayMarkDef(size=80), color="#1f6feb")
    labels = base.mark_text(align="left", dx=8, dy=-8, fontSize=11).encode(text="source:N")
    return (line + labels).properties(height=220)
