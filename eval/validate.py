"""Check the evaluation corpus and its questions: every gold quote stands in its document (and
survives cleaning), every gold value stands in its quote, splits are disjoint by document; print
the counts the issue asks for.

    python -m eval.validate [--writer w1] [--json]     # exit 1 when anything is wrong
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from index.front_matter import split_front_matter
from index.loader import corpus_files, load_document

EVAL = Path(__file__).resolve().parent
CORPUS = EVAL / "corpus"
QUESTIONS = EVAL / "corpus_questions"
KINDS = {"figure", "fact", "paraphrase", "temporal", "followup", "conflict", "keyword", "typo",
         "unanswerable", "table"}  # fmt: skip
SHAPES = {"count", "percent", "money", "ratio", "range", "change", "index", "score", "rank",
          "average", "target", "multi"}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?")
_SCALES = {
    "thousand": 1e3, "k": 1e3, "lakh": 1e5, "million": 1e6, "m": 1e6, "mn": 1e6, "crore": 1e7,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}  # fmt: skip


@dataclass
class Corpus:
    raw: dict[str, str] = field(default_factory=dict)  # doc id -> body as written
    cleaned: dict[str, str] = field(default_factory=dict)
    meta: dict[str, dict] = field(default_factory=dict)


def read_corpus(folder: Path = CORPUS) -> tuple[Corpus, list[str]]:
    corpus, errors = Corpus(), []
    for path in corpus_files(folder):
        text = path.read_text(encoding="utf-8")
        meta, body = split_front_matter(text, path.name)
        doc = load_document(path)
        if doc.id in corpus.raw:
            errors.append(f"{path.name}: document id {doc.id} is used twice")
        if doc.date is None or not doc.title:
            errors.append(f"{path.name}: front matter needs a title and a date")
        corpus.raw[doc.id], corpus.cleaned[doc.id], corpus.meta[doc.id] = body, doc.text, meta
    return corpus, errors


def read_questions(folder: Path = QUESTIONS) -> tuple[list[dict], list[str]]:
    questions, errors = [], []
    for path in sorted(folder.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                questions.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"{path.name}:{n}: not JSON ({exc.msg})")
    return questions, errors


def numbers_in(text: str) -> set[float]:
    """Every number written with digits, as written and times a scale word after it."""
    found: set[float] = set()
    for match in _NUMBER.finditer(text):
        value = float(match.group(1).replace(",", "") + (match.group(2) or ""))
        found.add(value)
        after = re.match(r"\s?([A-Za-z]+)", text[match.end() :])
        if after and after.group(1).lower() in _SCALES:
            found.add(value * _SCALES[after.group(1).lower()])
    return found


def holds_value(text: str, value: float) -> bool:
    return any(abs(n - value) <= 1e-9 * max(1.0, abs(value)) for n in numbers_in(text))


def check_quote(corpus: Corpus, doc_id: str, quote: str, where: str) -> list[str]:
    if doc_id not in corpus.raw:
        return [f"{where}: unknown document {doc_id}"]
    if not isinstance(quote, str) or len(quote.split()) < 2:
        return [f"{where}: quote {quote!r} is too short"]
    if not any(quote.strip() in line for line in corpus.raw[doc_id].splitlines()):
        return [f"{where}: quote not in one line of {doc_id}: {quote[:70]!r}"]
    if quote.strip(" |") not in corpus.cleaned[doc_id]:
        return [f"{where}: quote lost in cleaning of {doc_id}: {quote[:70]!r}"]
    return []


def check_question(q: dict, corpus: Corpus) -> list[str]:
    where = q.get("id", "?")
    missing = {"id", "question", "kind", "split", "answerable", "history", "answer", "gold"} - set(
        q
    )
    if missing:
        return [f"{where}: missing {sorted(missing)}"]
    errors = []
    if q["kind"] not in KINDS:
        errors.append(f"{where}: kind {q['kind']!r}")
    if q.get("shape") not in SHAPES | {None}:
        errors.append(f"{where}: shape {q.get('shape')!r}")
    if q["split"] not in ("dev", "test"):
        errors.append(f"{where}: split {q['split']!r}")
    if q["answerable"] == (q["kind"] == "unanswerable"):
        errors.append(f"{where}: answerable must be false exactly for kind unanswerable")
    if q["kind"] == "followup" and not q["history"]:
        errors.append(f"{where}: a followup needs its history")
    quotes = [g.get("contains", "") for g in q["gold"]]
    for g in q["gold"]:
        errors += check_quote(corpus, g.get("doc_id", ""), g.get("contains", ""), where)
    for value in q["answer"].get("values", []):
        if not any(holds_value(quote, value) for quote in quotes):
            errors.append(f"{where}: value {value} is in none of its quotes")
    if q["answerable"] and not q["gold"]:
        errors.append(f"{where}: an answerable question needs a gold quote")
    near = q.get("near_miss")
    if near:
        errors += check_quote(corpus, near.get("doc_id", ""), near.get("contains", ""), where)
        if not holds_value(near.get("contains", ""), near.get("value", float("nan"))):
            errors.append(f"{where}: near_miss value {near.get('value')} not in its quote")
    return errors


def check_splits(questions: list[dict]) -> list[str]:
    splits: dict[str, set[str]] = defaultdict(set)
    for q in questions:
        docs = [g.get("doc_id") for g in q["gold"]] + [(q.get("near_miss") or {}).get("doc_id")]
        for doc_id in filter(None, docs):
            splits[doc_id].add(q["split"])
    return [f"{d}: questions in both splits" for d, s in sorted(splits.items()) if len(s) > 1]


def counts(corpus: Corpus, questions: list[dict]) -> dict:
    words = {d: len(text.split()) for d, text in corpus.raw.items()}
    tables = [d for d, text in corpus.raw.items() if re.search(r"^\s*\|[-:| ]+\|\s*$", text, re.M)]
    vietnam = [d for d, m in corpus.meta.items() if str(m.get("country", "")).lower() == "vietnam"]
    unanswerable = [q for q in questions if not q.get("answerable", True)]
    return {
        "documents": len(corpus.raw),
        "share_not_vietnam": round(1 - len(vietnam) / max(1, len(corpus.raw)), 3),
        "documents_over_5000_words": sum(n > 5000 for n in words.values()),
        "documents_with_tables": len(tables),
        "document_kinds": dict(Counter(str(m.get("kind")) for m in corpus.meta.values())),
        "questions": len(questions),
        "share_asking_a_figure": round(
            sum(bool(q.get("answer", {}).get("values")) for q in questions)
            / max(1, len(questions)),
            3,
        ),
        "share_unanswerable": round(len(unanswerable) / max(1, len(questions)), 3),
        "unanswerable_with_near_miss": sum(bool(q.get("near_miss")) for q in unanswerable),
        "kinds": dict(Counter(q.get("kind") for q in questions)),
        "shapes": dict(Counter(q.get("shape") for q in questions if q.get("shape"))),
        "splits": dict(Counter(q.get("split") for q in questions)),
    }


def validate(corpus_dir: Path = CORPUS, questions_dir: Path = QUESTIONS, writer: str = "") -> dict:
    corpus, errors = read_corpus(corpus_dir)
    questions, more = read_questions(questions_dir)
    errors += more
    if writer:
        questions = [q for q in questions if str(q.get("id", "")).startswith(f"{writer}-")]
        corpus.raw = {d: t for d, t in corpus.raw.items() if d.startswith(f"{writer}_")}
        corpus.meta = {d: m for d, m in corpus.meta.items() if d in corpus.raw}
    ids = Counter(q.get("id") for q in questions)
    errors += [f"{i}: question id used {n} times" for i, n in ids.items() if n > 1]
    for q in questions:
        errors += check_question(q, corpus)
    errors += check_splits([q for q in questions if "gold" in q and "split" in q])
    return {"errors": errors, "counts": counts(corpus, questions)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writer", default="", help="only this writer's documents and questions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = validate(writer=args.writer)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print("\n".join(report["errors"]) or "no errors")
        print(json.dumps(report["counts"], indent=2))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
