"""Stage 5, constraints: hard rules of the question remove figure candidates.

A candidate that gives no money when money is asked, or that sits where the place the question is
limited to is not named, is removed with the reason; the decision never answers with it, and a
decline says which constraint the closest figure failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.collect import Candidate, Sentence
from assistant.question import Question
from assistant.ranking import MONEY_UNITS
from assistant.tuning import PLACE_REACH
from index.types import Passage


@dataclass(frozen=True)
class Removed:
    candidate: Candidate
    reason: str  # said in a decline: 'no amount of money in the documents answers this'


@dataclass(frozen=True)
class Constrained:
    kept: tuple[Candidate, ...]  # in the collect stage's order
    removed: tuple[Removed, ...] = ()


def apply_constraints(
    question: Question, candidates: tuple[Candidate, ...], passages: list[Passage]
) -> Constrained:
    kept, removed = [], []
    for candidate in candidates:
        reason = unmet(question, candidate, passages)
        if reason is None:
            kept.append(candidate)
        else:
            removed.append(Removed(candidate, reason))
    return Constrained(tuple(kept), tuple(removed))


def unmet(question: Question, candidate: Candidate, passages: list[Passage]) -> str | None:
    """The hard constraint of the question this candidate fails, said for a decline; else None."""
    if question.wants_money and (candidate.figure.unit or "").lower() not in MONEY_UNITS:
        return "no amount of money in the documents answers this"
    if question.places:
        passage = passages[candidate.sentence.passage]
        absent = places_absent_from(question, passage, candidate.sentence)
        if absent:
            return f"the passages with figures for this do not mention {', '.join(absent).title()}"
    return None


def places_absent_from(question: Question, passage: Passage, sentence: Sentence) -> list[str]:
    """Places the question is limited to ('Thanh Hoa province') that neither the answering
    sentence, the text just before it, nor the title names: a figure for the whole country does
    not answer for one province, even in a passage that names the province elsewhere."""
    before = passage.text[max(0, sentence.span[0] - PLACE_REACH) : sentence.span[0]]
    text = " ".join(f"{passage.title} {before} {sentence.text}".lower().split())
    return [place for place in question.places if place not in text]
