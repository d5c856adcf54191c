"""Figure extraction: every number a sentence states, typed (value, qualifier, unit, subject, date).

Rule-based and deterministic on purpose: a figure must be the sentence's own number, never a
guess. The sentence is cut into tokens (numbers, words, symbols) and each number is read with its
neighbours: a scale word after it ("76 million"), a currency or percent sign, a qualifier before or
after ("more than", "or more"), a counted noun ("cards"), a change word ("up", "increase of"), a
total ("53/63", "53 out of 63"). Numbers that are identifiers, not quantities, are dropped: years,
dates, document numbers ("Decree 107", "No. 01/NQ-CP"), ordinals, phone numbers, list markers,
times, codes ("COVID-19").
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.sentences import sentence_spans
from index.tables import TableRow
from index.types import Figure

_TOKEN = re.compile(r"(?P<num>\d+(?:[.,]\d+)*)|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)?)|(?P<sym>\S)")

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5,
    "fifths": 5, "sixth": 6, "sixths": 6, "eighth": 8, "eighths": 8, "tenth": 10, "tenths": 10,
}  # fmt: skip
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9,
    "billions": 1e9, "trillion": 1e12, "mn": 1e6, "mln": 1e6, "bn": 1e9, "bln": 1e9, "tn": 1e12,
    "k": 1e3, "m": 1e6, "b": 1e9,
}  # fmt: skip
_BIG_SCALES = {"hundred", "thousand", "million", "billion", "trillion"}
_SHORT_SCALES = {"k", "m", "b"}  # only when written against the number: "76m", "$3b"
_CURRENCY = {"vnd": "VND", "vnđ": "VND", "dong": "VND", "đồng": "VND", "usd": "USD",
             "dollars": "USD", "dollar": "USD", "eur": "EUR", "euros": "EUR"}  # fmt: skip
# ISO 4217 codes, read as money only in capitals ("DKK 1.05 billion"; not "try 5 times")
ISO_CURRENCIES = frozenset({
    "VND", "USD", "EUR", "GBP", "JPY", "CNY", "KRW", "SGD", "HKD", "TWD", "DKK", "SEK", "NOK",
    "ISK", "CHF", "PLN", "CZK", "HUF", "RON", "BGN", "UAH", "RUB", "TRY", "ILS", "AUD", "NZD",
    "CAD", "MXN", "BRL", "ARS", "CLP", "COP", "PEN", "UYU", "INR", "PKR", "BDT", "LKR", "NPR",
    "MYR", "THB", "IDR", "KHR", "LAK", "MMK", "MNT", "KZT", "UZS", "AED", "SAR", "QAR", "KWD",
    "EGP", "MAD", "NGN", "GHS", "KES", "UGX", "TZS", "RWF", "ETB", "ZAR",
})  # fmt: skip
MONEY_UNITS = frozenset(code.lower() for code in ISO_CURRENCIES)  # Figure.unit, lowercased
_CURRENCY_SYMBOLS = {"$": "USD", "₫": "VND", "đ": "VND", "€": "EUR", "£": "GBP", "₩": "KRW",
                     "₹": "INR"}  # fmt: skip
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS["sept"] = 9
# A number right after one of these names a thing ("Decree 107", "Level 4", "No. 01").
_IDENTIFIER_WORDS = {
    "no", "nos", "number", "decree", "decrees", "resolution", "resolutions", "decision",
    "decisions", "circular", "circulars", "directive", "directives", "project", "law", "article",
    "articles", "clause", "clauses", "chapter", "point", "level", "section", "conclusion",
    "letter", "dispatch", "plan", "notice", "program", "programme", "item", "step", "phase",
    "version", "session", "meeting", "term", "congress", "room", "annex", "appendix", "table",
    "figure", "page", "route", "highway", "district", "ward", "grade", "class", "category",
    "type", "group", "stage", "tier", "industry", "vision", "strategy", "document", "report",
    "official", "code", "hotline", "phone", "tel", "telephone", "fax", "call", "dial", "zone",
    "road", "street", "block", "building", "floor", "lot", "unit", "model", "form", "week",
}  # fmt: skip
_REFERENCE_WORDS = {"compared", "than", "since", "versus", "vs", "from", "over", "against"}
# Words that make a year after the document's own a date ('by 2030'), not a count ('opened 2071')
_FUTURE_YEAR_WORDS = {"by", "in", "until", "till", "to", "before", "through", "during", "for", "of"}
_PHONE_WORDS = {"hotline", "phone", "tel", "telephone", "fax", "call", "dial", "mobile"}
_ORDINAL_SUFFIXES = {"st", "nd", "rd", "th"}
_TIME_WORDS = {"am", "pm", "a.m", "p.m", "h", "hrs", "o'clock", "gmt", "utc"}
_QUALIFIERS_BEFORE = [
    (("more", "than"), "more_than"), (("greater", "than"), "more_than"),
    (("upwards", "of"), "more_than"), (("in", "excess", "of"), "more_than"),
    (("exceeding",), "more_than"), (("over",), "over"), (("above",), "over"),
    (("just", "over"), "over"), (("nearly",), "nearly"), (("almost",), "nearly"),
    (("close", "to"), "nearly"), (("approaching",), "nearly"), (("just", "under"), "nearly"),
    (("about",), "about"), (("around",), "about"), (("approximately",), "about"),
    (("approx",), "about"), (("roughly",), "about"), (("some",), "about"),
    (("an", "estimated"), "about"), (("estimated",), "about"), (("circa",), "about"),
    (("up", "to"), "up_to"), (("at", "most"), "up_to"), (("as", "many", "as"), "up_to"),
    (("as", "much", "as"), "up_to"), (("a", "maximum", "of"), "up_to"),
    (("no", "more", "than"), "up_to"), (("not", "more", "than"), "up_to"),
    (("not", "exceeding"), "up_to"), (("no", "greater", "than"), "up_to"),
    (("not", "less", "than"), "at_least"), (("not", "fewer", "than"), "at_least"),
    (("at", "least"), "at_least"), (("no", "fewer", "than"), "at_least"),
    (("no", "less", "than"), "at_least"), (("a", "minimum", "of"), "at_least"),
    (("less", "than"), "less_than"), (("fewer", "than"), "less_than"),
    (("under",), "less_than"), (("below",), "less_than"),
]  # fmt: skip
_QUALIFIERS_AFTER = [
    (("or", "more"), "at_least"), (("and", "above"), "at_least"), (("or", "above"), "at_least"),
    (("or", "so"), "about"), (("or", "thereabouts"), "about"), (("or", "less"), "up_to"),
    (("or", "fewer"), "up_to"),
    (("plus",), "more_than"), (("odd",), "about"),
]  # fmt: skip
_INCREASE = {
    "up", "increase", "increased", "increases", "increasing", "rise", "rose", "risen", "rising",
    "rises", "grew", "grow", "grown", "grows", "growing", "growth", "gain", "gained", "gains",
    "jump", "jumped", "jumps", "climb", "climbed", "climbs", "surge", "surged", "higher",
    "expanded", "expand", "added", "boosted",
}  # fmt: skip
_DECREASE = {
    "down", "decrease", "decreased", "decreases", "decreasing", "decline", "declined",
    "declines", "declining", "fell", "fall", "fallen", "falls", "falling", "drop", "dropped",
    "drops", "reduce", "reduced", "reduces", "reducing", "reduction", "reductions", "cut",
    "cuts", "cutting", "lower", "lowered", "shrank", "shrunk", "slashed", "slash", "trimmed",
    "eliminated", "abolished", "removed", "scrapped", "merged", "dissolved",
}  # fmt: skip
_AUXILIARIES = {"was", "were", "will", "be", "been", "being", "is", "are", "have", "has", "had",
                "would", "to", "shall", "must", "should", "then", "also"}  # fmt: skip
_CHANGE_LINKS = {"by", "of", "a", "an", "some", "another", "nearly", "about", "over"}
# Words that end the noun phrase a number counts ("76 million cards [have] been issued").
_PHRASE_STOP = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
    "but", "as", "than", "that", "which", "who", "whom", "whose", "this", "these", "those",
    "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "will", "would",
    "can", "could", "should", "may", "might", "must", "shall", "do", "does", "did", "not",
    "per", "each", "across", "into", "over", "under", "via", "since", "until", "during",
    "while", "when", "where", "after", "before", "compared", "out", "up", "down", "so",
    "more", "less", "fewer", "nationwide", "respectively", "about", "around", "among", "within",
    "percent", "percentage", "points", "point", "its", "their", "his", "her", "between",
    "through", "against", "toward", "towards", "along", "without", "throughout", "beyond",
    "including", "like", "worth", "versus", "vs", "if", "because", "although",
}  # fmt: skip
_SUBJECT_VERBS = {
    "reached", "reach", "reaches", "was", "were", "is", "are", "stood", "stands", "at", "hit",
    "totaled", "totalled", "total", "amounted", "to", "of", "accounted", "for", "been", "has",
    "have", "had", "with", "by", "about", "around", "nearly", "over", "some", "than", "more",
    "up", "down", "only", "just", "approximately", "almost", "estimated", "an", "a", "the",
    "be", "will", "rose", "fell", "increased", "decreased", "grew", "exceeded", "achieved",
    "recorded", "attained", "least", "less", "fewer", "as", "many", "much", "close",
}  # fmt: skip


@dataclass
class _Token:
    kind: str  # "num", "word" or "sym"
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


@dataclass
class _Reading:
    """One figure being read, from its first token to its last."""

    first: int
    last: int
    value: float
    qualifier: str = "exact"
    unit: str | None = None
    of_total: float | None = None
    value_max: float | None = None
    change: str | None = None
    noun_end: int | None = None
    part_of: _Reading | None = None  # "706 people, 361 of whom": 361 counts part of the 706


def extract_figures(
    text: str,
    doc_date: dt.date | None = None,
    doc_id: str = "",
    chunk_id: str = "",
    tables: dict[str, TableRow] | None = None,
) -> list[Figure]:
    """All figures in `text` (a chunk or any passage), with spans into `text`. A figure in a
    row of one of the document's `tables` (index.tables) takes its column's header and the
    row's label as its subject, and, when the row gives no date, the caption's or header's."""
    figures: list[Figure] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        row = tables.get(sentence.strip()) if tables else None
        dated = _table_date(row, doc_date) if row is not None else doc_date
        for fig in extract_from_sentence(sentence, dated):
            if row is not None:
                column = row.column_of(fig.span[0], sentence)
                fig.subject = row.subject_at(column) or fig.subject
                fig.column, fig.row = row.header_of(column), row.label or None
                if fig.unit is None and not fig.change:
                    fig.unit = _header_unit(row.unit_of(column), fig.value)
                    _scale_by_header(fig, row.header_of(column), row.label)
            fig.span = (fig.span[0] + start, fig.span[1] + start)
            fig.doc_id, fig.chunk_id = doc_id, chunk_id
            figures.append(fig)
    return figures


def _header_unit(unit: str | None, value: float) -> str | None:
    """A column's unit, for a bare number it can be: a rank is a whole number from 1."""
    if unit == "rank" and not (value.is_integer() and value >= 1):
        return None
    return unit


_HEADER_NOTE = re.compile(r"\(([^()]*)\)|\bin\s+((?:[A-Z]{3}\s+)?[a-z]+)\s*(?:\||$)")


def _scale_by_header(fig: Figure, header: str | None, label: str) -> None:
    """A bare cell under 'Cards issued (million)' or 'Budget (DKK billion)', or in the row 'MitID
    users (million)', counts millions, or billions of kroner: its value is scaled and its unit is
    the currency. The text stays as written."""
    if fig.unit is not None:
        return
    for note in _HEADER_NOTE.finditer(f"{header or ''} | {label}"):
        words = (note.group(1) or note.group(2)).replace("'000", "thousand").split()
        scales = [_SCALES[w.lower()] for w in words if w.lower() in _SCALES and w.lower() != "k"]
        codes = [w for w in words if w in ISO_CURRENCIES]
        if len(words) > 3 or not (scales or codes) or len(words) > len(scales) + len(codes):
            continue  # a note that says more than a scale and a currency is about something else
        if scales:
            fig.value *= scales[0]
            if fig.value_max is not None:
                fig.value_max *= scales[0]
        if codes:
            fig.unit = codes[0]
        return


def _table_date(row: TableRow, doc_date: dt.date | None) -> dt.date | None:
    """The last date the table's caption or header row states, else the document's."""
    for text in (row.header_line, row.caption):
        dates = _dates_in(_tokens(text), doc_date)
        if dates:
            return dates[-1][1]
    return doc_date


def distinct_figures(figures: Iterable[Figure]) -> list[Figure]:
    """A figure in the overlap of two chunks is stored twice: keep its first reading."""
    found: dict[tuple, Figure] = {}
    for figure in figures:
        found.setdefault((figure.doc_id, figure.sentence, figure.text), figure)
    return list(found.values())


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(m.lastgroup or "sym", m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)
    ]


def extract_from_sentence(sentence: str, doc_date: dt.date | None = None) -> list[Figure]:
    tokens = _tokens(sentence)
    dates = _dates_in(tokens, doc_date)
    readings: list[_Reading] = []
    i = 0
    while i < len(tokens):
        reading = _read_at(tokens, i)
        if reading is None:
            i += 1
            continue
        if isinstance(reading, int):  # an identifier: skip all of its tokens
            i = reading
            continue
        readings.append(reading)
        i = reading.last + 1
    _link_parts(tokens, readings)
    return [_figure(sentence, tokens, r, dates, doc_date) for r in readings]


_PART_WORDS = {("of", "whom"), ("of", "which"), ("of", "them"), ("of", "these"), ("among", "them")}


def _link_parts(tokens: list[_Token], readings: list[_Reading]) -> None:
    """'706 surplus people, 361 of whom ...' and '1,086 regulations, of which 437 ...': the
    second number counts part of the first, so it takes its unit and subject and the first as
    its total."""
    for earlier, reading in itertools.pairwise(readings):
        if reading.unit is not None or reading.of_total is not None:
            continue
        if earlier.unit in (None, "%", "points") or earlier.value <= reading.value:
            continue
        after = (_word_at(tokens, reading.last + 1), _word_at(tokens, reading.last + 2))
        before = (_word_at(tokens, reading.first - 2), _word_at(tokens, reading.first - 1))
        if after in _PART_WORDS or before in _PART_WORDS:
            reading.unit, reading.of_total, reading.part_of = earlier.unit, earlier.value, earlier


# --- reading one number ---------------------------------------------------------------------


def _read_at(tokens: list[_Token], i: int) -> _Reading | int | None:
    """A figure starting at token i, an int (index to resume after an identifier), or None."""
    tok = tokens[i]
    if tok.kind == "num":
        rank = _read_rank(tokens, i)
        if rank is not None:
            return rank
        skip = _identifier_end(tokens, i)
        if skip is not None:
            return skip
        return _read_number(tokens, i)
    if tok.kind == "word" and tok.low == "half" and _is_half_year(tokens, i):
        return None
    if tok.kind == "word" and (tok.low in _UNITS or tok.low in _TENS or tok.low == "half"):
        return _read_word_number(tokens, i)
    if tok.kind == "word" and tok.low in ("a", "one") and _next_is_fraction_word(tokens, i):
        return _read_word_number(tokens, i)
    if tok.kind == "word" and tok.low == "a" and _word_at(tokens, i + 1) in _BIG_SCALES:
        return _read_word_number(tokens, i)  # "a million"
    return None


def _is_half_year(tokens: list[_Token], i: int) -> bool:
    """'the first half of 2023', 'in the half-year', 'second half': a period, not a figure."""
    after = [_at(tokens, j) for j in (i + 1, i + 2)]
    if _word_at(tokens, i - 1) in ("first", "second", "latter"):
        return True
    if after[0] is not None and after[0].text in "-‐" and _word_at(tokens, i + 2) == "year":
        return True
    if _word_at(tokens, i + 1) == "year":
        return True
    return (
        _word_at(tokens, i + 1) == "of"
        and after[1] is not None
        and after[1].kind == "num"
        and re.fullmatch(r"(19|20)\d\d", after[1].text) is not None
    )


_RANK_WORDS = {
    "rank", "ranked", "ranks", "ranking", "placed", "position", "came", "finished", "stood",
    "stands", "sits", "sat", "climbed", "rose", "fell", "dropped", "slipped", "moved", "jumped",
}  # fmt: skip


def _read_rank(tokens: list[_Token], i: int) -> _Reading | None:
    """A rank or position: 'ranked 7th', 'rose to 11th of 63', '3rd place', '| 7th |' in a table
    row; not 'the 3rd meeting' (an ordinal is a rank only with a ranking word before it, 'of N'
    or 'place' after, or as a table cell)."""
    tok, nxt = tokens[i], _at(tokens, i + 1)
    if not (nxt and _adjacent(tok, nxt) and nxt.kind == "word" and nxt.low in _ORDINAL_SUFFIXES):
        return None
    if not tok.text.isdigit():
        return None
    after = [_word_at(tokens, j) for j in range(i + 2, i + 5)]
    of_total, last = None, i + 1
    if after[0] == "of" and _num_at(tokens, i + 3):
        of_total, last = float(tokens[i + 3].text.replace(",", "")), i + 3
    elif after[:2] == ["out", "of"] and _num_at(tokens, i + 4):
        of_total, last = float(tokens[i + 4].text.replace(",", "")), i + 4
    before = {_word_at(tokens, j) for j in range(max(0, i - 3), i)}
    in_table = "|" in (_word_at(tokens, i - 1), _word_at(tokens, i + 2))  # a rank column
    if (
        of_total is None
        and not in_table
        and not (before & _RANK_WORDS)
        and after[0] not in ("place", "position")
        and not _bare_rank(tokens, i)
    ):
        return None
    return _Reading(i, last, float(tok.text), unit="rank", of_total=of_total)


_RANK_CONTEXT = re.compile(r"^(rank\w*|places?|positions?|top|spots?|table|league)$")
_AFTER_BARE_RANK = {"with", "in", "among", "globally", "overall", "worldwide", "and", "behind",
                    "ahead", "after", "on", "out"}  # fmt: skip
_BEFORE_BARE_RANK = {"to", "from", "held", "holds", "hold", "was", "is", "at", "remained"}


def _bare_rank(tokens: list[_Token], i: int) -> bool:
    """'rose three places to 8th,', 'Da Nang 8th with 87.72%' in a sentence that ranks: an
    ordinal that qualifies no noun (not 'the 3rd meeting'), after 'to', 'held' ... or in a
    sentence about ranks or places."""
    nxt = _at(tokens, i + 2)
    if nxt is not None and nxt.kind == "word" and nxt.low not in _AFTER_BARE_RANK:
        return False
    if _word_at(tokens, i - 1) in _BEFORE_BARE_RANK:
        return True
    return any(t.kind == "word" and _RANK_CONTEXT.match(t.low) for t in tokens)


def _identifier_end(tokens: list[_Token], i: int) -> int | None:
    """If the number at i is not a quantity, the index just past it; else None."""
    tok, prev, nxt = tokens[i], _at(tokens, i - 1), _at(tokens, i + 1)
    if nxt and _adjacent(tok, nxt) and nxt.kind == "word" and nxt.low in _ORDINAL_SUFFIXES:
        return i + 2  # 3rd, 10th
    if prev and _adjacent(prev, tok) and prev.kind == "word" and not _currency_word(prev):
        return i + 1  # G20, US3 (an id glued to letters)
    if _glued_code_letter(tok, nxt):
        return i + 2  # 5G, 3D
    if prev and prev.text in "-‐" and _adjacent(prev, tok):
        before = _at(tokens, i - 2)
        if before and before.kind == "word" and _adjacent(before, prev):
            return i + 1  # COVID-19, VNeID-2
    if prev and prev.text in ("#", "№"):
        return _skip_number_run(tokens, i)
    if prev and prev.text == "+" and (_num_at(tokens, i + 1) or _word_at(tokens, i - 2) == "call"):
        return _skip_number_run(tokens, i)  # +84 24 3822 ...: a phone number
    if _is_slash_code(tokens, i):
        return _skip_code(tokens, i)
    if _is_clock(tokens, i):
        return i + 3  # 9:30
    if _is_clock_time(tok, nxt):
        return i + 2
    if _is_list_marker(tokens, i):
        return i + 2
    if _is_phone(tokens, i):
        return _skip_number_run(tokens, i)
    if _after_identifier_word(tokens, i):
        return _skip_code(tokens, i)
    if _is_date_part(tokens, i) or _is_year(tokens, i):
        return _skip_year_range(tokens, i)
    if len(tok.text) > 1 and tok.text[0] == "0" and tok.text[1].isdigit():
        return i + 1  # 01, 06: codes, not quantities
    return None


def _read_number(tokens: list[_Token], i: int) -> _Reading | None:
    value = _parse_digits(tokens[i].text, _money_context(tokens, i))
    if value is None:
        return None
    return _read_around(tokens, _Reading(first=i, last=i, value=value))


def _read_word_number(tokens: list[_Token], i: int) -> _Reading | None:
    value, last = _word_value(tokens, i)
    if value is None:
        return None
    reading = _Reading(first=i, last=last, value=value)
    low = tokens[i].low
    in_total = _word_at(tokens, last + 1) == "in" and _word_number_at(tokens, last + 2)
    if low == "one" and not in_total and not _counts_something(tokens, last):
        return None  # "one of the", "one-stop", "no one"
    nxt = _at(tokens, last + 1)
    after = _at(tokens, last + 2)
    if nxt and nxt.text in "-‐" and after and after.low in _DENOMINATORS:  # two-thirds
        reading.of_total, reading.last = _DENOMINATORS[after.low], last + 2
    elif nxt and nxt.low in _DENOMINATORS and nxt.low not in ("half", "halves"):
        reading.of_total, reading.last = _DENOMINATORS[nxt.low], last + 1  # "a third", "one fifth"
    elif low == "half":
        reading.value, reading.of_total = 1, 2
    return _read_around(tokens, reading)


def _read_around(tokens: list[_Token], r: _Reading) -> _Reading:
    """Everything written around a number: scale, total, range, unit, qualifier, change."""
    _read_scale(tokens, r)
    _read_fraction(tokens, r)
    _read_range(tokens, r)
    _read_unit(tokens, r)
    _read_qualifier(tokens, r)
    _read_change(tokens, r)
    return r


def _word_value(tokens: list[_Token], i: int) -> tuple[float | None, int]:
    """'twenty-five' -> 25, 'three' -> 3, 'a' (before 'third') -> 1, 'half' -> 1."""
    low = tokens[i].low
    if low == "a":
        return 1, i
    if low == "half":
        return 1, i
    value = _UNITS.get(low) or _TENS.get(low)
    last = i
    if low in _TENS:
        dash, unit = _at(tokens, i + 1), _at(tokens, i + 2)
        if dash and dash.text in "-‐" and unit and unit.low in _UNITS and unit.low != "ten":
            value, last = value + _UNITS[unit.low], i + 2
    hundred = _at(tokens, last + 1)
    if hundred and hundred.low == "hundred":
        value, last = value * 100, last + 1
    return value, last


def _word_number_at(tokens: list[_Token], i: int) -> bool:
    tok = _at(tokens, i)
    return tok is not None and (tok.kind == "num" or tok.low in _UNITS or tok.low in _TENS)


def _next_is_fraction_word(tokens: list[_Token], i: int) -> bool:
    nxt = _at(tokens, i + 1)
    return bool(nxt and nxt.low in _DENOMINATORS and nxt.low not in ("half", "halves"))


def _counts_something(tokens: list[_Token], last: int) -> bool:
    nxt = _at(tokens, last + 1)
    if nxt is None or nxt.kind != "word":
        return bool(nxt and nxt.text == "%")
    return nxt.low not in _PHRASE_STOP and nxt.low not in ("another", "stop", "door", "day")


def _read_scale(tokens: list[_Token], r: _Reading) -> None:
    nxt = _at(tokens, r.last + 1)
    if nxt is None or nxt.kind != "word" or nxt.low not in _SCALES:
        return
    if nxt.low in _SHORT_SCALES and not _adjacent(tokens[r.last], nxt):
        return
    if nxt.low == "hundred" and r.value >= 100:
        return
    r.value *= _SCALES[nxt.low]
    r.last += 1
    following = _at(tokens, r.last + 1)  # "two hundred thousand", "1.2 thousand billion"
    if (
        following
        and following.low in _SCALES
        and following.low not in _SHORT_SCALES
        and _SCALES[following.low] > _SCALES[nxt.low]
    ):
        r.value *= _SCALES[following.low]
        r.last += 1


def _read_fraction(tokens: list[_Token], r: _Reading) -> None:
    """'53/63' and '53 out of 63' and '53 of the 63' -> value 53, of_total 63."""
    slash, total = _at(tokens, r.last + 1), _at(tokens, r.last + 2)
    if slash and slash.text == "/" and total and total.kind == "num" and _adjacent(slash, total):
        r.of_total = _parse_digits(total.text, False)
        r.last += 2
        return
    words = [t.low for t in tokens[r.last + 1 : r.last + 5]]
    patterns = (["out", "of"], ["of", "the"], ["of", "all"], ["of", "its"], ["of", "their"],
                ["of"], ["in"])  # fmt: skip
    for pattern in patterns:
        n = len(pattern)
        at = r.last + 1 + n
        if words[:n] != pattern or not _word_number_at(tokens, at) or _is_year(tokens, at):
            continue
        if tokens[at].kind == "num":
            r.of_total = _parse_digits(tokens[at].text, False)
        else:
            r.of_total, _ = _word_value(tokens, at)
        r.last = at
        return


def _read_range(tokens: list[_Token], r: _Reading) -> None:
    """'10-15%', '10 to 15 million' only after 'between'/'from', 'between 10 and 15'."""
    i = r.last + 1
    percent_first = _at(tokens, i) is not None and tokens[i].text == "%"
    if percent_first:
        i += 1
    dash = _at(tokens, i)
    if dash is None:
        return
    prev = _at(tokens, r.first - 1)
    joined = dash.text in "-–—‐"
    between = dash.low == "and" and prev is not None and prev.low == "between"
    # "10 to 15 days" is a range; "from 22 to 17" is a change between two figures
    to = dash.low == "to" and (prev is None or prev.low != "from")
    worded = between or to
    if not (joined or worded):
        return
    if _currency_before(tokens, i + 2) and _num_at(tokens, i + 2):
        i += 1  # "VND 6,000 billion to VND 8,000 billion"
    if not _num_at(tokens, i + 1) or _is_date_part(tokens, i + 1) or _is_year(tokens, i + 1):
        return
    high = _parse_digits(tokens[i + 1].text, False)
    if high is None:
        return
    probe = _Reading(first=i + 1, last=i + 1, value=high)
    _read_scale(tokens, probe)
    low_value = r.value
    if probe.value == high and r.value != _parse_digits(tokens[r.first].text, False):
        probe.value = high * (r.value / _parse_digits(tokens[r.first].text, False))
    elif probe.value != high and low_value == _parse_digits(tokens[r.first].text, False):
        low_value = r.value * (probe.value / high)  # "10-15 million": the scale is shared
    if probe.value <= low_value:
        return
    r.value, r.value_max, r.qualifier, r.last = low_value, probe.value, "range", probe.last
    if between:
        r.first -= 1  # "between 10 and 15"


def _read_unit(tokens: list[_Token], r: _Reading) -> None:
    """The unit (%, points, currency) written with the number, a trailing qualifier, the noun."""
    _read_unit_symbol(tokens, r)
    _read_trailing_qualifier(tokens, r)
    if r.unit is None:
        r.unit, r.noun_end = _counted_noun(tokens, r.last + 1, r.of_total is not None)


def _read_unit_symbol(tokens: list[_Token], r: _Reading) -> None:
    currency = _currency_before(tokens, r.first)
    if currency:
        r.unit = currency[0]
        r.first = currency[1]
    nxt = _at(tokens, r.last + 1)
    if nxt is None:
        return
    if nxt.text == "%":
        r.unit, r.last = "%", r.last + 1
        return
    if nxt.kind != "word" or currency:
        return
    low = nxt.low
    if low in ("percent", "pct") or (low == "per" and _word_at(tokens, r.last + 2) == "cent"):
        r.unit, r.last = "%", r.last + (2 if low == "per" else 1)
        if _word_at(tokens, r.last + 1) == "points":
            r.unit, r.last = "points", r.last + 1
    elif low == "percentage" and _word_at(tokens, r.last + 2) in ("point", "points"):
        r.unit, r.last = "points", r.last + 2
    elif low in ("points", "pp", "ppt", "ppts"):
        r.unit, r.last = "points", r.last + 1
    elif _currency_word(nxt):
        r.unit, r.last = _currency_word(nxt), r.last + 1
        if low in ("dollars", "dollar") and _word_at(tokens, r.first - 1) == "us":
            r.first -= 1
    elif low == "us" and _word_at(tokens, r.last + 2) in ("dollars", "dollar"):
        r.unit, r.last = "USD", r.last + 2


def _read_trailing_qualifier(tokens: list[_Token], r: _Reading) -> None:
    """'300 or so', '1,000 plus', '4,000-plus', '500+', '60 percent or thereabouts'."""
    if r.qualifier == "range":
        return
    nxt = _at(tokens, r.last + 1)
    glued = nxt is not None and _adjacent(tokens[r.last], nxt)
    if glued and (nxt.text == "+" or (nxt.text == "-" and _word_at(tokens, r.last + 2) == "plus")):
        r.qualifier, r.last = "more_than", r.last + (1 if nxt.text == "+" else 2)
        return
    after = tuple(t.low for t in tokens[r.last + 1 : r.last + 3])
    for pattern, name in _QUALIFIERS_AFTER:
        if after[: len(pattern)] == pattern:
            r.qualifier, r.last = name, r.last + len(pattern)
            return


def _counted_noun(tokens: list[_Token], i: int, after_total: bool) -> tuple[str | None, int | None]:
    """The head noun of the phrase starting at i ('electronic ID cards' -> 'cards')."""
    if _word_at(tokens, i) == "of" and not after_total:
        return None, None  # "76 million of them"
    j = i
    if after_total or _word_at(tokens, i) == "of":
        while _word_at(tokens, j) in ("of", "the", "all"):
            j += 1
    words: list[int] = []
    while j < len(tokens) and len(words) < 6:
        tok = tokens[j]
        if tok.kind == "sym" and tok.text in "-‐" and words and _at(tokens, j + 1):
            j += 1
            continue
        if tok.kind != "word" or tok.low in _PHRASE_STOP or tok.low in _SCALES:
            break
        if tok.low in _MONTHS and j == i:
            break
        words.append(j)
        j += 1
        if _looks_plural(tok.low) and not _is_modifier(tok.low):
            break  # counted nouns are plural: 'provinces [cut]', 'transactions [worth]'
    while len(words) > 1 and _is_modifier(tokens[words[-1]].low):
        words.pop()
    if not words or (_is_modifier(tokens[words[0]].low) and len(words) == 1):
        return None, None
    head = tokens[words[-1]]
    if head.low.endswith("ly"):
        return None, None
    return head.low, words[-1]


def _looks_plural(word: str) -> bool:
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s"))


def _is_modifier(word: str) -> bool:
    """Words that follow a counted noun without being it: 'cards issued', 'people nationwide'."""
    return word.endswith(("ed", "ing", "ly")) and len(word) > 4


def _read_qualifier(tokens: list[_Token], r: _Reading) -> None:
    if r.qualifier == "range":
        return
    words = [t.low for t in tokens[max(0, r.first - 3) : r.first]]
    for pattern, name in sorted(_QUALIFIERS_BEFORE, key=lambda p: -len(p[0])):
        n = len(pattern)
        written = tokens[r.first - n : r.first] if n <= r.first else []
        if tuple(words[-n:]) == pattern and all(t.kind == "word" for t in written):
            r.qualifier, r.first = name, r.first - n
            return
    if r.qualifier != "exact" or r.noun_end is None:
        return
    after = tuple(t.low for t in tokens[r.noun_end + 1 : r.noun_end + 3])
    for pattern, name in _QUALIFIERS_AFTER:  # "76 million cards or more"
        if after[: len(pattern)] == pattern:
            r.qualifier = name
            return


def _read_change(tokens: list[_Token], r: _Reading) -> None:
    """'up 12%', 'an increase of 3.4 points', 'cut costs by 30%', '8 units were abolished',
    '+2.8' (a signed cell of a table of changes)."""
    sign = _at(tokens, r.first - 1)
    if sign and sign.text == "+" and _adjacent(sign, tokens[r.first]):
        r.first, r.change = r.first - 1, "increase"
        return
    j = r.first - 1
    while j >= 0 and tokens[j].kind == "word" and tokens[j].low in _CHANGE_LINKS:
        j -= 1
    if j >= 0 and j >= r.first - 3 and tokens[j].kind == "word":
        low = tokens[j].low
        if low == "up" and _word_at(tokens, r.first - 1) == "to":
            return
        if low in _INCREASE or low in _DECREASE:
            r.change = "increase" if low in _INCREASE else "decrease"
            return
    if _word_at(tokens, r.first - 1) == "by":  # "reduced compliance costs by 30%"
        for tok in tokens[max(0, r.first - 7) : r.first - 1]:
            if tok.kind == "word" and (tok.low in _INCREASE or tok.low in _DECREASE):
                r.change = "increase" if tok.low in _INCREASE else "decrease"
    if r.change:
        return
    end = r.noun_end if r.noun_end is not None else r.last
    k = end + 1
    while _word_at(tokens, k) in _AUXILIARIES:
        k += 1
    nxt = _word_at(tokens, k)
    if k > end + 1 and nxt in _DECREASE and nxt.endswith("ed"):
        r.change = "decrease"  # "8 units were eliminated"
    elif nxt in _INCREASE and nxt not in ("up", "added", "higher", "expanded"):
        r.change = "increase"
    elif k == end + 1 and nxt in _DECREASE and nxt not in ("down", "cut", "lower", "cuts"):
        r.change = "decrease"


# --- identifiers that are not figures ---------------------------------------------------------


def _glued_code_letter(tok: _Token, nxt: _Token | None) -> bool:
    return bool(
        nxt and _adjacent(tok, nxt) and nxt.kind == "word" and nxt.text.isupper()
        and nxt.low not in _SCALES and not _currency_word(nxt)
    )  # fmt: skip


def _is_clock(tokens: list[_Token], i: int) -> bool:
    """'9:30', 'ISO 9001:2015': numbers joined by a colon; not '2024: 80%' (a year heading a
    figure, the colon followed by a space)."""
    tok, colon, after = tokens[i], _at(tokens, i + 1), _at(tokens, i + 2)
    return bool(
        colon and colon.text == ":" and after and after.kind == "num"
        and _adjacent(tok, colon) and _adjacent(colon, after)
    )  # fmt: skip


def _is_clock_time(tok: _Token, nxt: _Token | None) -> bool:
    return bool(
        nxt and nxt.kind == "word" and nxt.low.rstrip(".") in _TIME_WORDS
        and tok.text.isdigit() and int(tok.text) <= 24
    )  # fmt: skip


def _is_slash_code(tokens: list[_Token], i: int) -> bool:
    """'01/NQ-CP', '107/2024/ND-CP', '15/01/2025' (but '53/63' is a fraction)."""
    slash = _at(tokens, i + 1)
    if not (slash and slash.text == "/" and _adjacent(tokens[i], slash)):
        return False
    after = _at(tokens, i + 2)
    if after is None or not _adjacent(slash, after):
        return False
    if after.kind == "word":
        return True
    second = _at(tokens, i + 3)
    return bool(second and second.text in "/-" and _adjacent(after, second)) or _is_year(
        tokens, i + 2
    )


def _skip_code(tokens: list[_Token], i: int) -> int:
    """Past a code written as glued tokens: '107/2024/ND-CP', '06/QD-TTg'."""
    j = i + 1
    while j < len(tokens) and _adjacent(tokens[j - 1], tokens[j]) and tokens[j].text not in ",.;:)":
        j += 1
    if (
        _num_at(tokens, j + 1)
        and tokens[j].text in ",."
        and _adjacent(tokens[j - 1], tokens[j])
        and _adjacent(tokens[j], tokens[j + 1])
    ):
        return j + 2
    return j


def _skip_number_run(tokens: list[_Token], i: int) -> int:
    j = i
    while j < len(tokens) and (tokens[j].kind == "num" or tokens[j].text in "-.()"):
        j += 1
    return max(j, i + 1)


def _is_list_marker(tokens: list[_Token], i: int) -> bool:
    tok, nxt, prev = tokens[i], _at(tokens, i + 1), _at(tokens, i - 1)
    if not tok.text.isdigit() or len(tok.text) > 2:
        return False
    if i == 0 and nxt and nxt.text in ".)" and _adjacent(tok, nxt):
        return True
    return bool(prev and prev.text == "(" and nxt and nxt.text == ")" and _adjacent(tok, nxt))


def _after_identifier_word(tokens: list[_Token], i: int) -> bool:
    j = i - 1
    if j >= 0 and tokens[j].text == ".":
        j -= 1  # "No. 01"
    if j < 0 or tokens[j].kind != "word":
        return False
    word = tokens[j]
    if word.low in _IDENTIFIER_WORDS:
        return not (word.low == "no" and j > 0 and tokens[j - 1].low in ("with",))
    # "Industry 4.0", "Vision 2045": a name with a number; not at sentence start, not a qualifier
    return (
        j > 0
        and word.text[0].isupper()
        and word.low not in _MONTHS
        and not _currency_word(word)
        and word.text.upper() != word.text
        and "'" not in word.text
        and "’" not in word.text
    )


def _is_phone(tokens: list[_Token], i: int) -> bool:
    tok = tokens[i]
    if not tok.text.isdigit():
        return False
    prev = _word_at(tokens, i - 1)
    if prev in _PHONE_WORDS:
        return True
    nxt = _at(tokens, i + 1)
    return bool(
        nxt and nxt.kind == "num" and nxt.text.isdigit() and len(nxt.text) >= 3
        and len(tok.text) >= 3 and not _is_year(tokens, i)
    )  # fmt: skip


def _is_year(tokens: list[_Token], i: int) -> bool:
    tok = tokens[i]
    if not (tok.text.isdigit() and len(tok.text) == 4 and 1900 <= int(tok.text) <= 2100):
        return False
    nxt = _at(tokens, i + 1)
    if nxt and (nxt.text == "%" or (nxt.kind == "word" and nxt.low in _SCALES)):
        return False
    return not _currency_before(tokens, i)


def _is_date_part(tokens: list[_Token], i: int) -> bool:
    """The day in '15 January' or 'January 15'."""
    tok = tokens[i]
    if not tok.text.isdigit() or not 1 <= int(tok.text) <= 31:
        return False
    prev, nxt = _word_at(tokens, i - 1), _word_at(tokens, i + 1)
    if prev == "." and i >= 2:
        prev = _word_at(tokens, i - 2)
    if nxt in ("to", "-", "–", "and") and _num_at(tokens, i + 2):
        after = _word_at(tokens, i + 3)
        return after in _MONTHS  # "17 to 19 May"
    return (prev in _MONTHS) or (nxt in _MONTHS)


def _skip_year_range(tokens: list[_Token], i: int) -> int:
    """Past '2021-2025' or '2021 to 2025' as a whole."""
    dash, end = _at(tokens, i + 1), _at(tokens, i + 2)
    iso = [t.text for t in tokens[i + 1 : i + 5]]
    if len(iso) == 4 and iso[0] == iso[2] == "-" and all(len(x) == 2 for x in iso[1::2]):
        return i + 5  # 2025-03-31
    ranged = dash is not None and dash.text in "-–—/" and end is not None and end.kind == "num"
    if ranged and (_is_year(tokens, i + 2) or (len(end.text) == 2 and _adjacent(dash, end))):
        return i + 3  # 2021-2025, 2019-20
    return i + 1


# --- small readers ----------------------------------------------------------------------------


def _parse_digits(text: str, money: bool) -> float | None:
    """'1,234,567' / '1.234.567' / '52.8' / '3,5' / '2.000' (thousands in a VND context)."""
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        return float(text.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(\.\d{3}){2,}(,\d+)?", text):
        return float(text.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d{1,3}\.\d{3}", text) and (money or text.endswith("00")):
        return float(text.replace(".", ""))
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return float(text.replace(",", "."))
    if re.fullmatch(r"\d+,\d{3}", text):
        return float(text.replace(",", ""))
    return None


def _currency_word(tok: _Token | None) -> str | None:
    """'VND' for 'dong', 'DKK' for 'DKK'; None for a word that is not a currency."""
    if tok is None or tok.kind != "word":
        return None
    if tok.low in _CURRENCY:
        return _CURRENCY[tok.low]
    return tok.text if tok.text in ISO_CURRENCIES else None


def _money_context(tokens: list[_Token], i: int) -> bool:
    if _currency_before(tokens, i):
        return True
    return any(_currency_word(tok) for tok in tokens[i + 1 : i + 3])


def _currency_before(tokens: list[_Token], i: int) -> tuple[str, int] | None:
    """('VND', first token) when a currency is written before the number: 'VND 2,000', 'US$3'."""
    prev = _at(tokens, i - 1)
    if prev is None:
        return None
    if prev.text == "$":
        us = _at(tokens, i - 2)
        if us and us.low == "us" and _adjacent(us, prev):
            return "USD", i - 2
        return "USD", i - 1
    if prev.text in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[prev.text], i - 1
    code = _currency_word(prev)
    if code and prev.low not in ("dong", "đồng", "dollars", "dollar", "euros"):  # these follow
        return code, i - 1
    return None


def _dates_in(tokens: list[_Token], doc_date: dt.date | None) -> list[tuple[int, dt.date]]:
    """(token index, date) for each date, month or year the sentence names."""
    found: list[tuple[int, dt.date]] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "num" and _is_year(tokens, i) and not _is_phone(tokens, i):
            if not _is_reference_year(tokens, i) and not _is_unmarked_future(tokens, i, doc_date):
                found.append((i, _date_ending_at(tokens, i, doc_date)))
        elif tok.low in ("last", "this", "past") and doc_date and _word_at(tokens, i + 1) == "year":
            year = doc_date.year - (1 if tok.low in ("last", "past") else 0)
            found.append((i, _period_end(year, None, doc_date)))
    return found


def _is_unmarked_future(tokens: list[_Token], i: int, doc_date: dt.date | None) -> bool:
    """A year after the document's, with no 'by', 'in', 'until' before it: 'opened 2071 service
    counters' in a 2024 report states no date in 2071."""
    if doc_date is None or int(tokens[i].text) <= doc_date.year:
        return False
    j = i - 1
    while j >= 0 and (
        tokens[j].text.isdigit() or tokens[j].low in _MONTHS or tokens[j].text == ","
    ):
        j -= 1  # 'by 31 December, 2030'
    return j < 0 or tokens[j].low not in _FUTURE_YEAR_WORDS


def _is_reference_year(tokens: list[_Token], i: int) -> bool:
    """'compared to 2023', 'than in 2022', 'since 2020': a baseline, not the figure's date."""
    before = {t.low for t in tokens[max(0, i - 4) : i]}
    return bool(before & _REFERENCE_WORDS)


def _date_ending_at(tokens: list[_Token], year_index: int, doc_date: dt.date | None) -> dt.date:
    """'15 January 2025' and 'January 15, 2025' -> that day; 'January 2025' and '2025' -> the
    period's last day (capped at the document's date when the period holds it)."""
    year = int(tokens[year_index].text)
    window = tokens[max(0, year_index - 4) : year_index]
    month = next((_MONTHS[t.low] for t in reversed(window) if t.low in _MONTHS), None)
    if month is not None:
        days = [int(t.text) for t in window if t.text.isdigit() and 1 <= int(t.text) <= 31]
        if days and days[-1] <= calendar.monthrange(year, month)[1]:
            return dt.date(year, month, days[-1])
    return _period_end(year, month, doc_date)


def _period_end(year: int, month: int | None, doc_date: dt.date | None) -> dt.date:
    """The last day of the year or month named; never after the document's own date."""
    if month:
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
    else:
        end = dt.date(year, 12, 31)
    if (
        doc_date
        and end > doc_date
        and (year, month or doc_date.month)
        <= (
            doc_date.year,
            doc_date.month,
        )
    ):
        return doc_date
    if doc_date and end > doc_date and year == doc_date.year:
        return doc_date
    return end


def _figure(
    sentence: str,
    tokens: list[_Token],
    r: _Reading,
    dates: list[tuple[int, dt.date]],
    doc_date: dt.date | None,
) -> Figure:
    start, end = tokens[r.first].start, tokens[r.last].end
    as_of = _as_of(tokens, r, dates) or doc_date
    return Figure(
        value=_tidy(r.value),
        text=sentence[start:end],
        qualifier=r.qualifier,
        unit=r.unit,
        of_total=_tidy(r.of_total) if r.of_total is not None else None,
        value_max=_tidy(r.value_max) if r.value_max is not None else None,
        change=r.change,
        subject=_subject(sentence, tokens, r.part_of or r),
        as_of=as_of,
        sentence=sentence,
        span=(start, end),
    )


def _as_of(tokens: list[_Token], r: _Reading, dates: list[tuple[int, dt.date]]) -> dt.date | None:
    """The nearest date before the figure ('In 2024, 38 units ...'), or one after it in the same
    clause ('45% of units by 2025'); a date in a later clause belongs to another figure."""
    before = [(i, d) for i, d in dates if i < r.first]
    after = [(i, d) for i, d in dates if i > r.last]
    if after:
        i, day = after[0]
        if not any(t.text in ",;:" for t in tokens[r.last + 1 : i]):
            return day
    return before[-1][1] if before else None


def _subject(sentence: str, tokens: list[_Token], r: _Reading) -> str | None:
    """What the figure counts: the noun phrase after it, or else the one before it."""
    if r.noun_end is not None:
        first, last = r.last + 1, r.noun_end
        follow = _at(tokens, last + 1)
        if follow and follow.kind == "word" and _is_modifier(follow.low):
            last += 1  # "cards issued"
    elif _word_at(tokens, r.last + 1) == "of":
        first = last = r.last + 2
        while last < len(tokens) and last < r.last + 9 and _phrase_word(tokens[last]):
            last += 1
        last -= 1
    else:
        first, last = _phrase_before(tokens, r.first)
    while first <= last and tokens[first].low in ("of", "the", "all", "-"):
        first += 1
    if first > last:
        return None
    return sentence[tokens[first].start : tokens[last].end]


def _phrase_word(tok: _Token) -> bool:
    return (tok.kind == "word" and (tok.low not in _PHRASE_STOP or tok.low == "the")) or (
        tok.text in "-‐"
    )


def _phrase_before(tokens: list[_Token], first: int) -> tuple[int, int]:
    """Token range of the noun phrase ending before a figure ('the online rate [reached] 52%')."""
    drop = _SUBJECT_VERBS | _INCREASE | _DECREASE | _PHRASE_STOP
    last = first - 1
    while (
        last >= 0
        and tokens[last].kind == "word"
        and (tokens[last].low in drop or _is_modifier(tokens[last].low))
    ):
        last -= 1
    if last < 0 or tokens[last].kind != "word":
        return 1, 0  # nothing names it
    start = last
    while start - 1 >= 0 and last - start < 7:
        tok = tokens[start - 1]
        if tok.kind == "sym" and tok.text not in "-‐'’":
            break
        if tok.kind == "num" or tok.low in _SCALES or _currency_word(tok):
            break
        if tok.kind == "word" and tok.low in _PHRASE_STOP and tok.low not in ("of", "the"):
            break
        start -= 1
    while start <= last and tokens[start].low in ("the", "a", "an", "of", "-", "'", "’"):
        start += 1
    return start, last


def _tidy(value: float) -> float:
    return float(round(value, 6))


def _at(tokens: list[_Token], i: int) -> _Token | None:
    return tokens[i] if 0 <= i < len(tokens) else None


def _word_at(tokens: list[_Token], i: int) -> str | None:
    tok = _at(tokens, i)
    return tok.low if tok is not None else None


def _num_at(tokens: list[_Token], i: int) -> bool:
    tok = _at(tokens, i)
    return tok is not None and tok.kind == "num"


def _adjacent(a: _Token, b: _Token) -> bool:
    return a.end == b.start
