"""Live updates at scale: a 5-page document added to a 100k- and a 1M-chunk index, and queries
while a compaction merges the segments.

For each size, a synthetic index (bench/synthetic.py's vectors and texts, 20 chunks a document)
is written as one segment by the product's own code (`Snapshot.write_segment`, a manifest,
`DataDir.publish`: what `reformqa index build` writes, figures and sentences left out), with one
corpus file per document so that the corpus hash an add computes sees a corpus of that size.
Then, with the real model:

1. add: `index.updater.add_document` of a 5-page report (about 2,500 words of the real
   corpus's paragraphs), wall time;
2. searchable: a server's reader follows the new version, reusing the segments it has open as
   the API does, and a sentence of the new document finds it first: add + open + search;
3. compaction: `reformqa index compact` in a child process at nice 10 (as the server starts
   it) while this process searches without pause (dense top 50 and BM25 top 50, what the
   retriever asks for): search p50/p99 before and during it, and the compaction's wall time.

Reports; never asserts. About 35 minutes with 1M on 2 cores (most of it writing the synthetic
index and compacting it).

    .venv/bin/python bench/update.py [--sizes 100000,1000000] [--json bench/results/update.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]
from latency import finish, machine, stats  # noqa: E402
from synthetic import TextSource, VectorSource  # noqa: E402

from assistant.retriever import Retriever, _top_keyword_rows  # noqa: E402
from index.builder import _chunker_record  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.loader import corpus_files, corpus_hash, load_corpus  # noqa: E402
from index.reader import IndexReader  # noqa: E402
from index.settings import Settings  # noqa: E402
from index.snapshot import Snapshot  # noqa: E402
from index.store import FORMAT_VERSION, DataDir, Manifest, read_manifest, write_manifest  # noqa: E402
from index.updater import add_document  # noqa: E402

ROOT = BENCH.parent
CHUNKS_PER_DOCUMENT = 20
QUERIES = 200
CANDIDATES = 50
MARKER = "The Quang Tri pilot recorded 4,321 dossiers processed online in March."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="chunks, comma-separated")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "update.json")
    parser.add_argument("--no-compaction", action="store_true", help="measure the add only")
    args = parser.parse_args(argv)
    report = {"machine": machine(), "sizes": []}
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="reformqa-update-") as tmp:
            print(f"--- {n:,} chunks", flush=True)
            report["sizes"].append(measure(n, Path(tmp), not args.no_compaction))
    return finish(report, args.json, print_report)


def measure(n: int, folder: Path, compaction: bool = True) -> dict:
    settings = Settings.from_env(environ={}, corpus_dir=folder / "corpus", data_dir=folder / "data")
    embedder = Embedder.from_settings(settings)
    started = time.perf_counter()
    write_synthetic_index(n, settings, embedder)
    row = {"chunks": n, "synthetic_build_s": round(time.perf_counter() - started, 1)}
    print(f"synthetic index written in {row['synthetic_build_s']} s", flush=True)
    served = IndexReader.open(settings.data_dir, embedder.name)
    queries = query_set(served, embedder)
    row["search_before"] = search_stats(served, queries)

    started = time.perf_counter()
    change = add_document(settings, embedder, five_pages().encode(), {}, "five-pages")
    row["add_s"] = round(time.perf_counter() - started, 3)
    row["add_stages"] = change.stages
    manifest = read_manifest(change.version)
    reader = IndexReader(change.version, manifest, reuse=served)
    found = Retriever(reader, embedder, settings).search(MARKER, k=1)
    row["searchable_s"] = round(time.perf_counter() - started, 3)
    row["found_first"] = bool(found) and found[0].doc_id == "five-pages"
    row["added_chunks"] = change.document.chunks
    started = time.perf_counter()
    IndexReader(change.version, manifest)
    row["open_without_reuse_s"] = round(time.perf_counter() - started, 3)
    print(f"add {row['add_s']} s, searchable {row['searchable_s']} s", flush=True)

    if compaction:
        row |= search_during_compaction(reader, queries, settings)
    return row


def write_synthetic_index(n: int, settings: Settings, embedder: Embedder) -> None:
    """n chunks in n/20 documents as one published segment, and the documents as corpus files."""
    texts = TextSource().texts(n, seed=4)
    documents, chunks = [], []
    settings.corpus_dir.mkdir(parents=True)
    for d in range(n // CHUNKS_PER_DOCUMENT):
        doc_id = f"synthetic-{d:07d}"
        parts, offset = [], 0
        for position in range(CHUNKS_PER_DOCUMENT):
            text = next(texts)
            chunks.append((f"{doc_id}#{position:04d}", doc_id, position, offset,
                           offset + len(text), text, 200, None))  # fmt: skip
            parts.append(text)
            offset += len(text) + 2
        body = "\n\n".join(parts)
        path = settings.corpus_dir / f"{doc_id}.md"
        path.write_text(body, encoding="utf-8")
        os.utime(path, (time.time() - 3600,) * 2)  # a corpus written before today's add
        documents.append((doc_id, f"Report {d}", "2024-01-01", "synthetic", None, "en",
                          f"{doc_id}.md", "0" * 64, body, None))  # fmt: skip
    vectors = VectorSource(n).points(n, seed=1)
    no_sentences = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    content = Snapshot(documents, chunks, vectors, [], [], no_sentences)
    data_dir = DataDir(settings.data_dir)
    with data_dir.build_lock(), data_dir.staging() as staging:
        segment = content.write_segment(staging, **settings.vector_config())
        files = corpus_files(settings.corpus_dir)
        manifest = Manifest(
            format_version=FORMAT_VERSION, model=embedder.name, dimension=embedder.dimension,
            max_tokens=embedder.max_tokens, chunker=_chunker_record(settings),
            corpus_hash=corpus_hash(files, settings.corpus_dir, settings.data_dir),
            corpus_dir=str(settings.corpus_dir), documents=len(documents), chunks=n,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), build_seconds=0.0,
            segments=[segment],
        )  # fmt: skip
        write_manifest(staging, manifest)
        data_dir.publish(staging)


def five_pages(words: int = 2_500) -> str:
    """Paragraphs of the real corpus, shuffled, until about five pages, with one marker line."""
    paragraphs = [p for d in load_corpus(ROOT / "docs_corpus") for p in d.text.split("\n\n")]
    random.Random(7).shuffle(paragraphs)
    chosen, count = [], 0
    for paragraph in paragraphs:
        if count >= words:
            break
        chosen.append(paragraph)
        count += len(paragraph.split())
    chosen.insert(len(chosen) // 2, MARKER)
    return "---\ntitle: Five-page report\ndate: 2025-03-01\n---\n" + "\n\n".join(chosen) + "\n"


def query_set(reader: IndexReader, embedder: Embedder) -> list[tuple[str, np.ndarray]]:
    questions = TextSource().questions(QUERIES, seed=5)
    return list(zip(questions, embedder.encode(questions), strict=True))


def search_once(reader: IndexReader, question: str, vector: np.ndarray) -> tuple[int, int]:
    """(dense ns, BM25 ns) for one query: what the retriever asks each side for."""
    started = time.perf_counter_ns()
    reader.dense_search(vector, CANDIDATES, None)
    middle = time.perf_counter_ns()
    _top_keyword_rows(reader.keywords.scores(question), CANDIDATES, None)
    return middle - started, time.perf_counter_ns() - middle


def search_stats(reader: IndexReader, queries) -> dict:
    for question, vector in queries[:10]:
        search_once(reader, question, vector)
    timings = [search_once(reader, q, v) for q, v in queries]
    return {"dense": stats([d for d, _ in timings]), "bm25": stats([b for _, b in timings])}


def search_during_compaction(reader: IndexReader, queries, settings: Settings) -> dict:
    command = ["nice", "-n", "10", sys.executable, "-m", "assistant.cli", "index", "compact"]
    env = {**os.environ, **settings.as_env()}
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT)
    timings = []
    while child.poll() is None:
        timings.extend(search_once(reader, q, v) for q, v in queries[:20])
    seconds = time.perf_counter() - started
    merged = read_manifest(DataDir(settings.data_dir).require_current())
    return {
        "compaction_s": round(seconds, 1),
        "compaction_rc": child.returncode,
        "segments_after": len(merged.segments),
        "search_during_compaction": {
            "queries": len(timings),
            "dense": stats([d for d, _ in timings]),
            "bm25": stats([b for _, b in timings]),
        },
    }


def print_report(report: dict) -> None:
    print("\n| chunks | add s | searchable s | found | dense p50/p99 ms before | during "
          "compaction | BM25 p50/p99 before | during | compaction s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for row in report["sizes"]:
        before = row["search_before"]
        during = row.get("search_during_compaction")  # absent with --no-compaction
        print(
            f"| {row['chunks']:,} | {row['add_s']} | {row['searchable_s']} | "
            f"{row['found_first']} | {_p50_p99(before['dense'])} | "
            f"{_p50_p99(during['dense']) if during else '-'} | {_p50_p99(before['bm25'])} | "
            f"{_p50_p99(during['bm25']) if during else '-'} | {row.get('compaction_s', '-')} |"
        )
    for row in report["sizes"]:
        print(f"add stages at {row['chunks']:,} chunks (s): {row.get('add_stages')}")


def _p50_p99(latency: dict) -> str:
    return f"{latency['p50']}/{latency['p99']}"


if __name__ == "__main__":
    raise SystemExit(main())
