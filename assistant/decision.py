"""Stage 6, score: how likely each figure candidate is the answer (the fitted decision model).

A logistic regression over assistant/features.py's rows, fitted on the dev splits of the eval sets
by `python -m eval.fit_decision` and saved as assistant/decision_model.json (coefficients, the
feature scaling, an isotonic calibration map and the answer threshold, all chosen on dev). Scoring
is numpy only: serving imports no scikit-learn.

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
from assistant.features import FEATURES, candidate_rows
from assistant.question import Question

MODEL_PATH = Path(__file__).with_name("decision_model.json")
MODEL_VERSION = 1


class ModelMismatch(RuntimeError):
    """The model file was fitted on other features than this code computes: refit it."""


@dataclass(frozen=True)
class DecisionModel:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration_x: np.ndarray  # raw probability ...
    calibration_y: np.ndarray  # ... to the share right among answers given at it
    threshold: float  # answer when the calibrated probability of the best candidate reaches it
    sentence_x: np.ndarray = field(default_factory=lambda: np.array([0.0]))  # a quoted sentence's
    sentence_y: np.ndarray = field(default_factory=lambda: np.array([0.0]))  # evidence -> right

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> DecisionModel:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("version") != MODEL_VERSION or tuple(body.get("features", ())) != FEATURES:
            raise ModelMismatch(
                f"{path} was fitted on other features; refit it: python -m eval.fit_decision"
            )
        return cls(
            mean=np.asarray(body["mean"], dtype=np.float64),
            scale=np.asarray(body["scale"], dtype=np.float64),
            coef=np.asarray(body["coef"], dtype=np.float64),
            intercept=float(body["intercept"]),
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
        return cls(np.zeros(n), np.ones(n), coef, 0.0, np.array([0.0, 1.0]),
                   np.array([0.0, 1.0]), threshold=2.0)  # fmt: skip

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """The regression's probability per row (what ranks the candidates)."""
        if len(rows) == 0:
            return np.zeros(0)
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def sentence_chance(self, evidence: float) -> float:
        """A quoted sentence's chance of answering the question, from its evidence (isotonic)."""
        return float(np.interp(evidence, self.sentence_x, self.sentence_y))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Raw probabilities mapped to the share right on dev (isotonic, so order is kept)."""
        return np.interp(raw, self.calibration_x, self.calibration_y)


@dataclass(frozen=True)
class Scored:
    ranked: tuple[Candidate, ...]  # best first by the model
    chances: tuple[float, ...]  # calibrated, one per ranked candidate


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
    return Scored(tuple(candidates[i] for i in order), tuple(round(float(c), 4) for c in chances))


@cache
def load_model() -> DecisionModel:
    """The shipped model, read once per process."""
    return DecisionModel.load()
