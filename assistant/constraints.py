"""Stage 5, constraints: hard rules of the question remove figure candidates.

A candidate that gives no money when money is asked, that sits where the place the question is
limited to is not named, or whose sentence dates it to another year than the one asked (and does
not name that one) is removed with the reason; the decision never answers with it, and a
decline says which constraint the closest figure failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.collect import Candidate, Sentence
from assistant.features import clause_around
from assistant.question import Question
from assistant.ranking import MONEY_UNITS
from assistant.tuning import PLACE_REACH
from index.types import Figure, Passage

# Each rule was measured on the dev splits before it was applied (out-of-fold model, threshold
# refitted, right answers minus wrong ones over 1,401 questions): the year rule +16 (136 against
# 120). Two were measured and left out: a goal ('aims to', 'a target of') where a result is
# asked, -8; the question's proper names near the figure, which removed every right candidate
# of 221 answerable questions.
_YEAR = re.compile(r"\b(19|20)\d\d\b")


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
    money = (candidate.figure.unit or "").lower() in MONEY_UNITS
    if question.wants_money and not money:
        return "no amount of money in the documents answers this"
    if question.places:
        passage = passages[candidate.sentence.passage]
        absent = places_absent_from(question, passage, candidate.sentence)
        if absent:
            return f"the passages with figures for this do not mention {', '.join(absent).title()}"
    if year := other_year(question, candidate.figure):
        return f"the figures found for this are for {year}, not the time asked about"
    return None


def other_year(q: Question, f: Figure) -> str | None:
    """The year the figure's clause dates it to, when the question asks about another one that
    the sentence does not name: '19.6 million entries in 2018' for a question about 2019."""
    if q.time is None or not q.time.year:
        return None
    years = {m.group() for m in _YEAR.finditer(" ".join(clause_around(f)))}
    if not years or str(q.time.year) in f.sentence:
        return None
    return sorted(years)[-1]


def places_absent_from(question: Question, passage: Passage, sentence: Sentence) -> list[str]:
    """Places the question is limited to ('Thanh Hoa province') that neither the answering
    sentence, the text just before it, nor the title names: a figure for the whole country does
    not answer for one province, even in a passage that names the province elsewhere."""
    before = passage.text[max(0, sentence.span[0] - PLACE_REACH) : sentence.span[0]]
    text = " ".join(f"{passage.title} {before} {sentence.text}".lower().split())
    return [place for place in question.places if place not in text]
