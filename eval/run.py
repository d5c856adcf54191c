"""Run the question set against configurations side by side; print metrics; write a report.

    python -m eval.run [--questions F] [--split dev|test|all] [--config NAME ...]
                       [--out PATH] [--calibrate] [--data-dir DIR]

(`reformqa eval ...` runs this.) Metrics, per configuration, overall and per kind of question:
hit@1, hit@5, MRR@10, nDCG@10 (a passage is relevant when it is from a gold document and contains
the gold text), figure accuracy@1 (the first figure of the answer, or the total it is stated
with, has a gold value), conflict recall (share of the disagreeing gold values the answer shows),
fact accuracy (a gold phrase is in the answer), abstention accuracy, false abstention rate,
latency p50/p95.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from assistant.answering import Assistant, Result
from assistant.retriever import Retriever
from eval.baseline import LangChainBaseline
from eval.retrieval import is_relevant, load_queries
from index.settings import Settings
from index.types import Passage

DEFAULT_SET = Path(__file__).with_name("questions.jsonl")
DEFAULT_OUT = Path(__file__).with_name("reports") / "latest"
CONFIGS = {
    "langchain-baseline": {},
    "bm25": {"mode": "bm25", "rank_figures": False},
    "dense": {"mode": "dense", "rank_figures": False},
    "hybrid": {"mode": "hybrid", "rank_figures": False},
    "hybrid+figures": {"mode": "hybrid", "rank_figures": True},
}
METRICS = [
    "hit@1", "hit@5", "mrr@10", "ndcg@10", "figure_acc@1", "conflict_recall", "fact_acc",
    "abstention_acc", "false_abstention", "p50_ms", "p95_ms",
]  # fmt: skip


def score(question: dict, result: Result) -> dict[str, float | None]:
    """One question's scores; None where a metric does not apply to it."""
    answer, gold = result.answer, question["answer"]
    row: dict[str, float | None] = dict.fromkeys(METRICS)
    row["latency_ms"] = result.timings_ms.get("total", 0.0)
    answerable = question["answerable"]
    row["abstention_acc"] = float(answer.abstained != answerable)
    if answerable:
        row["false_abstention"] = float(answer.abstained)
    if question["gold"]:
        row.update(_retrieval_scores(result.passages, question["gold"]))
    if answerable and gold["values"]:
        first = answer.figures[0] if answer.figures and not answer.abstained else None
        # "out of how many?" is answered by the total of "4,400 out of 6,502", stated with it
        stated = [first.value, first.of_total] if first else []
        row["figure_acc@1"] = float(
            any(v is not None and _matches(v, gold["values"]) for v in stated)
        )
    if question["kind"] == "conflict" and gold["values"]:
        shown = [f.value for f in answer.figures] if not answer.abstained else []
        row["conflict_recall"] = sum(_matches(v, shown) for v in gold["values"]) / len(
            gold["values"]
        )
    if answerable and gold["phrases"] and not gold["values"]:
        text = _normal(answer.text)
        hit = any(_normal(p) in text for p in gold["phrases"])
        row["fact_acc"] = float(hit and not answer.abstained)
    return row


def _retrieval_scores(passages: list[Passage], golds: list[dict]) -> dict[str, float]:
    relevant = [any(is_relevant(p, g) for g in golds) for p in passages[:10]]
    first = relevant.index(True) if True in relevant else None
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(golds), 10)))
    return {
        "hit@1": float(first == 0),
        "hit@5": float(first is not None and first < 5),
        "mrr@10": 1 / (first + 1) if first is not None else 0.0,
        "ndcg@10": min(1.0, dcg / ideal) if ideal else 0.0,
    }


def _matches(value: float, gold: list[float]) -> bool:
    return any(math.isclose(value, g, rel_tol=1e-6, abs_tol=1e-9) for g in gold)


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[“”\"'*]", "", text).lower().split())


def aggregate(rows: list[dict]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for metric in METRICS:
        if metric in ("p50_ms", "p95_ms"):
            continue
        values = [r[metric] for r in rows if r[metric] is not None]
        out[metric] = round(sum(values) / len(values), 4) if values else None
    latencies = sorted(r["latency_ms"] for r in rows)
    out["p50_ms"] = round(statistics.median(latencies), 1) if latencies else None
    out["p95_ms"] = round(_percentile(latencies, 95), 1) if latencies else None
    out["n"] = len(rows)
    return out


def _percentile(values: list[float], pct: float) -> float:
    index = max(0, math.ceil(pct / 100 * len(values)) - 1)
    return values[index]


def run_config(name: str, questions: list[dict], assistant: Assistant, baseline) -> list[dict]:
    rows = []
    for q in questions:
        if name == "langchain-baseline":
            result = baseline.ask(q["question"])
        else:
            result = assistant.ask(q["question"], history=q.get("history"), **CONFIGS[name])
        row = score(q, result)
        row.update(
            id=q["id"], kind=q["kind"], split=q["split"], abstained=result.answer.abstained,
            confidence=result.answer.confidence, evidence=result.evidence,
            answer=result.answer.text[:300],
        )  # fmt: skip
        rows.append(row)
    return rows


def calibrate(rows: list[dict]) -> tuple[float, float]:
    """The `abstain_below` that maximizes abstention accuracy on these rows, and that accuracy.

    Each row's `evidence` is its best support, adjusted for time; answering means evidence >=
    threshold. Ties are broken towards the middle of the best interval.
    """
    points = sorted({r["evidence"] for r in rows if r["evidence"] is not None})
    cuts = [points[0] - 0.01] + [(a + b) / 2 for a, b in itertools.pairwise(points)]
    cuts.append(points[-1] + 0.01)

    def accuracy(cut: float) -> float:
        return sum(
            ((r["evidence"] or -1) < cut) == (r["kind"] == "unanswerable") for r in rows
        ) / len(rows)

    scored = [(accuracy(c), c) for c in cuts]
    best = max(a for a, _ in scored)
    winners = [c for a, c in scored if a == best]
    return round(statistics.median(winners), 3), best


def render_markdown(report: dict) -> str:
    lines = [
        "# Reform QA eval report",
        "",
        f"- questions: `{report['questions']}` ({report['n']}, split `{report['split']}`)",
        f"- index: {report['index']}",
        f"- run at {report['run_at']}; abstain_below = {report['abstain_below']}",
        "",
        "## All questions",
        "",
        _table(report["results"], "overall"),
    ]
    kinds = sorted({k for r in report["results"].values() for k in r["per_kind"]})
    for kind in kinds:
        lines += ["", f"## {kind}", "", _table(report["results"], kind)]
    return "\n".join(lines) + "\n"


def _table(results: dict, section: str) -> str:
    head = "| config | n | " + " | ".join(METRICS) + " |"
    rule = "|" + "---|" * (len(METRICS) + 2)
    body = []
    for name, result in results.items():
        row = result["overall"] if section == "overall" else result["per_kind"].get(section)
        if row is None:
            continue
        cells = ["–" if row[m] is None else f"{row[m]:.3f}" for m in METRICS]
        body.append(f"| {name} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])


def print_table(results: dict) -> None:
    """All configurations side by side, then the last one (the product) per kind of question."""
    header = f"{'config':<20}" + "".join(f"{m:>17}" for m in METRICS)
    print(header)
    for name, result in results.items():
        print(f"{name:<20}{_cells(result['overall'])}")
    name, last = list(results.items())[-1]
    print(f"\n{name}, per kind of question:")
    print(header.replace("config", "kind  ", 1))
    for kind, row in last["per_kind"].items():
        print(f"{kind:<20}{_cells(row)}")


def _cells(row: dict) -> str:
    return "".join(f"{'-' if row[m] is None else f'{row[m]:.3f}':>17}" for m in METRICS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reformqa eval", description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_SET)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    parser.add_argument(
        "--config", action="append", choices=list(CONFIGS), help="repeatable; default all"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report path (.md + .json)")
    parser.add_argument("--data-dir", type=Path, help="index folder (default ./data)")
    parser.add_argument(
        "--calibrate", action="store_true", help="fit abstain_below on the dev split and print it"
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env(data_dir=args.data_dir)
    assistant = Assistant(Retriever.load(settings))
    if args.calibrate:
        rows = run_config("hybrid+figures", load_queries(args.questions, "dev"), assistant, None)
        cut, acc = calibrate(rows)
        now = settings.abstain_below
        print(f"abstain_below = {cut} (dev abstention accuracy {acc:.3f}; now {now})")
        return 0
    questions = load_queries(args.questions, args.split)
    names = args.config or list(CONFIGS)
    baseline = (
        LangChainBaseline(settings, assistant.retriever.embedder)
        if "langchain-baseline" in names
        else None
    )
    results = {}
    for name in names:
        rows = run_config(name, questions, assistant, baseline)
        per_kind = defaultdict(list)
        for row in rows:
            per_kind[row["kind"]].append(row)
        results[name] = {
            "overall": aggregate(rows),
            "per_kind": {k: aggregate(v) for k, v in sorted(per_kind.items())},
            "questions": rows,
        }
    report = {
        "questions": str(args.questions),
        "split": args.split,
        "n": len(questions),
        "index": str(assistant.retriever.reader.version),
        "abstain_below": settings.abstain_below,
        "run_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "results": results,
    }
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    args.out.with_suffix(".md").write_text(render_markdown(report), encoding="utf-8")
    print(f"report: {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
