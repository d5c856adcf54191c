"""Run the question set against configurations side by side; print metrics; write a report.

    python -m eval.run [--questions F|DIR] [--split dev|test|all] [--config NAME ...]
                       [--out PATH] [--calibrate] [--data-dir DIR] [--corpus DIR] [--sample N]

(`reformqa eval ...` runs this.) `--corpus DIR` builds an index of that folder (or reuses it when
it is up to date) under .cache/eval-index/; without it the index of ./data (docs_corpus/) is used.
`--corpus eval/corpus` reads its questions from eval/corpus_questions/ unless told otherwise.

Metrics, per configuration, overall, per kind of question and per figure shape: hit@1, hit@5,
MRR@10, nDCG@10 (a passage is relevant when it is from a gold document and contains the gold
text), figure accuracy@1 (the first figure of the answer, or the total it is stated with, has a
gold value), conflict recall (share of the disagreeing gold values the answer shows), fact
accuracy (a gold phrase is in the answer), abstention accuracy, false abstention rate,
answered_right (share of the answers given, declines left out, that are right), ECE (expected
calibration error of `confidence` against being right, over the answers given, 10 equal bins),
latency p50/p95. Each miss gets the stage it happened at (eval.stages), counted in
`misses_by_stage` and listed by question id.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from assistant.answering import Assistant, Result
from assistant.retriever import Retriever
from eval.baseline import LangChainBaseline
from eval.retrieval import is_relevant
from eval.stages import STAGES, count_by_stage, holds, is_right, matches, miss_stage
from index.builder import build_index
from index.settings import Settings
from index.types import Passage

DEFAULT_SET = Path(__file__).with_name("questions.jsonl")
DEFAULT_OUT = Path(__file__).with_name("reports") / "latest"
EVAL_CORPUS = Path(__file__).with_name("corpus")
EVAL_CORPUS_QUESTIONS = Path(__file__).with_name("corpus_questions")
EVAL_INDEXES = Path(".cache") / "eval-index"
CALIBRATION_BINS = 10
TRACED_CANDIDATES = 5  # kept per miss in the JSON report
CONFIGS = {
    "langchain-baseline": {},
    "bm25": {"mode": "bm25", "rank_figures": False},
    "dense": {"mode": "dense", "rank_figures": False},
    "hybrid": {"mode": "hybrid", "rank_figures": False},
    "hybrid+figures": {"mode": "hybrid", "rank_figures": True},
}
METRICS = [
    "hit@1", "hit@5", "mrr@10", "ndcg@10", "figure_acc@1", "conflict_recall", "fact_acc",
    "abstention_acc", "false_abstention", "answered_right", "ece", "p50_ms", "p95_ms",
]  # fmt: skip
_SET_LEVEL = ("ece", "p50_ms", "p95_ms")  # computed over a set of rows, not averaged


def load_questions(path: Path, split: str) -> list[dict]:
    """A .jsonl file of questions, or a folder of them (read in name order)."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    rows = [
        json.loads(line)
        for file in files
        for line in file.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [r for r in rows if split == "all" or r.get("split") == split]


def sample(questions: list[dict], n: int | None, seed: int = 0) -> list[dict]:
    """n questions drawn with a fixed seed, in their original order; all of them when n is None."""
    if n is None or n >= len(questions):
        return questions
    keep = set(random.Random(seed).sample(range(len(questions)), n))
    return [q for i, q in enumerate(questions) if i in keep]


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
        row["figure_acc@1"] = float(first is not None and holds(first, gold["values"]))
    if question["kind"] == "conflict" and gold["values"]:
        shown = [f.value for f in answer.figures] if not answer.abstained else []
        row["conflict_recall"] = sum(matches(v, shown) for v in gold["values"]) / len(
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


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[“”\"'*]", "", text).lower().split())


def aggregate(rows: list[dict]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for metric in METRICS:
        if metric in _SET_LEVEL:
            continue
        values = [r[metric] for r in rows if r[metric] is not None]
        out[metric] = round(sum(values) / len(values), 4) if values else None
    latencies = sorted(r["latency_ms"] for r in rows)
    out["p50_ms"] = round(statistics.median(latencies), 1) if latencies else None
    out["p95_ms"] = round(_percentile(latencies, 95), 1) if latencies else None
    out["ece"] = expected_calibration_error(rows)
    out["n"] = len(rows)
    return out


def expected_calibration_error(rows: list[dict], bins: int = CALIBRATION_BINS) -> float | None:
    """Over the answers given: the gap between confidence and the share right in each of `bins`
    equal-width confidence bins, weighted by the bin's share of the answers."""
    answered = [r for r in rows if r["answered_right"] is not None]
    if not answered:
        return None
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in answered:
        grouped[min(bins - 1, int(row["confidence"] * bins))].append(row)
    gap = sum(
        len(group) * abs(
            statistics.fmean(r["confidence"] for r in group)
            - statistics.fmean(r["answered_right"] for r in group)
        )
        for group in grouped.values()
    )  # fmt: skip
    return round(gap / len(answered), 4)


def reliability_table(rows: list[dict], bins: int = CALIBRATION_BINS) -> list[dict]:
    """Per confidence bin, over the answers given: how many, their mean confidence and the
    share right (what `ece` sums up)."""
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["answered_right"] is not None:
            grouped[min(bins - 1, int(row["confidence"] * bins))].append(row)
    return [
        {
            "bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}",
            "answers": len(group),
            "confidence": round(statistics.fmean(r["confidence"] for r in group), 3),
            "right": round(statistics.fmean(r["answered_right"] for r in group), 3),
        }
        for b, group in sorted(grouped.items())
    ]


def _percentile(values: list[float], pct: float) -> float:
    index = max(0, math.ceil(pct / 100 * len(values)) - 1)
    return values[index]


def run_config(name: str, questions: list[dict], assistant: Assistant, baseline) -> list[dict]:
    rows = []
    for q in questions:
        if name == "langchain-baseline":
            result = baseline.ask(q["question"])
        else:
            result = assistant.ask(
                q["question"], history=q.get("history"), trace=True, **CONFIGS[name]
            )
        row = score(q, result)
        row.update(
            id=q["id"], kind=q["kind"], shape=q.get("shape"), split=q["split"],
            gold_in=gold_in(q), abstained=result.answer.abstained,
            confidence=result.answer.confidence, evidence=result.evidence,
            answer=result.answer.text[:300],
        )  # fmt: skip
        right = is_right(q, row)
        row["answered_right"] = None if result.answer.abstained else float(right)
        row["miss"] = miss_stage(q, result, right)
        if row["miss"] and result.trace is not None:
            row["trace"] = _trace_of(result)
        rows.append(row)
    return rows


def gold_in(q: dict) -> str | None:
    """'table' when the answer stands in a table row (its gold passage is a row, cells joined
    by '|'), 'text' otherwise; None for a question with no gold passage."""
    if not q.get("gold"):
        return None
    return "table" if any("|" in g.get("contains", "") for g in q["gold"]) else "text"


def _trace_of(result: Result) -> dict:
    """What answering saw, kept for a miss: the passages read and the best candidates."""
    trace = result.trace
    ranked = list(zip(trace.ranked, trace.chances, strict=True))[:TRACED_CANDIDATES]
    return {
        "wants_figure": bool(result.understood and result.understood.wants_figure),
        "read": [p.id for p in trace.passages],
        "candidates": [_traced(c, chance) for c, chance in ranked],
        "removed": [
            {**_traced(r.candidate, None), "reason": r.reason}
            for r in trace.removed[:TRACED_CANDIDATES]
        ],
        "decision": trace.decision.kind if trace.decision else None,
        "reason": trace.decision.reason if trace.decision else "",
    }


def _traced(candidate, chance: float | None) -> dict:
    f = candidate.figure
    return {"text": f.text, "value": f.value, "chance": chance, "passage": f.chunk_id}


def misses_by_stage(rows: list[dict]) -> dict:
    """Counts per stage, and every miss with its question id and stage."""
    misses = [{"id": r["id"], **r["miss"]} for r in rows if r["miss"]]
    return {"counts": count_by_stage(misses), "misses": misses}


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
        f"- corpus: `{report.get('corpus', 'docs_corpus')}`",
        f"- index: {report['index']}",
        f"- run at {report['run_at']}; abstain_below = {report['abstain_below']}",
        "",
        "## All questions",
        "",
        _table(report["results"], "overall"),
        "",
        "## Misses by stage",
        "",
        _stage_table(report["results"]),
    ]
    kinds = sorted({k for r in report["results"].values() for k in r["per_kind"]})
    for kind in kinds:
        lines += ["", f"## kind: {kind}", "", _table(report["results"], "per_kind", kind)]
    shapes = sorted({s for r in report["results"].values() for s in r["per_shape"]})
    for shape in shapes:
        lines += ["", f"## shape: {shape}", "", _table(report["results"], "per_shape", shape)]
    places = sorted({g for r in report["results"].values() for g in r.get("per_gold_in", {})})
    for place in places:
        lines += ["", f"## answer stands in: {place}", "",
                  _table(report["results"], "per_gold_in", place)]  # fmt: skip
    name, product = list(report["results"].items())[-1]
    lines += [
        "",
        f"## Reliability of {name} (answers given, by confidence)",
        "",
        "| confidence | answers | mean confidence | share right |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['bin']} | {r['answers']} | {r['confidence']:.3f} | {r['right']:.3f} |"
              for r in product.get("reliability", [])]  # fmt: skip
    lines += ["", f"## Every miss of {name}, by stage", ""]
    for stage in STAGES:
        misses = [m for m in product["misses_by_stage"]["misses"] if m["stage"] == stage]
        if misses:
            lines.append(f"- **{stage}** ({len(misses)}): " + ", ".join(map(_miss_label, misses)))
    return "\n".join(lines) + "\n"


def _miss_label(miss: dict) -> str:
    if "k" in miss:
        return f"{miss['id']} (k={miss['k']})"
    if miss.get("gave_near_miss"):
        return f"{miss['id']} (gave the near figure)"
    return miss["id"]


def _stage_table(results: dict) -> str:
    names = list(results)
    head = "| stage | " + " | ".join(names) + " |"
    rule = "|" + "---|" * (len(names) + 1)
    body = [
        f"| {stage} | "
        + " | ".join(str(results[n]["misses_by_stage"]["counts"][stage]) for n in names)
        + " |"
        for stage in STAGES
    ]
    near = " | ".join(
        str(sum(bool(m.get("gave_near_miss")) for m in results[n]["misses_by_stage"]["misses"]))
        for n in names
    )
    body.append(f"| (of which gave the near figure) | {near} |")
    body.append(
        "| all misses | "
        + " | ".join(str(len(results[n]["misses_by_stage"]["misses"])) for n in names)
        + " |"
    )
    return "\n".join([head, rule, *body])


def _table(results: dict, section: str, key: str | None = None) -> str:
    head = "| config | n | " + " | ".join(METRICS) + " |"
    rule = "|" + "---|" * (len(METRICS) + 2)
    body = []
    for name, result in results.items():
        row = result["overall"] if key is None else result[section].get(key)
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
    parser.add_argument(
        "--questions", type=Path, help="a .jsonl file or a folder of them (default: the set of "
        "the corpus: eval/questions.jsonl, or eval/corpus_questions/ for --corpus eval/corpus)",
    )  # fmt: skip
    parser.add_argument(
        "--corpus", type=Path, help="evaluate over this corpus folder (index built or reused)"
    )
    parser.add_argument("--sample", type=int, help="score N questions drawn with a fixed seed")
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
    questions_path = args.questions or _default_questions(args.corpus)
    if questions_path is None:
        parser.error("--corpus other than eval/corpus needs --questions")
    settings = _settings(args.corpus, args.data_dir)
    assistant = Assistant(Retriever.load(settings))
    if args.calibrate:
        dev = sample(load_questions(questions_path, "dev"), args.sample)
        rows = run_config("hybrid+figures", dev, assistant, None)
        cut, acc = calibrate(rows)
        now = settings.abstain_below
        print(f"abstain_below = {cut} (dev abstention accuracy {acc:.3f}; now {now})")
        return 0
    questions = sample(load_questions(questions_path, args.split), args.sample)
    names = args.config or list(CONFIGS)
    baseline = (
        LangChainBaseline(settings, assistant.retriever.embedder)
        if "langchain-baseline" in names
        else None
    )
    results = {}
    for name in names:
        rows = run_config(name, questions, assistant, baseline)
        results[name] = {
            "overall": aggregate(rows),
            "per_kind": _per(rows, "kind"),
            "per_shape": _per(rows, "shape"),
            "per_gold_in": _per(rows, "gold_in"),
            "misses_by_stage": misses_by_stage(rows),
            "reliability": reliability_table(rows),
        }
    # every question's row for the product (the last configuration): the others are summed up
    results[names[-1]]["questions"] = rows
    report = {
        "questions": _shown(questions_path),
        "corpus": _shown(settings.corpus_dir),
        "split": args.split,
        "n": len(questions),
        "index": _shown(assistant.retriever.reader.version),
        "abstain_below": settings.abstain_below,
        "run_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "results": results,
    }
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(
        json.dumps(report, separators=(",", ":")), encoding="utf-8"
    )
    args.out.with_suffix(".md").write_text(render_markdown(report), encoding="utf-8")
    print(f"report: {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')}")
    return 0


def _shown(path: Path) -> str:
    """Relative to the working folder where it is inside it: reports are committed."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _per(rows: list[dict], field: str) -> dict[str, dict]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get(field):
            grouped[row[field]].append(row)
    return {key: aggregate(group) for key, group in sorted(grouped.items())}


def _default_questions(corpus: Path | None) -> Path | None:
    if corpus is None:
        return DEFAULT_SET
    if corpus.resolve() == EVAL_CORPUS.resolve():
        return EVAL_CORPUS_QUESTIONS
    return None


def _settings(corpus: Path | None, data_dir: Path | None) -> Settings:
    """The settings of the index to ask: ./data by default; for --corpus, an index of that folder
    under .cache/eval-index/ (or --data-dir), built now unless it is up to date."""
    if corpus is None:
        return Settings.from_env(data_dir=data_dir)
    slug = "-".join(corpus.resolve().relative_to(corpus.resolve().anchor).parts[-2:])
    settings = Settings.from_env(corpus_dir=corpus, data_dir=data_dir or EVAL_INDEXES / slug)
    report = build_index(settings, progress=sys.stderr.isatty(), if_stale=True)
    print(f"index of {corpus}: {report.reason if report.skipped else 'built'}", file=sys.stderr)
    return settings


if __name__ == "__main__":
    sys.exit(main())
