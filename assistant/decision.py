"""Stage 6, score: how likely each figure candidate is the answer (the fitted decision model).

A conditional logit over assistant/features.py's rows: each candidate gets a score, and so does
"none of these" (from the facts about the question alone, QUESTION_FEATURES); a softmax over the
question's candidates and that option gives each candidate its probability of being the answer.
Fitted on the dev splits of the eval sets by `python -m eval.fit_decision` and saved as
assistant/decision_model.json (coefficients, the feature scaling, an isotonic calibration map and
the answer threshold, all chosen on dev). Scoring is numpy only: serving imports no scikit-learn.

The chance is calibrated: the isotonic map is fitted on the best candidates' out-of-fold scores
on dev, so of the figures given at chance p, about p were right there. The model file's
reliability table is that fit's own (in sample); the end-to-end one is the `ece` of
eval/reports/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from assistant.collect import Candidate
from assistant.features import FEATURES, QUESTION_FEATURES, candidate_rows
from assistant.question import Question
from assistant.ranking import same_quantity
from assistant.tuning import CORROBORATION_GAP
from index.types import Figure

MODEL_PATH = Path(__file__).with_name("decision_model.json")
MODEL_VERSION = 2
_QUESTION_COLUMNS = [FEATURES.index(name) for name in QUESTION_FEATURES]


class ModelMismatch(RuntimeError):
    """The model file was fitted on other features than this code computes: refit it."""


@dataclass(frozen=True)
class DecisionModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # one weight per feature: a candidate's score
    none_coef: np.ndarray  # one weight per QUESTION_FEATURES: the score of "none of these" ...
    none_intercept: float  # ... plus this
    calibration_x: np.ndarray  # raw probability ...
    calibration_y: np.ndarray  # ... to the share right among answers given at it
    threshold: float  # answer when the calibrated probability of the best candidate reaches it
    sentence_x: np.ndarray = field(default_factory=lambda: np.array([0.0]))  # a quoted sentence's
    sentence_y: np.ndarray = field(default_factory=lambda: np.array([0.0]))  # evidence -> right

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> DecisionModel:
        body = json.loads(path.read_text(encoding="utf-8"))
        if (
            body.get("version") != MODEL_VERSION
            or tuple(body.get("features", ())) != FEATURES
            or tuple(body.get("question_features", ())) != QUESTION_FEATURES
        ):
            raise ModelMismatch(
                f"{path} was fitted on other features; refit it: python -m eval.fit_decision"
            )
        return cls(
            mean=np.asarray(body["mean"], dtype=np.float64),
            scale=np.asarray(body["scale"], dtype=np.float64),
            coef=np.asarray(body["coef"], dtype=np.float64),
            none_coef=np.asarray(body["none_coef"], dtype=np.float64),
            none_intercept=float(body["none_intercept"]),
            calibration_x=np.asarray(body["calibration"]["x"], dtype=np.float64),
            calibration_y=np.asarray(body["calibration"]["y"], dtype=np.float64),
            threshold=float(body["threshold"]),
            sentence_x=np.asarray(body["sentence_calibration"]["x"], dtype=np.float64),
            sentence_y=np.asarray(body["sentence_calibration"]["y"], dtype=np.float64),
        )

    @classmethod
    def neutral(cls) -> DecisionModel:
        """Ranks as ranking.py does and never answers with a figure: what the fit starts from,
        so that a model is never fitted on the choices of the one before it."""
        n = len(FEATURES)
        coef = np.zeros(n)
        coef[FEATURES.index("hand_rank")] = -1.0
        return cls(np.zeros(n), np.ones(n), coef, np.zeros(len(QUESTION_FEATURES)), 0.0,
                   np.array([0.0, 1.0]), np.array([0.0, 1.0]), threshold=2.0)  # fmt: skip

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """Each row's probability of being the answer among one question's candidates and
        "none of these" (what ranks the candidates). The rows must all be one question's."""
        if len(rows) == 0:
            return np.zeros(0)
        z = (rows - self.mean) / self.scale
        scores = np.append(z @ self.coef, z[0, _QUESTION_COLUMNS] @ self.none_coef
                           + self.none_intercept)  # fmt: skip
        scores = np.exp(scores - scores.max())
        return scores[:-1] / scores.sum()

    def sentence_chance(self, evidence: float) -> float:
        """A quoted sentence's chance of answering the question, from its evidence (isotonic)."""
        return float(np.interp(evidence, self.sentence_x, self.sentence_y))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Raw probabilities mapped to the share right on dev (isotonic, so order is kept)."""
        return np.interp(raw, self.calibration_x, self.calibration_y)


@dataclass(frozen=True)
class Scored:
    ranked: tuple[Candidate, ...]  # best first by the model
    # calibrated, one per ranked candidate; the first is the chance that the best candidate's
    # quantity is the answer (its probability and that of the candidates agreeing with it)
    chances: tuple[float, ...]


def agreeing_mass(candidates: list[Candidate], raw: np.ndarray, best: int) -> float:
    """The probability that the best candidate's quantity is the answer: its own and that of
    every candidate giving the same quantity within CORROBORATION_GAP of its value. Documents
    that state one quantity at two dates ('more than 76 million', 'nearly 78 million' cards)
    split the model's probability between them; either answers the question."""
    top = candidates[best].figure
    return float(raw[best]) + sum(
        float(raw[j]) for j, c in enumerate(candidates) if j != best and agrees_with(top, c.figure)
    )


def agrees_with(best: Figure, other: Figure) -> bool:
    """Does `other` give the best figure's quantity, with a value within CORROBORATION_GAP?"""
    reach = CORROBORATION_GAP * max(abs(best.value), 1e-9)
    return abs(other.value - best.value) <= reach and same_quantity(best, other)


def score_candidates(
    model: DecisionModel, question: Question, candidates: tuple[Candidate, ...]
) -> Scored:
    """Candidates best first by the fitted model, each with its calibrated chance of being the
    answer."""
    if not candidates:
        return Scored((), ())
    raw = model.raw(candidate_rows(question, list(candidates)))
    order = np.argsort(-raw, kind="stable")
    chances = model.calibrated(raw[order])
    chances[0] = model.calibrated(np.array([agreeing_mass(list(candidates), raw, order[0])]))[0]
    return Scored(tuple(candidates[i] for i in order), tuple(round(float(c), 4) for c in chances))


@cache
def load_model() -> DecisionModel:
    """The shipped model, read once per process."""
    return DecisionModel.load()
