"""Stage 7, decide: a figure (with any conflicting ones), a quoted sentence, or a decline.

A figure is given when the best candidate's calibrated chance reaches the model's threshold.
Otherwise, when a number was asked, the answer is a decline that says why and offers the closest
figure, marked as not the answer; when none was asked, the best sentence is quoted if its
support clears the calibrated `abstain_below`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from assistant.collect import Candidate, Collected, Sentence
from assistant.constraints import Constrained, places_absent_from, unmet
from assistant.decision import DecisionModel, Scored, agrees_with
from assistant.question import Question
from assistant.ranking import same_quantity
from assistant.tuning import (
    CALIBRATION_SCALE,
    CONFLICT_SHARE,
    MAX_CONFLICTS,
    NO_FIGURE_CAP,
    NO_TIME_PENALTY,
    OFF_TIME_PENALTY,
    PASSAGE_SCORE_WEIGHT,
    SECOND_QUOTE_MARGIN,
)
from index.types import Passage

Kind = Literal["figure", "sentence", "decline"]


@dataclass(frozen=True)
class Decision:
    kind: Kind
    confidence: float  # see Answer.confidence
    evidence: float | None = None  # best support, time-adjusted (the eval calibrates on it)
    reason: str = ""  # a decline's, in words
    figures: tuple[Candidate, ...] = ()  # the answer first, then other documents' conflicts
    quoted: tuple[Sentence, ...] = ()  # a sentence answer's quotes
    closest: Candidate | None = None  # under a decline: the nearest figure, not the answer

    @property
    def conflicts(self) -> tuple[Candidate, ...]:
        return self.figures[1:]


def decline(reason: str, confidence: float = 0.0, evidence: float | None = None) -> Decision:
    return Decision("decline", round(confidence, 3), evidence, reason)


def before_reading(q: Question, sentences: list[Sentence]) -> Decision | None:
    """A decline that needs no candidate: an instruction, no words, nothing retrieved."""
    if q.is_instruction:
        return decline("the question tries to instruct the assistant")
    if not q.terms:
        return decline("the question has no words to look for")
    if not sentences:
        return decline("no passage matches the question")
    return None


def decide(
    q: Question,
    passages: list[Passage],
    collected: Collected,
    constrained: Constrained,
    scored: Scored,
    model: DecisionModel,
    abstain_below: float,
    unmentioned: list[str],
) -> Decision:
    if unmentioned:  # a name the index does not know: nothing here is about it
        best = max(s.support for s in collected.sentences) - 1.0
        why = f"no document mentions {', '.join(unmentioned)}"
        return decline(why, _confidence(best, abstain_below), round(best, 4))
    if scored.ranked and scored.chances[0] >= model.threshold:
        return _figure(scored)
    found = collected.candidates
    why = unmet(q, found[0], passages) if found else None  # the best one's, for a decline
    if q.wants_figure and (why or scored.ranked):
        closest = found[0] if why else scored.ranked[0]
        chance = scored.chances[0] if scored.ranked else 0.0
        reason = why or "no figure in the documents answers this well enough"
        evidence = _evidence(closest.sentence.support, closest.time_fit)
        return Decision("decline", round(chance, 3), evidence, reason, closest=closest)
    return _sentence(q, collected.sentences, passages, model, abstain_below)


def _figure(scored: Scored) -> Decision:
    best = scored.ranked[0]
    others = _conflicts(scored, CONFLICT_SHARE * scored.chances[0])
    evidence = _evidence(best.sentence.support, best.time_fit)
    return Decision("figure", round(scored.chances[0], 3), evidence, figures=(best, *others))


def _sentence(
    q: Question,
    sentences: tuple[Sentence, ...],
    passages: list[Passage],
    model: DecisionModel,
    abstain_below: float,
) -> Decision:
    ranked = sorted(
        sentences, key=lambda s: -(s.support + PASSAGE_SCORE_WEIGHT * passages[s.passage].score)
    )
    best = ranked[0]
    evidence = _evidence(best.support, 0.0)
    absent = places_absent_from(q, passages[best.passage], best)
    if absent:
        why = f"the passages on this do not mention {', '.join(absent).title()}"
        return decline(why, _confidence(evidence - 1.0, abstain_below), round(evidence - 1.0, 4))
    confidence = _confidence(evidence, abstain_below)
    if q.wants_figure:  # a number was asked for, and no retrieved sentence holds one
        confidence = min(confidence, NO_FIGURE_CAP)
    if confidence < 0.5:
        return decline("nothing in the documents answers this well enough", confidence, evidence)
    close = [s for s in ranked[1:2] if s.support >= best.support - SECOND_QUOTE_MARGIN]
    chance = model.sentence_chance(evidence)  # what is reported; the rule above decides
    return Decision("sentence", round(chance, 3), evidence, quoted=(best, *close))


def _conflicts(scored: Scored, floor: float) -> list[Candidate]:
    """Other documents' figures for the same quantity, nearly as likely as the best one, or
    close enough in value that the answer's chance counted them (decision.agrees_with)."""
    best = scored.ranked[0]
    found: list[Candidate] = []
    shown = {best.figure.value}
    for other, chance in zip(scored.ranked[1:], scored.chances[1:], strict=True):
        if len(found) >= MAX_CONFLICTS:
            break
        if chance < floor and not agrees_with(best.figure, other.figure):
            continue
        if other.figure.value in shown or other.time_fit < 0 <= best.time_fit:
            continue
        if other.figure.doc_id == best.figure.doc_id:
            continue  # one document stating two numbers is not a disagreement
        if same_quantity(best.figure, other.figure):
            found.append(other)
            shown.add(other.figure.value)
    return found


def _evidence(support: float, time_fit: float) -> float:
    """The best support, lowered when the figure is from another time than the one asked: a
    little when its passage speaks of that time, below any threshold when nothing does."""
    penalty = NO_TIME_PENALTY if time_fit <= -2 else OFF_TIME_PENALTY if time_fit < 0 else 0.0
    return round(support - penalty, 4)


def _confidence(evidence: float, abstain_below: float) -> float:
    """Evidence mapped to 0..1 so that the calibrated threshold sits at 0.5."""
    z = (evidence - abstain_below) / CALIBRATION_SCALE
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
