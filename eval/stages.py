"""At which stage of answering a question was missed: one name per miss, from the result's trace.

The stages, in the order they are checked (the first that applies is the miss's stage):

- `not_retrieved`: no gold passage among the passages the answering stage read;
- `never_extracted`: the gold passages were read, but no figure extracted from them has the gold
  value;
- `not_number_question`: the gold figure was extracted, but the question was not read as asking
  for a number and got no figure (a quoted sentence, or a decline);
- `wrong_figure_right_sentence`: the answer's figure comes from a sentence that also holds the gold
  figure (checked before `ranked_kth`, of which it is the narrower case);
- `ranked_kth`: the gold figure was a candidate, ranked k-th (k > 1; k is given with the miss);
- `declined_answerable`: the question has an answer in the documents and was declined;
- `answered_unanswerable`: the documents do not answer it and an answer was given (with whether it
  gave the near figure the question records, `near_miss`);
- `wrong_sentence`: a question answered by a phrase, answered with a sentence that lacks it;
- `other`: a miss none of the above explains (a figure answer judged wrong for another reason).
"""

from __future__ import annotations

import math

from assistant.answering import Result
from eval.retrieval import is_relevant
from index.figures import extract_figures
from index.types import Figure, Passage

STAGES = (
    "not_retrieved",
    "never_extracted",
    "not_number_question",
    "wrong_figure_right_sentence",
    "ranked_kth",
    "declined_answerable",
    "answered_unanswerable",
    "wrong_sentence",
    "other",
)


def is_right(question: dict, row: dict) -> bool:
    """Is the answer given right? (A decline is right only when there is nothing to answer.)"""
    if not question["answerable"]:
        return bool(row["abstained"])
    if row.get("figure_acc@1") is not None:
        return row["figure_acc@1"] == 1.0
    if row.get("fact_acc") is not None:
        return row["fact_acc"] == 1.0
    return not row["abstained"]


def miss_stage(question: dict, result: Result, right: bool) -> dict | None:
    """The stage of a miss ({"stage", and "k" or "gave_near_miss" where they apply}); None when
    the answer is right."""
    if right:
        return None
    answer = result.answer
    if not question["answerable"]:
        near = (question.get("near_miss") or {}).get("value")
        shown = [f.value for f in answer.figures]
        return {"stage": "answered_unanswerable", "gave_near_miss": near is not None
                and matches(near, shown)}  # fmt: skip
    read = result.trace.passages if result.trace else result.passages
    golds = question["gold"]
    gold_passages = [p for p in read if any(is_relevant(p, g) for g in golds)]
    if golds and not gold_passages:
        return {"stage": "not_retrieved"}
    values = question["answer"]["values"]
    if not values:
        return {"stage": "declined_answerable" if answer.abstained else "wrong_sentence"}
    gold_figures = [f for p in gold_passages for f in _figures_of(p) if holds(f, values)]
    if golds and not gold_figures:
        return {"stage": "never_extracted"}
    gave_figure = bool(answer.figures) and not answer.abstained
    if result.understood is not None and not result.understood.wants_figure and not gave_figure:
        return {"stage": "not_number_question"}
    gold_sentences = {f.sentence for f in gold_figures}
    if answer.figures and not answer.abstained and answer.figures[0].sentence in gold_sentences:
        return {"stage": "wrong_figure_right_sentence"}
    candidates = (result.trace.ranked or result.trace.candidates) if result.trace else []
    rank = next((i for i, c in enumerate(candidates, 1) if holds(c.figure, values)), None)
    if rank is not None and rank > 1:
        return {"stage": "ranked_kth", "k": rank}
    if answer.abstained:
        return {"stage": "declined_answerable"}
    return {"stage": "other"}


def count_by_stage(misses: list[dict]) -> dict[str, int]:
    """How many misses at each stage, every stage named (zeros included), in stage order."""
    counts = dict.fromkeys(STAGES, 0)
    for miss in misses:
        counts[miss["stage"]] += 1
    return counts


def _figures_of(passage: Passage) -> list[Figure]:
    if passage.figures:
        return list(passage.figures)
    return extract_figures(passage.text, passage.date, passage.doc_id, passage.id)


def holds(figure: Figure, values: list[float]) -> bool:
    """Does the figure state a gold value, itself or as the total it is stated with ('out of how
    many?' is answered by the 6,502 of '4,400 out of 6,502')?"""
    return any(v is not None and matches(v, values) for v in (figure.value, figure.of_total))


def matches(value: float, values: list[float]) -> bool:
    return any(math.isclose(value, g, rel_tol=1e-6, abs_tol=1e-9) for g in values)
