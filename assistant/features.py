"""What the decision model knows of a figure candidate: one row of numbers per candidate.

Each feature is a plain fact about the question, the sentence, the figure or how they meet; the
weights live in the fitted model (assistant/decision.py), not here. Changing a feature's meaning
or order means refitting the model (`python -m eval.fit_decision`): the model file names the
features it was fitted on and is refused when they differ.
"""

from __future__ import annotations

import math
import re

import numpy as np

from assistant.collect import Candidate
from assistant.question import Question
from assistant.ranking import (
    MONEY_UNITS,
    change_fit,
    context_terms,
    same_quantity,
    unit_fit,
    value_in_question,
    whole_of,
    words_fit,
)
from assistant.tuning import CONTEXT_WORDS, CORROBORATION_GAP, LEAD_CHARS, NEAR_WORDS
from index.keyword import tokenize
from index.types import Figure

FEATURES = (
    "support", "dense", "words", "unit_fit", "change_fit", "words_fit", "value_in_question",
    "time_fit", "time_asked", "time_off", "hand_rank", "hand_margin", "passage_rank",
    "wants_figure", "wants_percent", "wants_money", "wants_change", "counts_a_noun",
    "is_percent", "is_money", "has_unit", "is_change", "is_part", "is_year_like",
    "is_section_number", "is_exact", "figures_in_sentence", "percent_mismatch",
    "money_mismatch", "is_follow_up", "clause_idf", "sentence_idf", "context_idf",
    "is_unitless_decimal", "asks_score", "asks_score_unitless", "asks_average",
    "asks_average_near", "target_near", "asks_target_target_near", "asks_rank", "is_rank",
    "asks_rank_is_rank", "is_new_value", "is_baseline", "asked_year_in_clause",
    "asked_year_in_sentence", "other_year_in_clause", "corroborated", "in_table", "row_idf",
    "row_named", "column_idf", "column_named", "asked_year_in_column", "other_year_in_column",
    "asks_duration", "is_duration", "asks_duration_is_duration",
)  # fmt: skip
# Facts about the question alone, the same in every row of one question: they cannot rank its
# candidates, only say how likely it is that none of them is the answer.
QUESTION_FEATURES = (
    "time_asked", "wants_figure", "wants_percent", "wants_money", "wants_change",
    "counts_a_noun", "is_follow_up", "asks_score", "asks_average", "asks_rank", "asks_duration",
)  # fmt: skip

_SCORE = re.compile(r"\b(score[sd]?|index|rating|rated|points?|value)\b", re.IGNORECASE)
_AVERAGE = re.compile(
    r"\b(average[sd]?|avg|mean|median|typical(ly)?|per\s+\w+|each)\b", re.IGNORECASE
)
_NEW_VALUE = re.compile(r"\b(to|reached|reaching|now|stood\s+at|totall?ed)\s*$", re.IGNORECASE)
_BASELINE = re.compile(
    r"\b(from|compared\s+(with|to)|against|than|versus|vs\.?|previous(ly)?|a\s+year\s+earlier)"
    r"\W*([a-z]+\W+){0,2}$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_TARGET = re.compile(r"\b(target(ed|s)?|goal|aim(s|ed)?|plan(s|ned)?|expect(s|ed)?|forecast|"
                     r"project(ed|ion)|intend(s|ed)?|by\s+20\d\d)\b", re.IGNORECASE)  # fmt: skip
_RANK = re.compile(r"\b(rank(ed|s|ing)?|position|place[ds]?|top|bottom|last|first)\b", re.I)
_DURATION_ASKED = re.compile(
    r"\bhow\s+(long|quickly|soon|fast)\b|\bhow\s+many\s+(working\s+|calendar\s+)?"
    r"(seconds|minutes|hours|days|weeks|months|years)\b|\b(waiting|processing|turnaround|"
    r"response|waited|wait)\s+(time|times|for)?\b",
    re.IGNORECASE,
)
DURATION_UNITS = {"second", "seconds", "minute", "minutes", "hour", "hours", "day", "days",
                  "week", "weeks", "month", "months", "year", "years"}  # fmt: skip
_SECTION = re.compile(r"^\s*(?:[A-Z]\.)?\d+(?:\.\d+)+\s")  # "3.1 France Services ..." heads


def candidate_rows(question: Question, candidates: list[Candidate]) -> np.ndarray:
    """One row of FEATURES per candidate, candidates in the hand-ranked order of ranking.py."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    best = candidates[0].score
    per_sentence: dict[str, list[Figure]] = {}
    for c in candidates:
        per_sentence.setdefault(c.sentence.text, []).append(c.figure)
    weights = _local_idf(question, list(per_sentence))
    asks = _asks(question.text)
    agreeing = _corroborated(candidates)
    rows = [
        _row(question, c, rank, best, per_sentence[c.sentence.text], weights, asks, agreeing[rank])
        for rank, c in enumerate(candidates)
    ]
    return np.asarray(rows, dtype=np.float32)


def _local_idf(question: Question, sentences: list[str]) -> dict[str, float]:
    """Each question term's weight: rare among the candidate sentences means telling (a word
    every sentence has, like the country's name, says nothing about which figure is meant)."""
    stems = [set(tokenize(text)) for text in sentences]
    n = len(stems)
    return {t: math.log((n + 1) / (1 + sum(t in s for s in stems))) + 0.1 for t in question.terms}


def _share(weights: dict[str, float], found: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total else 0.0


def _named(words: set[str], q: Question) -> float:
    """The share of a table cell's row label (or column header) words the question uses."""
    return len(words & set(q.terms)) / len(words) if words else 0.0


def _asks(text: str) -> dict[str, bool]:
    return {"score": bool(_SCORE.search(text)), "average": bool(_AVERAGE.search(text)),
            "target": bool(_TARGET.search(text)), "rank": bool(_RANK.search(text)),
            "duration": bool(_DURATION_ASKED.search(text))}  # fmt: skip


def _row(
    q: Question,
    c: Candidate,
    rank: int,
    best: float,
    siblings: list[Figure],
    weights: dict[str, float],
    asks: dict[str, bool],
    corroborated: bool,
) -> list[float]:
    f, s = c.figure, c.sentence
    clause = context_terms(f, NEAR_WORDS, clause=True)
    lead, after = clause_around(f)
    clause_text = f"{lead} {after}"
    asked_year = str(q.time.year) if q.time is not None and q.time.year else None
    clause_years = set(m.group() for m in _YEAR.finditer(clause_text))
    column_years = set(m.group() for m in _YEAR.finditer(f.column or ""))
    row, column = set(tokenize(f.row or "")), set(tokenize(f.column or ""))
    unit = (f.unit or "").lower()
    is_percent = unit == "%" or (f.of_total is not None and unit != "rank")
    is_money = unit in MONEY_UNITS
    is_duration = unit.split()[-1] in DURATION_UNITS if unit else False
    values = {
        "support": s.support,
        "dense": s.dense,
        "words": s.words,
        "unit_fit": unit_fit(q, f),
        "change_fit": change_fit(q, f),
        "words_fit": words_fit(q, f, whole_of(f, siblings)),
        "value_in_question": float(value_in_question(f, q)),
        "time_fit": c.time_fit,
        "time_asked": float(q.time is not None),
        "time_off": float(c.time_fit < 0),
        "hand_rank": math.log1p(rank),
        "hand_margin": best - c.score,
        "passage_rank": math.log1p(s.passage),
        "wants_figure": float(q.wants_figure),
        "wants_percent": float(q.wants_percent),
        "wants_money": float(q.wants_money),
        "wants_change": float(q.wants_change),
        "counts_a_noun": float(q.counted is not None),
        "is_percent": float(is_percent),
        "is_money": float(is_money),
        "has_unit": float(bool(unit) and not is_percent and not is_money),
        "is_change": float(bool(f.change)),
        "is_part": float(f.of_total is not None),
        "is_year_like": float(f.value.is_integer() and 1900 <= f.value <= 2100 and not unit),
        "is_section_number": float(bool(_SECTION.match(s.text)) and s.text.find(f.text) < 8),
        "is_exact": float(f.qualifier == "exact"),
        "figures_in_sentence": math.log1p(len(siblings)),
        "percent_mismatch": float(q.wants_percent and not q.counted and not is_percent),
        "money_mismatch": float(q.wants_money and not is_money),
        "is_follow_up": float(q.is_follow_up),
        "clause_idf": _share(weights, clause),
        "sentence_idf": _share(weights, set(tokenize(s.text))),
        "context_idf": _share(weights, context_terms(f, CONTEXT_WORDS)),
        "is_unitless_decimal": float(not unit and not f.value.is_integer()),
        "asks_score": float(asks["score"]),
        "asks_score_unitless": float(asks["score"] and not unit and not is_percent),
        "asks_average": float(asks["average"]),
        "asks_average_near": float(asks["average"] and bool(_AVERAGE.search(clause_text))),
        "target_near": float(bool(_TARGET.search(clause_text))),
        "asks_target_target_near": float(asks["target"] and bool(_TARGET.search(clause_text))),
        "asks_rank": float(asks["rank"]),
        "is_rank": float(unit == "rank"),
        "asks_rank_is_rank": float(asks["rank"] and unit == "rank"),
        "is_new_value": float(bool(_NEW_VALUE.search(lead[-LEAD_CHARS:]))),
        "is_baseline": float(bool(_BASELINE.search(lead[-LEAD_CHARS:]))),
        "asked_year_in_clause": float(asked_year is not None and asked_year in clause_years),
        "asked_year_in_sentence": float(asked_year is not None and asked_year in s.text),
        "other_year_in_clause": float(bool(clause_years - {asked_year})),
        "corroborated": float(corroborated),
        "in_table": float(f.row is not None or f.column is not None),
        "row_idf": _share(weights, row),
        "row_named": _named(row, q),
        "column_idf": _share(weights, column),
        "column_named": _named(column, q),
        "asked_year_in_column": float(asked_year is not None and asked_year in column_years),
        "other_year_in_column": float(bool(column_years - {asked_year})),
        "asks_duration": float(asks["duration"]),
        "is_duration": float(is_duration),
        "asks_duration_is_duration": float(asks["duration"] and is_duration),
    }
    return [values[name] for name in FEATURES]


def _corroborated(candidates: list[Candidate]) -> list[bool]:
    """Per candidate: does another document give the same quantity with a value within a tenth
    of its own ('more than 76 million' and 'nearly 78 million' cards)? Values are compared all
    at once; only the close pairs are read for what they measure."""
    values = np.array([c.figure.value for c in candidates], dtype=np.float64)
    docs = np.array([c.figure.doc_id for c in candidates])
    reach = CORROBORATION_GAP * np.maximum(np.abs(values), 1e-9)
    close = (np.abs(values[:, None] - values[None, :]) <= reach[:, None]) & (
        docs[:, None] != docs[None, :]
    )
    return [
        any(same_quantity(c.figure, candidates[j].figure) for j in np.flatnonzero(close[i]))
        for i, c in enumerate(candidates)
    ]


def clause_around(f: Figure) -> tuple[str, str]:
    """The words of the figure's clause before it ('fell from 444 to' before '417') and after it,
    up to the nearest comma, semicolon or bracket."""
    start = f.sentence.find(f.text)
    if start < 0:
        return "", ""
    before = re.split(r"[,;:()]", f.sentence[:start])[-1]
    after = re.split(r"[,;:()]", f.sentence[start + len(f.text) :])[0]
    return before, after
