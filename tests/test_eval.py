"""The eval set against the real corpus and model (slow): floors, and the grounding invariant."""

import re

import pytest

from assistant.answering import Assistant
from assistant.retriever import Retriever
from eval.retrieval import load_queries
from eval.run import DEFAULT_SET, aggregate, run_config, score
from index.reader import IndexReader

pytestmark = pytest.mark.slow

# Measured on the held-out test split with the fitted decision of issue 16 as of 2026-12-03
# (`reformqa eval --split test`, 86 questions: hit@5 0.943, MRR 0.856, figure acc@1 0.420, fact
# acc 0.800, abstention acc 0.744, false abstention 0.271, answered right 0.685; the first fitted
# decision: figure acc@1 0.460, false abstention 0.229, answered right 0.629; the hand-set rules
# before it: figure acc@1 0.600, abstention acc 0.907, false abstention 0.014, on these five
# documents they were tuned on). Floors sit one question or so under, so a regression fails.
# See eval/reports/ for the tables.
TEST_FLOORS = {
    "hit@5": 0.91,
    "mrr@10": 0.83,
    "figure_acc@1": 0.38,
    "fact_acc": 0.75,
    "abstention_acc": 0.70,
    "answered_right": 0.64,
}
MAX_FALSE_ABSTENTION = 0.31


@pytest.fixture(scope="module")
def assistant(corpus_settings, embedder):
    reader = IndexReader.open(corpus_settings.data_dir, embedder.name)
    return Assistant(Retriever(reader, embedder, corpus_settings))


@pytest.fixture(scope="module")
def test_rows(assistant):
    return run_config("hybrid+figures", load_queries(DEFAULT_SET, "test"), assistant, None)


def test_held_out_metrics_stay_above_their_floors(test_rows):
    metrics = aggregate(test_rows)
    for name, floor in TEST_FLOORS.items():
        assert metrics[name] >= floor, f"{name} {metrics[name]:.3f} fell under {floor}"
    assert metrics["false_abstention"] <= MAX_FALSE_ABSTENTION


def test_every_figure_stands_in_a_cited_passage_over_the_whole_set(assistant):
    for q in load_queries(DEFAULT_SET, "all"):
        result = assistant.ask(q["question"], history=q.get("history"))
        answer = result.answer
        cited = {p.id: p.text for p in result.passages if p.id in answer.citations}
        assert set(answer.citations) == set(cited), q["id"]
        for fig in answer.figures:
            assert fig.chunk_id in cited and fig.text in cited[fig.chunk_id], (q["id"], fig.text)
        # every number written in the answer is quoted from a cited passage (or is a date/cite)
        text = re.sub(r"\[\d+\]|\(as of \d{4}-\d\d-\d\d\)", " ", answer.text)
        for number in re.findall(r"\d[\d.,/]*\d|\d", text):
            assert any(number in t for t in cited.values()), (q["id"], number)
        if answer.abstained:  # no figure; a number only as the closest one, marked as not it
            assert not answer.figures, q["id"]
            if answer.closest is None:
                assert not re.findall(r"\d", text), q["id"]
            else:
                assert answer.closest.text in cited[answer.closest.chunk_id], q["id"]


def test_the_id_card_question_shows_both_figures_with_dates_and_sources(assistant):
    result = assistant.ask("how many ID cards by 2023?")
    answer = result.answer
    values = {f.value for f in answer.figures}
    assert {76_000_000, 78_000_000} <= values
    assert {f.doc_id[:3] for f in answer.figures} >= {"000", "001"}
    assert answer.conflicts and "2023-02-03" in answer.text
    row = score({"answer": {"values": [76e6, 78e6], "phrases": []}, "answerable": True,
                 "gold": [], "kind": "conflict"}, result)  # fmt: skip
    assert row["conflict_recall"] == 1.0
