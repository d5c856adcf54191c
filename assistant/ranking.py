"""The hand-set fit of a figure to a question: its unit, its date, its neighbouring words.

These fits rank the candidates the collect stage gathers (`Candidate.score`) and several of
them are features of the fitted decision model; their weights are in assistant/tuning.py.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from assistant.question import Question
from assistant.tuning import (
    CHANGE_FIT,
    CONTEXT_WORDS,
    CONTEXT_WORDS_FIT,
    COUNTED_NOUN_FIT,
    FOCUS_WORDS_FIT,
    MONEY_FIT,
    NEAR_WORDS,
    NEAR_WORDS_FIT,
    NOT_MONEY_FIT,
    NOT_PERCENT_FIT,
    OTHER_NOUN_FIT,
    PERCENT_FIT,
    PERCENT_FOR_COUNT_FIT,
    REVIEW_DAYS,
    SAME_QUANTITY_OVERLAP,
    SUBJECT_WORDS_FIT,
    UNASKED_CHANGE_FIT,
    VALUE_IN_QUESTION_FIT,
)
from index.figures import MONEY_UNITS
from index.keyword import tokenize
from index.types import Figure, Passage

_NUMBER = re.compile(r"\d")
_JOINED = re.compile(r"\b(?:and|but|while|whereas)\b")
SYMBOL_UNITS = frozenset({"%", "points", *MONEY_UNITS})  # units that are not a counted noun


def whole_of(figure: Figure, siblings: list[Figure]) -> Figure | None:
    """For '361' in '706 people, 361 of whom ...', the 706 it is part of."""
    if figure.of_total is None or written_ratio(figure):
        return None
    return next(
        (f for f in siblings if f.value == figure.of_total and f.span[0] < figure.span[0]), None
    )


def figure_fit(question: Question, figure: Figure, whole: Figure | None = None) -> float:
    """How well the figure's kind, subject and neighbouring words match the question."""
    return (
        unit_fit(question, figure)
        + change_fit(question, figure)
        + words_fit(question, figure, whole)
        # "in the first 10 months": the question's own number
        + (VALUE_IN_QUESTION_FIT if value_in_question(figure, question) else 0.0)
    )


def unit_fit(question: Question, figure: Figure) -> float:
    """'how many cards' wants cards, 'what share' a percentage or a ratio, 'how much' money."""
    unit = (figure.unit or "").lower()
    fit = 0.0
    if question.counted or question.is_follow_up:
        nouns = {_stem(question.counted)} if question.counted else set()
        if question.is_follow_up:
            nouns |= set(question.focus)  # "and district clinics?" names what it counts
        if unit and unit not in SYMBOL_UNITS:
            fit += COUNTED_NOUN_FIT if _stem(unit) in nouns else OTHER_NOUN_FIT
        elif not unit and nouns & set(tokenize(figure.subject or "")):
            fit += COUNTED_NOUN_FIT  # "the number of documents ... was over 12.2 million"
    ratio = unit == "%" or written_ratio(figure)
    if question.wants_percent and not question.counted:
        fit += PERCENT_FIT if ratio else NOT_PERCENT_FIT
    elif question.counted and unit == "%":
        fit += PERCENT_FOR_COUNT_FIT
    if question.wants_money:
        fit += MONEY_FIT if unit in MONEY_UNITS else NOT_MONEY_FIT
    return fit


def written_ratio(figure: Figure) -> bool:
    """'53/63', '9 of its 12', 'two-thirds'; not '361' of '706 people, 361 of whom'."""
    return figure.of_total is not None and (
        not re.search(r"\d", figure.text) or bool(re.search(r"/|\bof\b|\bin\b", figure.text))
    )


def change_fit(question: Question, figure: Figure) -> float:
    if figure.change and not question.wants_change:
        return UNASKED_CHANGE_FIT
    return CHANGE_FIT if question.wants_change and figure.change else 0.0


def words_fit(question: Question, figure: Figure, whole: Figure | None = None) -> float:
    """The question's words in the figure's subject, next to it, and around it. A part ('361 of
    whom have been resolved') is also near the words of its whole ('706 surplus people')."""
    terms = set(question.terms)
    if not terms:
        return 0.0
    subject = set(tokenize(figure.subject or ""))
    near = context_terms(figure, NEAR_WORDS, clause=True)
    if whole is not None:
        near |= context_terms(whole, NEAR_WORDS, clause=True)
    fit = SUBJECT_WORDS_FIT * len(terms & subject) / len(subject) if subject else 0.0
    fit += NEAR_WORDS_FIT * len(terms & near) / len(terms)
    fit += CONTEXT_WORDS_FIT * len(terms & context_terms(figure, CONTEXT_WORDS)) / len(terms)
    if question.is_follow_up and question.focus:  # its own words decide between figures
        fit += FOCUS_WORDS_FIT * len(set(question.focus) & (subject | near)) / len(question.focus)
    return fit


def context_terms(figure: Figure, width: int, clause: bool = False) -> frozenset[str]:
    """Stems of the `width` content words on each side of the figure in its sentence (within
    its clause, if asked): '361 of whom have been resolved' is near 'resolved'."""
    return _context_terms(figure.sentence, figure.text, width, clause)


@lru_cache(maxsize=16384)  # each candidate's is read several times a question
def _context_terms(sentence: str, text: str, width: int, clause: bool) -> frozenset[str]:
    start = sentence.find(text)
    if start < 0:
        return frozenset()
    before = sentence[:start]
    after = sentence[start + len(text) :]
    if clause:  # nor past another number: the words just before a number are its own
        before = re.split(r"[,;:()]|\d", before)[-1]
        after = re.split(r"[,;:()]", after)[0]
        if _NUMBER.search(after):  # "61.4% and at localities 67.46%": stop at the last "and"
            after = _NUMBER.split(after)[0]
            joins = list(_JOINED.finditer(after))
            after = after[: joins[-1].start()] if joins else after
    return frozenset({*tokenize(before)[-width:], *tokenize(after)[:width]})


def value_in_question(figure: Figure, question: Question) -> bool:
    digits = re.sub(r"\D", "", figure.text)
    return bool(digits) and digits in re.findall(r"\d+", question.text.replace(",", ""))


def time_fit(question: Question, figure: Figure, passage: Passage) -> float:
    """1 when the figure's date falls in the asked time, -1 when it does not, 0 if none asked."""
    span = question.time
    if span is None:
        return 0.0
    when = figure.as_of or passage.date
    if span.contains(when) or (span.contains(passage.date) and not span.by):
        return 1.0
    if span.by and when and span.end and when <= span.end and when.year == span.end.year:
        return 0.5  # true by then, though an earlier date of that year
    if when == passage.date and span.year and _reviews_year(passage, span.year):
        return 0.5  # an undated figure in a review published just after the year asked about
    if span.year and _speaks_of_year(passage, span.year):
        return -1.0  # the passage speaks of that year, though not of this figure's date
    return -2.0  # nothing here is from the time asked about


def _speaks_of_year(passage: Passage, year: int) -> bool:
    """The passage names the year, or was published within half a year after it (a review of
    that year: "in 2024" is what a January 2025 report is about)."""
    return str(year) in passage.text or _reviews_year(passage, year)


def _reviews_year(passage: Passage, year: int) -> bool:
    end = dt.date(year, 12, 31)
    return passage.date is not None and end < passage.date <= end + dt.timedelta(days=REVIEW_DAYS)


def _stem(word: str) -> str:
    stems = tokenize(word)
    return stems[0] if stems else word.lower()


def same_quantity(fa: Figure, fb: Figure) -> bool:
    """Do two figures measure the same thing (so different values are a disagreement)?"""
    if (fa.unit or "").lower() != (fb.unit or "").lower():
        return False
    if fa.change != fb.change or (
        (fa.of_total is None) != (fb.of_total is None) and fa.unit == "%"
    ):
        return False
    sa, sb = set(tokenize(fa.subject or "")), set(tokenize(fb.subject or ""))
    if not sa or not sb:
        return False
    return len(sa & sb) / min(len(sa), len(sb)) >= SAME_QUANTITY_OVERLAP
