"""Stage 3, collect: every sentence of the retrieved passages, scored, and every figure in them.

A sentence's `support` (0..1: does it answer the question?) comes from its meaning (embedding
cosine), its words (stemmed overlap with the question) and how much of the question the passages
cover at all. Each figure becomes a candidate in the hand-ranked order of assistant/ranking.py,
which the decision model reads as one of its features. Records are frozen: later stages make new
ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from assistant.question import Question
from assistant.ranking import figure_fit, time_fit, whole_of
from assistant.tuning import TIME_FIT_WEIGHT, W_COVERAGE, W_DENSE, W_WORDS
from index.figures import extract_figures
from index.keyword import tokenize
from index.sentences import sentence_spans
from index.types import Figure, Passage

_NUMBER = re.compile(r"\d")


@dataclass(frozen=True)
class Sentence:
    passage: int  # index into the retrieved passages
    text: str
    span: tuple[int, int]  # in the passage text
    dense: float = 0.0
    words: float = 0.0
    support: float = 0.0


@dataclass(frozen=True)
class Candidate:
    figure: Figure
    sentence: Sentence
    score: float  # the hand-set ranking's (ranking.py), a feature of the decision model
    time_fit: float  # 1 in the asked time, 0 none asked, -1 off it, -2 nowhere near it


@dataclass(frozen=True)
class Collected:
    sentences: tuple[Sentence, ...]  # scored, in passage order
    candidates: tuple[Candidate, ...]  # every figure of those sentences, hand-ranked


def collect(
    question: Question,
    passages: list[Passage],
    question_vector: np.ndarray,
    sentence_vectors: np.ndarray,
    sentences: list[Sentence],
) -> Collected:
    """`sentences` (from `sentences_of(passages)`) scored against the question, with the figure
    candidates they hold."""
    scored = score_sentences(question, question_vector, sentence_vectors, sentences)
    return Collected(tuple(scored), tuple(figure_candidates(question, scored, passages)))


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
) -> list[Sentence]:
    """The sentences with `dense`, `words` and `support` set. Coverage is the share of the
    question's words found anywhere in the sentences (that is, in the retrieved passages)."""
    terms = set(question.terms)
    stems = [set(tokenize(s.text)) for s in sentences]
    seen = set().union(*stems)
    coverage = len(terms & seen) / len(terms) if terms else 0.0
    scored = []
    for sentence, vector, words in zip(sentences, sentence_vectors, stems, strict=True):
        dense = max(0.0, float(vector @ question_vector))
        overlap = len(terms & words) / len(terms) if terms else 0.0
        support = W_DENSE * dense + W_WORDS * overlap + W_COVERAGE * coverage
        scored.append(replace(sentence, dense=dense, words=overlap, support=support))
    return scored


def figure_candidates(
    question: Question, sentences: list[Sentence], passages: list[Passage]
) -> list[Candidate]:
    """Every figure in the scored sentences, best first by the hand-set fit."""
    candidates = []
    for sentence in sentences:
        if not _NUMBER.search(sentence.text):
            continue
        passage = passages[sentence.passage]
        figures = _figures_in(passage, sentence)
        for figure in figures:
            fit = time_fit(question, figure, passage)
            whole = whole_of(figure, figures)
            score = sentence.support + figure_fit(question, figure, whole) + TIME_FIT_WEIGHT * fit
            candidates.append(Candidate(figure, sentence, score, fit))
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
