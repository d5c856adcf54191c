"""eval.stages: each kind of miss is put at its stage, and the report counts and renders them."""

import pytest

from assistant.answering import Result, Trace
from assistant.collect import Candidate, Sentence
from assistant.constraints import Constrained
from assistant.question import understand
from eval.run import (
    aggregate,
    expected_calibration_error,
    gold_in,
    misses_by_stage,
    reliability_table,
    render_markdown,
)
from eval.stages import STAGES, is_right, miss_stage
from index.figures import extract_figures
from index.types import Answer, Passage

GOLD_TEXT = "Complaints fell by 31%, and late files by 18% in 2023."
OTHER_TEXT = "The agency opened 12 new offices in 2023."


def _passage(doc_id: str, text: str, n: int = 0) -> Passage:
    pid = f"{doc_id}#{n:04d}"
    return Passage(
        id=pid, doc_id=doc_id, title=doc_id, source="s", date="2024-01-10", text=text,
        score=0.5, span=(0, len(text)), figures=extract_figures(text, None, doc_id, pid),
    )  # fmt: skip


GOLD = _passage("report", GOLD_TEXT)
OTHER = _passage("news", OTHER_TEXT)


def _question(**overrides) -> dict:
    question = {
        "id": "q1", "kind": "figure", "shape": "change", "split": "dev", "answerable": True,
        "question": "By how much did late files fall in 2023?",
        "answer": {"values": [18], "phrases": ["18%"]},
        "gold": [{"doc_id": "report", "contains": "late files by 18%"}], "near_miss": None,
    }  # fmt: skip
    question.update(overrides)
    return question


def _candidates(passage: Passage) -> list[Candidate]:
    sentence = Sentence(0, passage.text, (0, len(passage.text)))
    return [Candidate(f, sentence, 1.0 - i / 10, 0.0) for i, f in enumerate(passage.figures)]


def _result(question: dict, passages, figures=(), abstained=False, candidates=()) -> Result:
    answer = Answer(
        text="The documents do not say." if abstained else "an answer",
        abstained=abstained, confidence=0.3 if abstained else 0.9, figures=list(figures),
    )  # fmt: skip
    understood = understand(question["question"])
    return Result(
        question["question"], answer, list(passages)[:5], understood=understood,
        trace=Trace(list(passages), constrained=Constrained(tuple(candidates))),
    )  # fmt: skip


def _stage(question: dict, result: Result) -> dict | None:
    shown = [f.value for f in result.answer.figures]
    row = {
        "abstained": result.answer.abstained,
        "figure_acc@1": float(bool(shown) and shown[0] in question["answer"]["values"])
        if question["answer"]["values"] and question["answerable"] else None,
        "fact_acc": None,
    }  # fmt: skip
    return miss_stage(question, result, is_right(question, row))


def test_a_right_answer_is_no_miss():
    q = _question()
    eighteen = [f for f in GOLD.figures if f.value == 18]
    assert _stage(q, _result(q, [GOLD], figures=eighteen)) is None


def test_a_gold_passage_never_read_is_not_retrieved():
    q = _question()
    assert _stage(q, _result(q, [OTHER]))["stage"] == "not_retrieved"


def test_a_gold_value_no_figure_holds_was_never_extracted():
    q = _question(answer={"values": [19], "phrases": ["19"]})
    assert _stage(q, _result(q, [GOLD]))["stage"] == "never_extracted"


def test_a_question_not_read_as_asking_for_a_number():
    q = _question(question="Tell me about late files in 2023")
    assert not understand(q["question"]).wants_figure
    assert _stage(q, _result(q, [GOLD]))["stage"] == "not_number_question"


def test_the_other_figure_of_the_gold_sentence_is_the_wrong_figure_from_the_right_sentence():
    q = _question()
    thirty_one = [f for f in GOLD.figures if f.value == 31]
    result = _result(q, [GOLD], figures=thirty_one, candidates=_candidates(GOLD))
    assert _stage(q, result)["stage"] == "wrong_figure_right_sentence"


def test_a_gold_figure_ranked_below_another_sentence_gives_k():
    q = _question()
    ranked = _candidates(OTHER) + _candidates(GOLD)  # 2023 (?), 12, 31, 18: 18 comes last
    k = next(i for i, c in enumerate(ranked, 1) if c.figure.value == 18)
    result = _result(q, [OTHER, GOLD], figures=[OTHER.figures[0]], candidates=ranked)
    assert _stage(q, result) == {"stage": "ranked_kth", "k": k} and k > 1


def test_a_decline_with_the_gold_figure_first_is_declined_although_answerable():
    q = _question()
    gold_first = sorted(_candidates(GOLD), key=lambda c: c.figure.value != 18)
    result = _result(q, [GOLD], abstained=True, candidates=gold_first)
    assert _stage(q, result)["stage"] == "declined_answerable"


@pytest.mark.parametrize(("shown", "gave"), [(31, True), (12, False)])
def test_an_answer_to_an_unanswerable_question_says_whether_it_gave_the_near_figure(shown, gave):
    q = _question(
        answerable=False, kind="unanswerable", answer={"values": [], "phrases": []},
        near_miss={"value": 31, "doc_id": "report", "contains": "31%", "why": "another measure"},
    )  # fmt: skip
    figure = next(f for f in GOLD.figures + OTHER.figures if f.value == shown)
    miss = _stage(q, _result(q, [GOLD, OTHER], figures=[figure]))
    assert miss == {"stage": "answered_unanswerable", "gave_near_miss": gave}
    assert _stage(q, _result(q, [GOLD], abstained=True)) is None


def _row(qid: str, confidence: float, right: float | None, miss: dict | None = None) -> dict:
    row = {
        m: None
        for m in (
            "hit@1",
            "hit@5",
            "mrr@10",
            "ndcg@10",
            "figure_acc@1",
            "conflict_recall",
            "fact_acc",
            "abstention_acc",
            "false_abstention",
        )
    }
    row.update(id=qid, kind="figure", shape="count", latency_ms=1.0, confidence=confidence,
               answered_right=right, miss=miss, abstained=right is None)  # fmt: skip
    return row


def test_ece_is_zero_when_confidence_matches_the_share_right_and_large_when_it_does_not():
    calibrated = [_row("a", 0.75, 1.0), _row("b", 0.75, 1.0), _row("c", 0.75, 1.0),
                  _row("d", 0.75, 0.0)]  # fmt: skip
    assert expected_calibration_error(calibrated) == 0.0
    overconfident = [_row(str(i), 0.95, float(i < 2)) for i in range(10)]
    assert expected_calibration_error(overconfident) == pytest.approx(0.75)
    assert expected_calibration_error([_row("x", 0.2, None)]) is None  # declines are left out
    table = reliability_table(overconfident + calibrated + [_row("x", 0.2, None)])
    assert table == [
        {"bin": "0.7-0.8", "answers": 4, "confidence": 0.75, "right": 0.75},
        {"bin": "0.9-1.0", "answers": 10, "confidence": 0.95, "right": 0.2},
    ]


def test_the_report_counts_and_lists_every_miss_by_stage():
    rows = [
        _row("q1", 0.9, 1.0),
        _row("q2", 0.9, 0.0, {"stage": "ranked_kth", "k": 3}),
        _row("q3", 0.3, None, {"stage": "declined_answerable"}),
        _row("q4", 0.9, 0.0, {"stage": "answered_unanswerable", "gave_near_miss": True}),
    ]
    misses = misses_by_stage(rows)
    assert list(misses["counts"]) == list(STAGES)
    assert misses["counts"]["ranked_kth"] == 1 and sum(misses["counts"].values()) == 3
    assert [m["id"] for m in misses["misses"]] == ["q2", "q3", "q4"]
    overall = aggregate(rows)
    assert overall["answered_right"] == pytest.approx(1 / 3, abs=1e-4)
    result = {"overall": overall, "per_kind": {"figure": overall}, "per_shape": {"count": overall},
              "misses_by_stage": misses, "reliability": reliability_table(rows)}  # fmt: skip
    report = {"questions": "q.jsonl", "n": 4, "split": "dev", "index": "v1", "run_at": "now",
              "abstain_below": 0.05, "results": {"hybrid+figures": result}}  # fmt: skip
    markdown = render_markdown(report)
    assert "| ranked_kth | 1 |" in markdown and "| all misses | 3 |" in markdown
    assert "q2 (k=3)" in markdown and "q4 (gave the near figure)" in markdown
    assert "## shape: count" in markdown
    assert "| 0.9-1.0 | 3 | 0.900 | 0.333 |" in markdown


def test_a_question_answered_by_a_table_row_is_reported_apart():
    row = {"gold": [{"doc_id": "d", "contains": "Ward 7 | 4,120 | 63%"}]}
    text = {"gold": [{"doc_id": "d", "contains": "The ward booked 4,120 appointments."}]}
    assert (gold_in(row), gold_in(text), gold_in({"gold": []})) == ("table", "text", None)
