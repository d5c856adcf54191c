"""Sentence boundaries that know common abbreviations ("Resolution No. 01", "Mr. Binh")."""

from __future__ import annotations

import re
from functools import lru_cache

_ABBREVIATIONS = ["No", "Nos", "Mr", "Mrs", "Ms", "Dr", "Prof", "St", "Art", "Vol", "Fig", "vs"]
_NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in _ABBREVIATIONS) + r"(?<!\b[A-Z]\.)(?<!\.[a-z]\.)"
SENTENCE_END = rf"(?<=[.!?…]){_NOT_AFTER}\s+(?=[A-Z0-9\"“'(\[])"
_BOUNDARY = re.compile(rf"\n\s*\n|\n(?=\s*[-•*\d(])|{SENTENCE_END}")


@lru_cache(maxsize=4096)  # answers split the same retrieved passages question after question
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence in `text`, whitespace trimmed, in order."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return tuple(_trim(text, s, e) for s, e in spans if text[s:e].strip())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
