"""Score the sentences and figures of retrieved passages against a question.

Each candidate sentence gets a `support` in 0..1 (does this sentence answer the question?) from
its meaning (embedding cosine), its words (stemmed overlap with the question) and how much of the
question the passages cover at all. Figures add what the question asks of a number: its unit, its
date, whether it is a change. The weights are few and stated here; the abstention threshold on
`support` is calibrated on the eval set's dev split (see `Settings.abstain_below`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.question import Question
from index.figures import extract_figures
from index.keyword import tokenize
from index.sentences import sentence_spans
from index.types import Figure, Passage

W_DENSE, W_WORDS, W_COVERAGE = 0.5, 0.3, 0.2
_NUMBER = re.compile(r"\d")
_JOINED = re.compile(r"\b(?:and|but|while|whereas)\b")
_CONTEXT_WORDS = 8
_NEAR_WORDS = 4
MONEY_UNITS = ("vnd", "usd", "eur")
SYMBOL_UNITS = ("%", "points", *MONEY_UNITS)  # units that are not a counted noun


@dataclass
class Sentence:
    passage: int  # index into the retrieved passages
    text: str
    span: tuple[int, int]  # in the passage text
    dense: float = 0.0
    words: float = 0.0
    support: float = 0.0


@dataclass
class Candidate:
    figure: Figure
    sentence: Sentence
    score: float
    time_fit: float  # 1 in the asked time, 0 none asked, -1 off it, -2 nowhere near it


def sentences_of(passages: list[Passage]) -> list[Sentence]:
    """Every sentence of every passage, the same sentence in overlapping chunks kept once."""
    seen: set[tuple[str, str]] = set()
    found = []
    for i, passage in enumerate(passages):
        for start, end in sentence_spans(passage.text):
            text = passage.text[start:end]
            key = (passage.doc_id, text)
            if key in seen:
                continue
            seen.add(key)
            found.append(Sentence(i, text, (start, end)))
    return found


def score_sentences(
    question: Question,
    question_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    sentences: list[Sentence],
) -> None:
    """Fill in `dense`, `words` and `support` of each sentence. Coverage is the share of the
    question's words found anywhere in the sentences (that is, in the retrieved passages)."""
    terms = set(question.terms)
    stems = [set(tokenize(s.text)) for s in sentences]
    seen = set().union(*stems)
    coverage = len(terms & seen) / len(terms) if terms else 0.0
    for sentence, vector, words in zip(sentences, sentence_vectors, stems, strict=True):
        sentence.dense = max(0.0, float(vector @ question_vector))
        sentence.words = len(terms & words) / len(terms) if terms else 0.0
        sentence.support = (
            W_DENSE * sentence.dense + W_WORDS * sentence.words + W_COVERAGE * coverage
        )


def figure_candidates(
    question: Question, sentences: list[Sentence], passages: list[Passage]
) -> list[Candidate]:
    """Every figure in the scored sentences, best first."""
    candidates = []
    for sentence in sentences:
        if not _NUMBER.search(sentence.text):
            continue
        passage = passages[sentence.passage]
        figures = _figures_in(passage, sentence)
        for figure in figures:
            time_fit = _time_fit(question, figure, passage)
            whole = whole_of(figure, figures)
            score = sentence.support + _figure_fit(question, figure, whole) + 0.15 * time_fit
            candidates.append(Candidate(figure, sentence, score, time_fit))
    candidates.sort(key=lambda c: -c.score)
    return candidates


def _figures_in(passage: Passage, sentence: Sentence) -> list[Figure]:
    """The stored figures of the sentence; extracted on the spot for passages without them."""
    stored = [f for f in passage.figures if f.sentence == sentence.text]
    if stored or passage.figures:
        return stored
    found = _extracted(sentence.text, passage.date, passage.doc_id, passage.id)
    return [f.model_copy() for f in found]  # copies: the cached ones are shared


@lru_cache(maxsize=4096)  # passages without figures come back question after question
def _extracted(text: str, date, doc_id: str, passage_id: str) -> tuple[Figure, ...]:
    return tuple(extract_figures(text, date, doc_id, passage_id))


def whole_of(figure: Figure, siblings: list[Figure]) -> Figure | None:
    """For '361' in '706 people, 361 of whom ...', the 706 it is part of."""
    if figure.of_total is None or written_ratio(figure):
        return None
    return next(
        (f for f in siblings if f.value == figure.of_total and f.span[0] < figure.span[0]), None
    )


def _figure_fit(question: Question, figure: Figure, whole: Figure | None = None) -> float:
    """How well the figure's kind, subject and neighbouring words match the question."""
    return (
        unit_fit(question, figure)
        + change_fit(question, figure)
        + words_fit(question, figure, whole)
        - (0.3 if value_in_question(figure, question) else 0.0)  # "in the first 10 months"
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
            fit += 0.2 if _stem(unit) in nouns else -0.05
        elif not unit and nouns & set(tokenize(figure.subject or "")):
            fit += 0.2  # "the number of documents ... was over 12.2 million"
    ratio = unit == "%" or written_ratio(figure)
    if question.wants_percent and not question.counted:
        fit += 0.15 if ratio else -0.3
    elif question.counted and unit == "%":
        fit -= 0.3
    if question.wants_money:
        fit += 0.15 if unit in MONEY_UNITS else -0.05
    return fit


def written_ratio(figure: Figure) -> bool:
    """'53/63', '9 of its 12', 'two-thirds'; not '361' of '706 people, 361 of whom'."""
    return figure.of_total is not None and (
        not re.search(r"\d", figure.text) or bool(re.search(r"/|\bof\b|\bin\b", figure.text))
    )


def change_fit(question: Question, figure: Figure) -> float:
    if figure.change and not question.wants_change:
        return -0.1
    return 0.1 if question.wants_change and figure.change else 0.0


def words_fit(question: Question, figure: Figure, whole: Figure | None = None) -> float:
    """The question's words in the figure's subject, next to it, and around it. A part ('361 of
    whom have been resolved') is also near the words of its whole ('706 surplus people')."""
    terms = set(question.terms)
    if not terms:
        return 0.0
    subject = set(tokenize(figure.subject or ""))
    near = context_terms(figure, _NEAR_WORDS, clause=True)
    if whole is not None:
        near |= context_terms(whole, _NEAR_WORDS, clause=True)
    fit = 0.25 * len(terms & subject) / len(subject) if subject else 0.0
    fit += 0.3 * len(terms & near) / len(terms)
    fit += 0.1 * len(terms & context_terms(figure, _CONTEXT_WORDS)) / len(terms)
    if question.is_follow_up and question.focus:  # its own words decide between figures
        fit += 0.2 * len(set(question.focus) & (subject | near)) / len(question.focus)
    return fit


def context_terms(figure: Figure, width: int, clause: bool = False) -> set[str]:
    """Stems of the `width` content words on each side of the figure in its sentence (within
    its clause, if asked): '361 of whom have been resolved' is near 'resolved'."""
    start = figure.sentence.find(figure.text)
    if start < 0:
        return set()
    before = figure.sentence[:start]
    after = figure.sentence[start + len(figure.text) :]
    if clause:  # nor past another number: the words just before a number are its own
        before = re.split(r"[,;:()]|\d", before)[-1]
        after = re.split(r"[,;:()]", after)[0]
        if _NUMBER.search(after):  # "61.4% and at localities 67.46%": stop at the last "and"
            after = _NUMBER.split(after)[0]
            joins = list(_JOINED.finditer(after))
            after = after[: joins[-1].start()] if joins else after
    return {*tokenize(before)[-width:], *tokenize(after)[:width]}


def value_in_question(figure: Figure, question: Question) -> bool:
    digits = re.sub(r"\D", "", figure.text)
    return bool(digits) and digits in re.findall(r"\d+", question.text.replace(",", ""))


def _time_fit(question: Question, figure: Figure, passage: Passage) -> float:
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
    return passage.date is not None and end < passage.date <= end + dt.timedelta(days=183)


def _stem(word: str) -> str:
    stems = tokenize(word)
    return stems[0] if stems else word.lower()


def same_quantity(a: Candidate, b: Candidate) -> bool:
    """Do two figures measure the same thing (so different values are a disagreement)?"""
    fa, fb = a.figure, b.figure
    if (fa.unit or "").lower() != (fb.unit or "").lower():
        return False
    if fa.change != fb.change or (
        (fa.of_total is None) != (fb.of_total is None) and fa.unit == "%"
    ):
        return False
    sa, sb = set(tokenize(fa.subject or "")), set(tokenize(fb.subject or ""))
    if not sa or not sb:
        return False
    return len(sa & sb) / min(len(sa), len(sb)) >= 0.5
