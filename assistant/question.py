"""Question understanding: does it ask for a number, about what, for which time, after what?

Deterministic and cheap. A follow-up ("and in 2024?") borrows the subject of the last user turn
and keeps its own time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from index.figures import ISO_CURRENCIES
from index.keyword import tokenize

_FIGURE_CUES = re.compile(
    r"\bwhat\b[\w\s'’-]{0,60}?\b(rate|percentage|share|proportion|number|amount|total|figure|"
    r"count|fraction|ratio|budget|cost|spending|funding|scored?|index|rating|rank|position|"
    r"average|median|value|salary|income|revenue|price|fee|savings?|time)\b|"
    r"\b(where|how)\b[\w\s'’-]{0,60}?\brank(ed)?\b|"
    r"\b(how\s+(many|much|often|long|far|big|large|high)|what\s+(percentage|percent|share|"
    r"proportion|portion|number|rate|ratio|amount|total|figure|level|value|count|fraction)|"
    r"number\s+of|percentage\s+of|how\s+many|share\s+of|rate\s+of|proportion\s+of|amount\s+of|"
    r"total\s+of|count\s+of|what\s+was\s+the\s+(rate|number|share|percentage|total))\b",
    re.IGNORECASE,
)
_PERCENT_CUES = re.compile(
    r"\b(percentage|percent|per\s+cent|share|proportion|rate|ratio|%)", re.IGNORECASE
)
_MONEY_CUES = re.compile(r"\b(how\s+much\s+money|budget|cost|spend|spent|funding|VND|USD|dong)\b",
                         re.IGNORECASE)  # fmt: skip
_CHANGE_CUES = re.compile(
    r"\b(increase|increased|rise|rose|grow|grew|growth|decrease|decreased|decline|fell|fall|"
    r"falls|drop|dropped|cut|reduce|reduced|reduction|change|changed|abolished|eliminated|"
    r"scrapped|axed|removed|dissolved|gain|gained|climb|climbed|jump|jumped|by\s+how\s+much|"
    r"by\s+how\s+many)\b",
    re.IGNORECASE,
)
_COUNTED = re.compile(r"\bhow\s+many\s+(?:[\w-]+\s+){0,3}?([a-z][\w-]*s)\b", re.IGNORECASE)
_FOLLOW_UP = re.compile(
    r"^\s*(and|what\s+about|how\s+about|what\s+of|and\s+what\s+about|same\s+for|then|also)\b",
    re.IGNORECASE,
)
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TIME = re.compile(
    rf"\b(?P<prep>by|in|during|as\s+of|at|on|until|through|before|after|since|from|for|of)?"
    rf"\s*(?:the\s+)?(?:end\s+of\s+)?(?:(?P<day>\d{{1,2}})\s+)?(?:(?P<month>{_MONTH_NAMES})\.?\s+)?"
    rf"(?:(?P<day2>\d{{1,2}}),?\s+)?(?P<year>(?:19|20)\d\d)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"\b((?:[A-Z][\w'’-]*\s+){1,3})(?i:province|city|district|commune|ward|town|county|region)\b"
)
_NOT_PLACE_WORDS = {
    "which", "what", "each", "every", "the", "this", "that", "a", "an", "how", "in", "of", "for",
    "does", "do", "did", "is", "are", "any", "one", "whose",
}  # fmt: skip
_FRAME = re.compile(r"\b(?:what|how)\s+about\b", re.IGNORECASE)  # "what about X?" asks of X
_RELATIVE = re.compile(r"\b(last|this|previous|past|current)\s+year\b", re.IGNORECASE)
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\b.{0,40}\b(instruction|prompt|rule|above|previous|context)s?\b|"
    r"\b(system\s+(prompt|override)|you\s+are\s+now|pretend\s+(to\s+be|that)|act\s+as|"
    r"say\s+that|answer\s+with|print\s+your)\b",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class TimeSpan:
    """When the question asks about: `start`..`end` inclusive; `by` means "as of the end"."""

    start: dt.date | None
    end: dt.date | None
    by: bool
    text: str
    year: int | None = None  # the year named, if one is

    def contains(self, day: dt.date | None) -> bool:
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Question:
    text: str  # as asked, trimmed
    search_text: str  # what retrieval looks for (a follow-up carries its earlier subject)
    wants_figure: bool
    wants_percent: bool
    wants_money: bool
    wants_change: bool
    counted: str | None  # "cards" in "how many ID cards ..."
    terms: tuple[str, ...]  # stemmed content words, time words removed
    focus: tuple[str, ...]  # the terms that pick a figure: a follow-up's own words
    names: tuple[str, ...]  # proper names asked about ("Thailand", "Thanh Hoa")
    places: tuple[
        str, ...
    ]  # places the question is limited to ("thanh hoa" in "Thanh Hoa province")
    time: TimeSpan | None
    is_follow_up: bool
    is_instruction: bool  # tries to instruct the assistant ("ignore your instructions and ...")


def understand(
    question: str, history: list[dict] | None = None, newest: dt.date | None = None
) -> Question:
    """Read a question; `newest` is the newest document's date, for "last year"."""
    text = " ".join(question.split())
    previous = _last_user_turn(history or [])
    follow_up = previous is not None and _looks_like_follow_up(text)
    own = _read(text, newest)
    if not follow_up:
        return own
    before = _read(previous, newest)
    search_text = f"{_strip_time(previous)} {_strip_time(text)}".strip()
    return Question(
        text=text,
        search_text=search_text,
        wants_figure=own.wants_figure or before.wants_figure,
        wants_percent=own.wants_percent or (before.wants_percent and not own.counted),
        wants_money=own.wants_money or before.wants_money,
        wants_change=own.wants_change or before.wants_change,
        counted=own.counted or (None if own.terms else before.counted),
        terms=tuple(dict.fromkeys(before.terms + own.terms)),
        focus=own.terms or before.terms,
        names=tuple(dict.fromkeys(before.names + own.names)),
        places=own.places or before.places,
        time=own.time or before.time,
        is_follow_up=True,
        is_instruction=own.is_instruction,
    )


def _read(text: str, newest: dt.date | None) -> Question:
    counted = _COUNTED.search(text)
    return Question(
        text=text,
        search_text=text,
        wants_figure=bool(_FIGURE_CUES.search(text)),
        wants_percent=bool(_PERCENT_CUES.search(text)),
        wants_money=bool(_MONEY_CUES.search(text)) or _names_a_currency(text),
        wants_change=bool(_CHANGE_CUES.search(text)),
        counted=counted.group(1).lower() if counted else None,
        terms=(terms := tuple(dict.fromkeys(tokenize(_FRAME.sub(" ", _strip_time(text)))))),
        focus=terms,
        names=_names(text),
        places=_places(text),
        time=read_time(text, newest),
        is_follow_up=False,
        is_instruction=bool(_INSTRUCTION.search(text)),
    )


def read_time(text: str, newest: dt.date | None = None) -> TimeSpan | None:
    """The time a question names: 'by 2023', 'in November 2023', 'last year', '15 Jan 2025'."""
    match = _TIME.search(text)
    if match:
        return _span(match)
    relative = _RELATIVE.search(text)
    if relative and newest:
        year = newest.year - (1 if relative.group(1).lower() in ("last", "previous", "past") else 0)
        return TimeSpan(dt.date(year, 1, 1), dt.date(year, 12, 31), False, relative.group(0))
    return None


def _span(match: re.Match) -> TimeSpan:
    year = int(match.group("year"))
    prep = " ".join((match.group("prep") or "").lower().split())
    month = _MONTHS.get((match.group("month") or "").lower().rstrip("."))
    day = match.group("day") or match.group("day2")
    if month and day and 1 <= int(day) <= calendar.monthrange(year, month)[1]:
        start = end = dt.date(year, month, int(day))
    elif month:
        start = dt.date(year, month, 1)
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
    else:
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    by = prep in ("by", "as of", "until", "through", "before")
    if prep in ("after", "since", "from"):
        return TimeSpan(start, None, False, match.group(0).strip(), year)
    # "by 2023" asks for the count as it stood in 2023, not for one from years before
    start = dt.date(year, 1, 1) if by else start
    return TimeSpan(start, end, by, match.group(0).strip(), year)


def _names_a_currency(text: str) -> bool:
    """'How many DKK ...', 'in NZD': an ISO currency code, in capitals."""
    return any(word in ISO_CURRENCIES for word in re.findall(r"\b[A-Z]{3}\b", text))


def _names(text: str) -> tuple[str, ...]:
    """Capitalized words after the first word, months and all-caps acronyms left out."""
    words = re.findall(r"[^\W\d_][\w-]*", text)[1:]
    return tuple(
        w.lower()
        for w in words
        if len(w) >= 3 and w[0].isupper() and not w.isupper() and w.lower() not in _MONTHS
    )


def _places(text: str) -> tuple[str, ...]:
    """'Thanh Hoa' in 'How many units does Thanh Hoa province have?' (not 'Which province')."""
    found = []
    for match in _PLACE.finditer(text):
        words = match.group(1).lower().split()
        while words and words[0] in _NOT_PLACE_WORDS:
            words.pop(0)
        if words:
            found.append(" ".join(words))
    return tuple(found)


def _strip_time(text: str) -> str:
    text = _TIME.sub(" ", text)
    return " ".join(_RELATIVE.sub(" ", text).split())


def _last_user_turn(history: list[dict]) -> str | None:
    for turn in reversed(history):
        if str(turn.get("role", "")).lower() == "user" and str(turn.get("content", "")).strip():
            return " ".join(str(turn["content"]).split())
    return None


def _looks_like_follow_up(text: str) -> bool:
    """Short, or starting 'and ...' / 'what about ...', or with no subject of its own."""
    if _FOLLOW_UP.search(text):
        return True
    content = tokenize(_strip_time(text))
    return len(content) <= 1
