"""Retrieval metrics on eval/retrieval.jsonl, one row per retrieval configuration.

    python -m eval.retrieval [--split dev|test|all] [--json OUT]

A passage is relevant when it comes from a gold document and contains the gold text.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from assistant.retriever import Retriever
from index.settings import Settings
from index.types import Passage

DEFAULT_SET = Path(__file__).with_name("retrieval.jsonl")
CONFIGS = {
    "bm25": {"mode": "bm25"},
    "dense": {"mode": "dense"},
    "hybrid-rrf": {"fusion": "rrf"},
    **{f"hybrid-weighted-{w:.1f}": {"fusion": "weighted", "dense_weight": w}
       for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)},
}  # fmt: skip


def load_queries(path: Path, split: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split == "all" or r.get("split") == split]


def is_relevant(passage: Passage, gold: dict) -> bool:
    """From the gold document and holding the gold text, markup aside: cleaning writes a table
    row `| Jeju | 39,600 |` as `Jeju | 39,600` and collapses spaces."""
    return passage.doc_id == gold["doc_id"] and _plain(gold["contains"]) in _plain(passage.text)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[|*_`#]+", " ", text).split())


def score_query(passages: list[Passage], golds: list[dict]) -> dict[str, float]:
    ranks = [i for i, p in enumerate(passages) if any(is_relevant(p, g) for g in golds)]
    first = ranks[0] if ranks else None
    found_top5 = sum(any(is_relevant(p, g) for p in passages[:5]) for g in golds)
    return {
        "hit@1": float(first is not None and first < 1),
        "hit@3": float(first is not None and first < 3),
        "hit@5": float(first is not None and first < 5),
        "mrr@10": 1.0 / (first + 1) if first is not None and first < 10 else 0.0,
        "all_gold@5": float(found_top5 == len(golds)),
    }


def evaluate(retriever: Retriever, queries: list[dict], config: dict) -> dict[str, float]:
    per_query = [
        score_query(retriever.search(q["query"], 10, **config), q["gold"]) for q in queries
    ]
    return {m: sum(r[m] for r in per_query) / len(per_query) for m in per_query[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_SET)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args(argv)
    queries = load_queries(args.questions, args.split)
    retriever = Retriever.load(Settings.from_env())
    results = {name: evaluate(retriever, queries, cfg) for name, cfg in CONFIGS.items()}
    metrics = list(next(iter(results.values())))
    print(f"{len(queries)} queries ({args.split})")
    print(f"{'config':<24}" + "".join(f"{m:>12}" for m in metrics))
    for name, row in results.items():
        print(f"{name:<24}" + "".join(f"{row[m]:>12.3f}" for m in metrics))
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
