"""`reformqa eval --corpus eval/corpus` on a 200-question sample of the dev split (slow): the index
of the 104 evaluation documents is built once, the report counts every miss at one stage, and the
answering stage stays above floors measured on this sample."""

import json

import pytest

from eval.run import EVAL_CORPUS, EVAL_CORPUS_QUESTIONS, load_questions, main, sample
from eval.stages import STAGES
from index.builder import build_index
from index.settings import Settings

pytestmark = pytest.mark.slow

SAMPLE = 200
# Measured on this sample (seed 0): hit@5 0.859, figure acc@1 0.364, abstention acc 0.670,
# answered right 0.550 (the fitted decision of issue 16, which declines rather than give a figure
# it would more often get wrong than right: figure acc@1 counts a decline as a miss, answered
# right is the share right among the answers given); floors sit a few questions under, so a
# regression fails. The whole dev split is in eval/reports/corpus-dev.md.
FLOORS = {"hit@5": 0.83, "figure_acc@1": 0.33, "abstention_acc": 0.64, "answered_right": 0.50}
# The whole test split (729 questions) on 2026-12-03 (eval/reports/corpus-test.md): hit@5 0.873,
# figure acc@1 0.300, abstention acc 0.608, false abstention 0.449, answered right 0.519, ECE
# 0.083. Floors a few questions under.
TEST_FLOORS = {"hit@5": 0.85, "figure_acc@1": 0.28, "abstention_acc": 0.58, "answered_right": 0.49}
MAX_TEST_FALSE_ABSTENTION = 0.47


@pytest.fixture(scope="module")
def eval_index(tmp_path_factory, embedder):
    data_dir = tmp_path_factory.mktemp("eval-corpus-index")
    settings = Settings(corpus_dir=EVAL_CORPUS, data_dir=data_dir)
    built = build_index(settings, embedder=embedder)
    assert built.documents >= 100
    return data_dir


def _run(tmp_path_factory, data_dir, split: str, *extra: str) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("eval-report") / f"corpus-{split}"
    argv = ["--corpus", str(EVAL_CORPUS), "--data-dir", str(data_dir), "--split", split,
            "--config", "hybrid+figures", "--out", str(out), *extra]  # fmt: skip
    assert main(argv) == 0
    return json.loads(out.with_suffix(".json").read_text()), out.with_suffix(".md").read_text()


@pytest.fixture(scope="module")
def report(tmp_path_factory, eval_index):
    return _run(tmp_path_factory, eval_index, "dev", "--sample", str(SAMPLE))


def test_the_sample_is_drawn_from_the_dev_split_only(report):
    body, _ = report
    dev = {q["id"]: q for q in load_questions(EVAL_CORPUS_QUESTIONS, "dev")}
    rows = body["results"]["hybrid+figures"]["questions"]
    assert len(rows) == SAMPLE == body["n"]
    assert all(r["id"] in dev for r in rows)
    assert [q["id"] for q in sample(list(dev.values()), SAMPLE)] == [r["id"] for r in rows]


def test_every_miss_is_counted_once_at_a_named_stage(report):
    body, markdown = report
    result = body["results"]["hybrid+figures"]
    rows = {r["id"]: r for r in result["questions"]}
    misses = result["misses_by_stage"]["misses"]
    assert list(result["misses_by_stage"]["counts"]) == list(STAGES)
    assert sum(result["misses_by_stage"]["counts"].values()) == len(misses)
    assert {m["id"] for m in misses} == {i for i, r in rows.items() if r["miss"]}
    for miss in misses:
        row = rows[miss["id"]]
        if miss["stage"] == "not_retrieved":  # not among the passages read: not in the top 5
            assert row["hit@5"] == 0.0, miss
        if miss["stage"] == "ranked_kth":
            assert miss["k"] > 1
        if miss["stage"] == "answered_unanswerable":
            assert not row["abstained"] and "gave_near_miss" in miss
    assert "## Misses by stage" in markdown and "| all misses |" in markdown


def test_the_report_has_per_shape_metrics_answered_right_and_calibration(report):
    body, markdown = report
    result = body["results"]["hybrid+figures"]
    assert {"count", "percent", "money", "rank"} <= set(result["per_shape"])
    overall = result["overall"]
    assert 0.0 <= overall["answered_right"] <= 1.0 and 0.0 <= overall["ece"] <= 1.0
    assert "## shape: rank" in markdown


def test_the_answering_stage_stays_above_its_floors_on_the_sample(report):
    body, _ = report
    overall = body["results"]["hybrid+figures"]["overall"]
    for name, floor in FLOORS.items():
        assert overall[name] >= floor, f"{name} {overall[name]:.3f} fell under {floor}"


def test_the_answering_stage_stays_above_its_floors_on_the_test_split(tmp_path_factory, eval_index):
    body, _ = _run(tmp_path_factory, eval_index, "test")
    overall = body["results"]["hybrid+figures"]["overall"]
    assert overall["n"] == len(load_questions(EVAL_CORPUS_QUESTIONS, "test"))
    for name, floor in TEST_FLOORS.items():
        assert overall[name] >= floor, f"{name} {overall[name]:.3f} fell under {floor}"
    assert overall["false_abstention"] <= MAX_TEST_FALSE_ABSTENTION
