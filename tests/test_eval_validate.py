"""The eval-corpus validator catches what it is for, and passes on the committed material."""

import json

import pytest

from eval.validate import CORPUS, holds_value, validate

DOC = """---
title: "Tartu services"
date: 2023-06-14
source: "Evaluation material (fictional)"
country: Estonia
---
Tartu scored 71.3 on the index, ranked 11th of 63, and spent EUR 14.5 million.

| City | Score |
|---|---|
| Tartu | 71.3 |
"""


def _question(**overrides) -> dict:
    q = {
        "id": "w9-0001", "question": "What did Tartu score?", "kind": "figure", "shape": "score",
        "split": "dev", "answerable": True, "history": [],
        "answer": {"values": [71.3], "phrases": ["71.3"]},
        "gold": [{"doc_id": "w9_01_tartu", "contains": "Tartu scored 71.3 on the index"}],
        "near_miss": None,
    }  # fmt: skip
    return {**q, **overrides}


def _validate(tmp_path, *questions: dict) -> list[str]:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "w9_01_tartu.md").write_text(DOC)
    (tmp_path / "questions").mkdir()
    lines = "\n".join(json.dumps(q) for q in questions)
    (tmp_path / "questions" / "w9.jsonl").write_text(lines)
    return validate(tmp_path / "corpus", tmp_path / "questions")["errors"]


def test_values_are_read_with_their_scale_and_separators():
    assert holds_value("spent EUR 14.5 million", 14_500_000)
    assert holds_value("ranked 11th of 63", 11) and holds_value("1,240 service points", 1240)
    assert not holds_value("ranked 11th of 63", 12)


def test_a_good_question_passes_and_a_table_row_counts_as_a_quote(tmp_path):
    row = _question(id="w9-0002", gold=[{"doc_id": "w9_01_tartu", "contains": "| Tartu | 71.3 |"}])
    assert _validate(tmp_path, _question(), row) == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"gold": [{"doc_id": "w9_01_tartu", "contains": "Tartu scored 72 points"}]}, "not in one"),
        ({"answer": {"values": [71.4], "phrases": []}}, "value 71.4 is in none"),
        ({"gold": [{"doc_id": "w9_99", "contains": "Tartu scored 71.3"}]}, "unknown document"),
        ({"kind": "unanswerable"}, "answerable must be false"),
        ({"kind": "followup"}, "needs its history"),
        ({"split": "train"}, "split"),
    ],
)
def test_a_broken_question_is_reported(tmp_path, change, error):
    errors = _validate(tmp_path, _question(**change))
    assert any(error in e for e in errors), errors


def test_a_document_with_questions_in_both_splits_is_reported(tmp_path):
    errors = _validate(tmp_path, _question(), _question(id="w9-0002", split="test"))
    assert errors == ["w9_01_tartu: questions in both splits"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no eval/corpus yet")
def test_the_committed_eval_corpus_and_questions_are_valid():
    assert validate()["errors"] == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no eval/corpus yet")
def test_the_eval_corpus_has_the_size_and_variety_issue_8_asks_for():
    counts = validate()["counts"]
    assert counts["documents"] >= 100 and counts["share_not_vietnam"] >= 0.6
    assert counts["documents_over_5000_words"] >= 10 and counts["documents_with_tables"] >= 15
    assert counts["questions"] >= 1500 and counts["share_asking_a_figure"] >= 0.5
    assert counts["share_unanswerable"] >= 0.2
    assert counts["unanswerable_with_near_miss"] > counts["kinds"]["unanswerable"] / 2
