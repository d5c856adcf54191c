"""Ingest throughput: the whole pipeline with each kind of sentence vectors, against the bare
encoder on the same texts.

The corpus is D documents made from the real corpus's paragraphs, shuffled (seeded), each with
its front matter, so cleaning, splitting and figure extraction see real text. One run:

1. `build_index` end to end into a temp data dir per `sentence_vectors` mode (load, clean,
   split, extract figures, embed chunks and sentences, write SQLite + BM25 + FAISS, publish),
   with its time per stage: "encoded" (each sentence encoded again, alone) and "pooled" (its
   vector pooled from its chunk's pass), in the order encoded, pooled, pooled, encoded, ...
   (`--rounds` pairs), the model loaded before the first; each mode's mean is reported;
2. the bare encoder: the same `Embedder.encode` (the configured backend, onnx by default) on
   exactly the texts the pipeline embedded (the chunks, then the chunks and the sentences), the
   model already loaded. (`bench/embed.py` compares that encoder with naive
   `SentenceTransformer.encode`.)

Prints chunks/s for each mode, pooled's speed-up over encoded, how many sentences pooled mode
pooled (the rest it encoded) and how close their vectors are to encoded ones, and the
pipeline's overhead over the encoder alone. Writes JSON. Reports; never asserts.

    .venv/bin/python bench/ingest.py [--documents 100] [--rounds 1] [--json ...]
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

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]
from latency import finish, machine, peak_rss_mib  # noqa: E402

from index.builder import BuildReport, build_index  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.loader import load_corpus  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.store import DATABASE, SENTENCE_VECTORS, DataDir, read_manifest  # noqa: E402

ROOT = BENCH.parent
MODES = ("encoded", "pooled")  # index.settings.SENTENCE_VECTORS, in the order printed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100, help="documents to make (100)")
    parser.add_argument("--rounds", type=int, default=1, help="builds per mode, x2 (1)")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "ingest.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reformqa-ingest-") as tmp:
        corpus = make_corpus(Path(tmp) / "corpus", args.documents)
        settings = {
            mode: Settings.from_env(environ={}, corpus_dir=corpus,
                                    data_dir=Path(tmp) / f"data-{mode}", sentence_vectors=mode)
            for mode in MODES
        }  # fmt: skip
        embedder = Embedder.from_settings(settings["encoded"])
        report = measure(settings, embedder, args.rounds)
    report |= {"machine": machine(), "documents": args.documents, "rounds": args.rounds}
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


def measure(settings: dict[str, Settings], embedder: Embedder, rounds: int) -> dict:
    embedder.warm_up()  # the model loads before any build, so no build pays for it
    builds: dict[str, list[BuildReport]] = {mode: [] for mode in settings}
    for mode in ["encoded", "pooled", "pooled", "encoded"] * rounds:
        builds[mode].append(build_index(settings[mode], embedder=embedder))
    chunks, sentences, _ = embedded_texts(settings["encoded"])
    encode_chunks = timed(lambda: embedder.encode(chunks))
    encode_all = timed(lambda: embedder.encode(chunks + sentences))
    modes = {mode: mean_build(reports, len(chunks)) for mode, reports in builds.items()}
    encoded, pooled = modes["encoded"], modes["pooled"]
    return {
        "chunks": len(chunks),
        "sentences": len(sentences),
        "modes": modes,
        "pooled_speedup": round(encoded["pipeline_s"] / pooled["pipeline_s"], 2),
        "pooled_sentences": pooled_sentences(settings),
        "encoder_chunks_s": round(encode_chunks, 2),
        "encoder_chunks_per_s": round(len(chunks) / encode_chunks, 1),
        "encoder_chunks_and_sentences_s": round(encode_all, 2),
        "overhead_vs_encoder_on_chunks": round(encoded["pipeline_s"] / encode_chunks - 1, 3),
        "overhead_vs_encoder_on_same_texts": round(encoded["pipeline_s"] / encode_all - 1, 3),
        "pooled_over_encoder_on_chunks": round(pooled["pipeline_s"] / encode_chunks - 1, 3),
        "peak_rss_mib": peak_rss_mib_self(),
    }


def mean_build(reports: list[BuildReport], chunks: int) -> dict:
    """Seconds per stage and end to end (the model stage left out), averaged over the builds."""
    stages = {
        name: round(sum(r.stages.get(name, 0.0) for r in reports) / len(reports), 2)
        for name in reports[0].stages
    }
    seconds = sum(r.seconds - r.stages.get("model", 0.0) for r in reports) / len(reports)
    return {
        "stages_s": stages,
        "pipeline_s": round(seconds, 2),
        "pipeline_chunks_per_s": round(chunks / seconds, 1),
        "builds_s": [round(r.seconds - r.stages.get("model", 0.0), 2) for r in reports],
    }


def pooled_sentences(settings: dict[str, Settings]) -> dict:
    """How many sentences pooled mode pooled (a vector unlike encoded mode's; the others it
    encoded alone, the same), and their vectors' cosine with the encoded ones."""
    *_, encoded = embedded_texts(settings["encoded"])
    *_, pooled = embedded_texts(settings["pooled"])
    cosines = np.sum(encoded * pooled, axis=1)
    differ = cosines < 0.99999
    return {
        "pooled": int(differ.sum()),
        "encoded_alone": int((~differ).sum()),
        "mean_cosine_to_encoded": round(float(cosines[differ].mean()), 3) if differ.any() else None,
    }


def embedded_texts(settings: Settings) -> tuple[list[str], list[str], np.ndarray]:
    """The chunks' and sentences' texts of the built index, and the sentences' vectors."""
    version = DataDir(settings.data_dir).require_current()
    segment = read_manifest(version).segments[0].name  # a build writes one segment
    conn = sqlite3.connect(f"file:{version / segment / DATABASE}?mode=ro", uri=True)
    try:
        chunks = [t for (t,) in conn.execute("SELECT text FROM chunks ORDER BY rowid")]
        sentences = [t for (t,) in conn.execute("SELECT text FROM sentences ORDER BY rowid")]
    finally:
        conn.close()
    return chunks, sentences, np.load(version / segment / SENTENCE_VECTORS)


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
    encoded, pooled = r["modes"]["encoded"], r["modes"]["pooled"]
    print(f"\npipeline stages (s), mean of {2 * r['rounds']} builds per mode:")
    print(f"  {'':<18}{'encoded':>9}{'pooled':>9}")
    for name in encoded["stages_s"]:
        print(f"  {name:<18}{encoded['stages_s'][name]:>9.2f}{pooled['stages_s'][name]:>9.2f}")
    print(f"\n{'':<44}{'seconds':>9}{'chunks/s':>10}")
    for mode, build in r["modes"].items():
        label = f"pipeline, {mode} sentences (model load out)"
        print(f"{label:<44}{build['pipeline_s']:>9}{build['pipeline_chunks_per_s']:>10}")
    print(f"{'bare encoder, chunks only':<44}{r['encoder_chunks_s']:>9}"
          f"{r['encoder_chunks_per_s']:>10}")  # fmt: skip
    print(f"{'bare encoder, chunks + sentences':<44}{r['encoder_chunks_and_sentences_s']:>9}")
    s = r["pooled_sentences"]
    print(f"\npooled over encoded: {r['pooled_speedup']}x the chunks/s end to end")
    print(f"pooled mode: {s['pooled']} sentences pooled, {s['encoded_alone']} encoded alone; "
          f"mean cosine of pooled to encoded vectors {s['mean_cosine_to_encoded']}")  # fmt: skip
    print(f"\nencoded: overhead over the encoder on the same texts "
          f"{100 * r['overhead_vs_encoder_on_same_texts']:.1f}% (target <= 10%), on the chunks "
          f"alone {100 * r['overhead_vs_encoder_on_chunks']:.1f}%")  # fmt: skip
    print(f"pooled: over the encoder on the chunks alone "
          f"{100 * r['pooled_over_encoder_on_chunks']:.1f}%")  # fmt: skip
    print(f"peak RSS: {r['peak_rss_mib']} MiB")


if __name__ == "__main__":
    sys.exit(main())
