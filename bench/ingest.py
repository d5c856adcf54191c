"""Ingest throughput: the whole pipeline against the bare encoder on the same texts.

The corpus is D documents made from the real corpus's paragraphs, shuffled (seeded), each with
its front matter, so cleaning, splitting and figure extraction see real text. One run:

1. `build_index` end to end into a temp data dir (load, clean, split, extract figures, embed
   chunks and sentences, write SQLite + BM25 + FAISS, publish), with its time per stage;
2. the bare encoder: the same `Embedder.encode` (the configured backend, onnx by default) on
   exactly the texts the pipeline embedded (the chunks, then the chunks and the sentences), the
   model already loaded. (`bench/embed.py` compares that encoder with naive
   `SentenceTransformer.encode`.)

Prints chunks/s for each and the pipeline's overhead over the encoder alone (model loading left
out of both). Writes JSON. Reports; never asserts.

    .venv/bin/python bench/ingest.py [--documents 100] [--json bench/results/ingest.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]
from latency import finish, machine, peak_rss_mib  # noqa: E402

from index.builder import build_index  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.loader import load_corpus  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import DATABASE, DataDir, read_manifest  # noqa: E402

ROOT = BENCH.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100, help="documents to make (100)")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "ingest.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reformqa-ingest-") as tmp:
        corpus = make_corpus(Path(tmp) / "corpus", args.documents)
        settings = Settings.from_env(environ={}, corpus_dir=corpus, data_dir=Path(tmp) / "data")
        embedder = Embedder.from_settings(settings)
        report = measure(settings, embedder)
    report |= {"machine": machine(), "documents": args.documents}
    return finish(report, args.json, print_report)


def make_corpus(folder: Path, documents: int) -> Path:
    """Documents of 8-20 paragraphs drawn from the real corpus, front matter included."""
    real = load_corpus(ROOT / "docs_corpus")
    paragraphs = [p for d in real for p in re.split(r"\n\s*\n", d.text) if len(p) > 80]
    rng = random.Random(0)
    folder.mkdir(parents=True)
    for i in range(documents):
        body = "\n\n".join(rng.sample(paragraphs, rng.randint(8, min(20, len(paragraphs)))))
        date = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
        front = f"---\ntitle: Synthetic report {i}\ndate: {date}\nsource: bench\n---\n\n"
        (folder / f"doc-{i:05d}.md").write_text(front + body + "\n", encoding="utf-8")
    return folder


def measure(settings: Settings, embedder: Embedder) -> dict:
    build = build_index(settings, embedder=embedder)  # loads the model: a stage of its own
    chunks, sentences = embedded_texts(settings)
    encode_chunks = timed(lambda: embedder.encode(chunks))
    encode_all = timed(lambda: embedder.encode(chunks + sentences))
    pipeline = build.seconds - build.stages.get("model", 0.0)
    return {
        "chunks": len(chunks),
        "sentences": len(sentences),
        "stages_s": build.stages,
        "pipeline_s": round(pipeline, 2),
        "pipeline_chunks_per_s": round(len(chunks) / pipeline, 1),
        "encoder_chunks_s": round(encode_chunks, 2),
        "encoder_chunks_per_s": round(len(chunks) / encode_chunks, 1),
        "encoder_chunks_and_sentences_s": round(encode_all, 2),
        "overhead_vs_encoder_on_chunks": round(pipeline / encode_chunks - 1, 3),
        "overhead_vs_encoder_on_same_texts": round(pipeline / encode_all - 1, 3),
        "peak_rss_mib": peak_rss_mib_self(),
    }


def embedded_texts(settings: Settings) -> tuple[list[str], list[str]]:
    version = DataDir(settings.data_dir).require_current()
    segment = read_manifest(version).segments[0].name  # a build writes one segment
    conn = sqlite3.connect(f"file:{version / segment / DATABASE}?mode=ro", uri=True)
    try:
        chunks = [t for (t,) in conn.execute("SELECT text FROM chunks ORDER BY rowid")]
        sentences = [t for (t,) in conn.execute("SELECT text FROM sentences ORDER BY rowid")]
    finally:
        conn.close()
    return chunks, sentences


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peak_rss_mib_self() -> float | None:
    import os

    return peak_rss_mib(os.getpid())


def print_report(r: dict) -> None:
    print(f"Reform QA ingest  ({r['timestamp']}; {r['machine']['cpu_count']} CPUs)")
    print(f"corpus: {r['documents']} documents -> {r['chunks']} chunks, {r['sentences']} sentences")
    print("\npipeline stages (s):")
    for name, seconds in r["stages_s"].items():
        print(f"  {name:<18}{seconds:>8.2f}")
    print(f"\n{'':<38}{'seconds':>9}{'chunks/s':>10}")
    print(f"{'pipeline, end to end (model load out)':<38}{r['pipeline_s']:>9}"
          f"{r['pipeline_chunks_per_s']:>10}")  # fmt: skip
    print(f"{'bare encoder, chunks only':<38}{r['encoder_chunks_s']:>9}"
          f"{r['encoder_chunks_per_s']:>10}")  # fmt: skip
    print(f"{'bare encoder, chunks + sentences':<38}{r['encoder_chunks_and_sentences_s']:>9}")
    print(f"\noverhead over the encoder on the same texts: "
          f"{100 * r['overhead_vs_encoder_on_same_texts']:.1f}% (target <= 10%)")  # fmt: skip
    print(f"overhead over the encoder on the chunks alone: "
          f"{100 * r['overhead_vs_encoder_on_chunks']:.1f}%")  # fmt: skip
    print(f"peak RSS: {r['peak_rss_mib']} MiB")


if __name__ == "__main__":
    sys.exit(main())
