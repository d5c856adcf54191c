"""Fit the answering decision (assistant/decision_model.json) on the dev splits, and say how it did.

    python -m eval.fit_decision [--out assistant/decision_model.json] [--no-write]

Both dev splits are asked (eval/questions.jsonl over ./data, eval/corpus_questions/ over the
eval corpus's index, built if needed); every figure candidate of every question becomes a row of
assistant/features.py, labelled 1 when it holds a gold value. A conditional logit is fitted: per
question, a softmax over its candidates and "none of these", maximizing the probability of the
right candidates (or of "none" when no candidate is right). For comparison, a pointwise logistic
regression and gradient boosting are fitted too; all are scored out of fold, folds by document, so
no document is scored by a model that saw it. The best candidate's out-of-fold probability is
calibrated against being right (isotonic), and the threshold is the calibrated probability that
maximizes, over dev and end to end, right answers minus WRONG_ANSWER_COST times wrong ones (a
question not given a figure gets what the neutral model gave it: a quoted sentence or a decline).
The test splits are never read.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answering import Assistant
from assistant.collect import Candidate
from assistant.decision import MODEL_PATH, MODEL_VERSION, DecisionModel, agreeing_mass
from assistant.features import FEATURES, QUESTION_FEATURES, candidate_rows
from assistant.question import Question
from assistant.retriever import Retriever
from eval.run import (
    DEFAULT_SET,
    EVAL_CORPUS,
    EVAL_CORPUS_QUESTIONS,
    _settings,
    load_questions,
    score,
)
from eval.stages import holds, is_right
from index.settings import Settings

WRONG_ANSWER_COST = 1.0  # a wrong answer costs what a right one earns; a decline costs nothing
L2 = 0.3  # the conditional logit's C (inverse L2 strength): 0.1-3 score within 2 of 375 on dev
FOLDS = 5
BINS = 10


@dataclass
class Asked:
    """One dev question's candidates: their feature rows, labels, and the document group."""

    qid: str
    group: str
    understood: Question | None
    candidates: list[Candidate]
    labels: np.ndarray
    fallback: float = 0.0  # earned without a figure: +1 right, -cost wrong, 0 declined
    sentence: tuple[float, float] | None = None  # (evidence, right) of a quoted-sentence answer

    @property
    def rows(self) -> np.ndarray:
        if not hasattr(self, "_rows"):
            self._rows = candidate_rows(self.understood, self.candidates)
        return self._rows


def collect(assistant: Assistant, questions: list[dict]) -> list[Asked]:
    asked = []
    for q in questions:
        result = assistant.ask(q["question"], history=q.get("history"), trace=True)
        candidates = result.trace.candidates if result.trace else []
        values = q["answer"]["values"] if q["answerable"] else []
        labels = np.array([holds(c.figure, values) for c in candidates], dtype=np.int8)
        fallback = _fallback(q, result)
        quoted = None
        if not result.answer.abstained and result.evidence is not None:
            quoted = (result.evidence, float(fallback > 0))
        asked.append(Asked(q["id"], _group(q), result.understood, candidates, labels,
                           fallback, quoted))  # fmt: skip
    return asked


def _fallback(q: dict, result) -> float:
    """The neutral model never gives a figure: its answer is what a question gets when the
    figure is not given (a quoted sentence, or a decline)."""
    row = score(q, result)
    row["abstained"] = result.answer.abstained
    if result.answer.abstained:
        return 0.0 if q["answerable"] else 1.0
    return 1.0 if is_right(q, row) else -WRONG_ANSWER_COST


def _group(q: dict) -> str:
    """The question's document: folds never split one document's questions."""
    if q["gold"]:
        return q["gold"][0]["doc_id"]
    near = q.get("near_miss") or {}
    return near.get("doc_id") or q["id"]


def out_of_fold(asked: list[Asked], make_model) -> list[np.ndarray]:
    """Each question's candidate probabilities from a model fitted without its document."""
    groups = sorted({a.group for a in asked})
    fold_of = {g: i % FOLDS for i, g in enumerate(groups)}
    scores: list[np.ndarray | None] = [None] * len(asked)
    for fold in range(FOLDS):
        model = make_model().fit([a for a in asked if fold_of[a.group] != fold and len(a.rows)])
        for i, a in enumerate(asked):
            if fold_of[a.group] == fold:
                scores[i] = model.probabilities(a.rows) if len(a.rows) else np.zeros(0)
    return scores  # type: ignore[return-value]


class ConditionalLogit:
    """A softmax per question over its candidates' scores (rows @ coef) and the score of "none
    of these" (the question's own facts @ none_coef + none_intercept), fitted by L-BFGS on the
    log probability of the right set: the right candidates when there are any, else "none"."""

    def __init__(self, c: float = L2):
        self.c = c
        self.columns = [FEATURES.index(name) for name in QUESTION_FEATURES]

    def fit(self, asked: list[Asked]) -> ConditionalLogit:
        from scipy.optimize import minimize

        rows = np.vstack([a.rows for a in asked])
        self.mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        z = (rows - self.mean) / self.scale
        starts = np.cumsum([0] + [len(a.rows) for a in asked])[:-1]
        question = np.repeat(np.arange(len(asked)), [len(a.rows) for a in asked])
        right = np.concatenate([a.labels for a in asked]).astype(bool)
        none_right = np.array([not a.labels.any() for a in asked])
        zq = z[starts][:, self.columns]
        n, m = z.shape[1], len(self.columns)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, v, b = theta[:n], theta[n : n + m], theta[-1]
            s, s0 = z @ w, zq @ v + b
            top = np.maximum(np.maximum.reduceat(s, starts), s0)
            e, e0 = np.exp(s - top[question]), np.exp(s0 - top)
            total = np.add.reduceat(e, starts) + e0
            right_mass = np.add.reduceat(np.where(right, e, 0.0), starts)
            right_mass += np.where(none_right, e0, 0.0)
            value = float(np.sum(np.log(total) - np.log(right_mass)))
            # gradient of -log(right mass / total): p - q, with q the share within the right set
            p, p0 = e / total[question], e0 / total
            q = np.where(right, e / right_mass[question], 0.0)
            q0 = np.where(none_right, 1.0, 0.0)
            g, g0 = p - q, p0 - q0
            value += float(w @ w + v @ v) / (2 * self.c)
            grad = np.concatenate([z.T @ g + w / self.c, zq.T @ g0 + v / self.c, [g0.sum()]])
            return value, grad

        found = minimize(loss, np.zeros(n + m + 1), jac=True, method="L-BFGS-B",
                         options={"maxiter": 1000})  # fmt: skip
        self.coef, self.none_coef, self.none_intercept = (
            found.x[:n],
            found.x[n : n + m],
            float(found.x[-1]),
        )
        return self

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return self.as_model(threshold=1.0).raw(rows)

    def as_model(self, threshold: float, calibration=None) -> DecisionModel:
        x, y = calibration or (np.array([0.0, 1.0]), np.array([0.0, 1.0]))
        return DecisionModel(self.mean, self.scale, self.coef, self.none_coef,
                             self.none_intercept, x, y, threshold)  # fmt: skip


class Pointwise:
    """A scikit-learn classifier over single rows, for comparison."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, asked: list[Asked]) -> Pointwise:
        rows, labels = np.vstack([a.rows for a in asked]), np.concatenate([a.labels for a in asked])
        self.estimator.fit(rows, labels)
        return self

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(rows)[:, 1]


def best_of(
    asked: list[Asked], scores: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question with candidates: the probability that the best one's quantity is the answer
    (as served: assistant.decision.agreeing_mass), whether it is right, and what the question
    earns without a figure."""
    top, right, fallback = [], [], []
    for a, s in zip(asked, scores, strict=True):
        if len(s):
            i = int(np.argmax(s))
            top.append(agreeing_mass(a.candidates, s, i))
            right.append(float(a.labels[i]))
            fallback.append(a.fallback)
    return np.asarray(top), np.asarray(right), np.asarray(fallback)


def choose_threshold(p: np.ndarray, right: np.ndarray, fallback: np.ndarray) -> float:
    """The calibrated probability from which giving the best figure earns most on dev, end to
    end: a right figure +1, a wrong one -WRONG_ANSWER_COST, below it what the question gets
    without a figure (a quoted sentence or a decline)."""
    gain = np.where(right == 1, 1.0, -WRONG_ANSWER_COST) - fallback
    # A threshold answers every question at or above it: the isotonic map gives many the same
    # probability, so the cut can only fall between distinct values, never inside a tie.
    values = np.unique(p)[::-1]
    earned = np.concatenate([[0.0], np.cumsum([gain[p == v].sum() for v in values])])
    k = int(np.argmax(earned))
    if k == 0:
        return 1.0
    below = values[k] if k < len(values) else 0.0
    return round(float((values[k - 1] + below) / 2), 6)


def reliability(p: np.ndarray, right: np.ndarray) -> list[dict]:
    table = []
    for b in range(BINS):
        inside = (np.minimum(BINS - 1, (p * BINS).astype(int))) == b
        if inside.any():
            table.append({"bin": f"{b / BINS:.1f}-{(b + 1) / BINS:.1f}", "n": int(inside.sum()),
                          "confidence": round(float(p[inside].mean()), 3),
                          "right": round(float(right[inside].mean()), 3)})  # fmt: skip
    return table


def ece(p: np.ndarray, right: np.ndarray) -> float:
    return round(sum(r["n"] * abs(r["confidence"] - r["right"]) for r in reliability(p, right))
                 / max(1, len(p)), 4)  # fmt: skip


def _logistic() -> Pointwise:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return Pointwise(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)))


def _boosting() -> Pointwise:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return Pointwise(
        HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    )


def top1(asked: list[Asked], scores: list[np.ndarray]) -> float:
    """Share of the questions with a right candidate whose best-scored candidate is right."""
    hits = [a.labels[int(np.argmax(s))] for a, s in zip(asked, scores, strict=True)
            if len(s) and a.labels.any()]  # fmt: skip
    return round(float(np.mean(hits)), 4) if hits else 0.0


def fit(asked: list[Asked]) -> dict:
    from sklearn.isotonic import IsotonicRegression

    hand = [-np.arange(len(a.rows), dtype=float) for a in asked]  # ranking.py's own order
    chosen = out_of_fold(asked, ConditionalLogit)
    logistic, boosting = out_of_fold(asked, _logistic), out_of_fold(asked, _boosting)
    raw_top, right, fallback = best_of(asked, chosen)
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_top, right)
    calibrated = iso.predict(raw_top)
    threshold = choose_threshold(calibrated, right, fallback)
    final = ConditionalLogit().fit([a for a in asked if len(a.rows)])
    answered = calibrated >= threshold
    earned = np.where(answered, np.where(right == 1, 1.0, -WRONG_ANSWER_COST), fallback)
    quoted = np.array([a.sentence for a in asked if a.sentence is not None])
    sentence_iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(
        quoted[:, 0], quoted[:, 1]
    )
    return {
        "version": MODEL_VERSION,
        "kind": "conditional logit",
        "features": list(FEATURES),
        "question_features": list(QUESTION_FEATURES),
        "mean": final.mean.tolist(),
        "scale": final.scale.tolist(),
        "coef": final.coef.tolist(),
        "none_coef": final.none_coef.tolist(),
        "none_intercept": final.none_intercept,
        "l2_c": L2,
        "calibration": {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()},
        "threshold": threshold,
        "sentence_calibration": {
            "x": sentence_iso.X_thresholds_.tolist(),
            "y": sentence_iso.y_thresholds_.tolist(),
        },
        "wrong_answer_cost": WRONG_ANSWER_COST,
        "fitted": {
            "at": time.strftime("%Y-%m-%d"),
            "questions": len(asked),
            "candidates": int(sum(len(a.rows) for a in asked)),
            "command": "python -m eval.fit_decision",
        },
        "dev_out_of_fold": {
            "top1_hand_rules": top1(asked, hand),
            "top1_conditional_logit": top1(asked, chosen),
            "top1_logistic": top1(asked, logistic),
            "top1_gradient_boosting": top1(asked, boosting),
            "right_minus_wrong_end_to_end": int(earned.sum()),
            "answered_share": round(float(answered.mean()), 4),
            "answered_right": round(float(right[answered].mean()), 4) if answered.any() else None,
            "ece_raw": ece(raw_top, right),
            "ece_calibrated_in_sample": ece(calibrated, right),
            "reliability": reliability(calibrated, right),
            "quoted_sentences": len(quoted),
            "quoted_right": round(float(quoted[:, 1].mean()), 4),
        },
    }


def dev_sets() -> list[tuple[Settings, list[dict]]]:
    return [
        (Settings.from_env(), load_questions(DEFAULT_SET, "dev")),
        (_settings(EVAL_CORPUS, None), load_questions(EVAL_CORPUS_QUESTIONS, "dev")),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    parser.add_argument("--cache", type=Path, help="keep the asked candidates here (pickle) and "
                        "reuse them: for trying features without asking again")  # fmt: skip
    args = parser.parse_args(argv)
    if args.cache and args.cache.exists():
        asked = pickle.loads(args.cache.read_bytes())
    else:
        asked = []
        for settings, questions in dev_sets():
            assistant = Assistant(Retriever.load(settings), DecisionModel.neutral())
            asked += collect(assistant, questions)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(asked))
    model = fit(asked)
    print(json.dumps(model["dev_out_of_fold"], indent=2))
    print(f"threshold {model['threshold']} over {model['fitted']['candidates']} candidates")
    if not args.no_write:
        args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"model: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
