"""Precision and recall of the figure extractor on the hand-labelled gold sentences.

    python -m eval.figures [--gold F] [--origin written|corpus|all] [--errors] [--json]

A predicted figure matches a gold one of the same sentence with the same value (each used once).
Precision and recall are given for the value alone, value + unit, value + qualifier, and the
whole record (value, unit, qualifier, of_total, value_max, change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path

from index.figures import extract_from_sentence
from index.types import Figure

DEFAULT_GOLD = Path(__file__).resolve().parents[1] / "tests" / "data" / "figures_gold.jsonl"
FIELDS = {
    "value": (),
    "value+unit": ("unit",),
    "value+qualifier": ("qualifier",),
    "full": ("unit", "qualifier", "of_total", "value_max", "change"),
}


def load_gold(path: Path, origin: str = "all") -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if origin == "all" or r["origin"] == origin]


def _same(field: str, predicted: Figure, gold: dict) -> bool:
    a, b = getattr(predicted, field), gold.get(field)
    if isinstance(b, (int, float)) and a is not None:
        return math.isclose(a, b, rel_tol=1e-6)
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    return a == b


def match(predicted: list[Figure], gold: list[dict]) -> list[tuple[Figure, dict]]:
    pairs, free = [], list(gold)
    for fig in predicted:
        for g in free:
            if math.isclose(fig.value, g["value"], rel_tol=1e-6, abs_tol=1e-9):
                pairs.append((fig, g))
                free.remove(g)
                break
    return pairs


def evaluate(rows: list[dict]) -> tuple[dict, list[dict]]:
    counts = {name: 0 for name in FIELDS}
    n_predicted = n_gold = 0
    errors = []
    for row in rows:
        date = dt.date.fromisoformat(row["doc_date"]) if row.get("doc_date") else None
        predicted = extract_from_sentence(row["sentence"], date)
        pairs = match(predicted, row["figures"])
        n_predicted += len(predicted)
        n_gold += len(row["figures"])
        for name, fields in FIELDS.items():
            counts[name] += sum(all(_same(f, p, g) for f in fields) for p, g in pairs)
        wrong = [p for p, g in pairs if not all(_same(f, p, g) for f in FIELDS["full"])]
        if len(pairs) != len(predicted) or len(pairs) != len(row["figures"]) or wrong:
            errors.append({"id": row["id"], "sentence": row["sentence"],
                           "predicted": [_short(p) for p in predicted],
                           "gold": [_short_gold(g) for g in row["figures"]]})  # fmt: skip
    metrics = {"sentences": len(rows), "gold": n_gold, "predicted": n_predicted}
    for name in FIELDS:
        precision = counts[name] / n_predicted if n_predicted else 0.0
        recall = counts[name] / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        metrics[name] = {"precision": round(precision, 4), "recall": round(recall, 4),
                         "f1": round(f1, 4)}  # fmt: skip
    return metrics, errors


def _short(f: Figure) -> str:
    return (
        f"{f.text!r}={f.value:g} {f.qualifier} {f.unit} tot={f.of_total} max={f.value_max} "
        f"{f.change}"
    )


def _short_gold(g: dict) -> str:
    return (
        f"{g['text']!r}={g['value']:g} {g['qualifier']} {g['unit']} tot={g.get('of_total')} "
        f"max={g.get('value_max')} {g.get('change')}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--origin", choices=["written", "corpus", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="print the sentences it gets wrong")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    metrics, errors = evaluate(load_gold(args.gold, args.origin))
    if args.errors:
        for e in errors:
            print(f"{e['id']}: {e['sentence']}\n  got:  {e['predicted']}\n  gold: {e['gold']}")
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    print(f"{metrics['sentences']} sentences, {metrics['gold']} gold figures, "
          f"{metrics['predicted']} extracted")  # fmt: skip
    for name in FIELDS:
        m = metrics[name]
        print(f"{name:<16} precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
              f"f1 {m['f1']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
