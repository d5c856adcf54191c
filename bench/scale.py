"""How cost grows with the corpus: synthetic corpora of 10k, 100k and 1M chunks.

Vectors and texts are synthetic (bench/synthetic.py says how they are made and calibrated):
embedding a million chunks with the real model takes hours on this machine. For each size:

- exact (`Flat`) and the index the product builds above `exact_max_chunks` (`IVF<nlist>,SQ8`,
  nprobe tuned at build time to the product's recall target), both through
  `index.vectors.write_vectors`, the code `reformqa index build` runs: build time, peak RSS,
  size on disk, then, in a fresh process that opens the index the way the server does,
  single-query search p50/p99 and recall@10 against exact search on held-out queries;
- optionally HNSW32 (`--hnsw-max`), for comparison;
- BM25 over synthetic texts through `index.keyword.KeywordIndex`: build time, peak RSS, size,
  and query p50/p99 for the scores plus the top-50 candidates (what the retriever asks);
- both sides opened together in one process (what a server holds): peak RSS.

Every measure runs in its own child process so peak RSS is that step's own. Reports; never
asserts. Takes about 15 minutes with 1M on 2 cores.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--json bench/results/scale.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]
from latency import finish, machine  # noqa: E402
from synthetic import TextSource, VectorSource  # noqa: E402

from index.settings import Settings  # noqa: E402

QUERIES = 200
CANDIDATES = 50
RECALL_TARGET = Settings().ann_recall  # what the product tunes to; the issue asks >= 0.95


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    work = Path(tempfile.mkdtemp(prefix="reformqa-scale-", dir=args.work_dir))
    keep = args.work_dir is not None  # to re-run a step: bench/scale.py --step search N DIR ivf
    report = {"machine": machine(), "queries": QUERIES, "recall_target": RECALL_TARGET}
    report["sizes"] = []
    try:
        for n in args.sizes:
            print(f"--- {n:,} chunks", flush=True)
            report["sizes"].append(measure_size(n, work / str(n), args.hnsw_max))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return finish(report, args.json, print_table)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated")
    parser.add_argument("--hnsw-max", type=int, default=100_000, help="HNSW up to this size")
    parser.add_argument(
        "--work-dir", type=Path, help="keep the corpora and indexes here (default: a temp dir)"
    )
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "scale.json")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    return args


def measure_size(n: int, folder: Path, hnsw_max: int) -> dict:
    folder.mkdir(parents=True)
    child(n, folder, "generate")
    row: dict = {"chunks": n, "dense": {}}
    kinds = ["flat", "ivf"] + (["hnsw"] if n <= hnsw_max else [])
    for kind in kinds:
        built = child(n, folder, "build", kind)
        searched = child(n, folder, "search", kind)
        row["dense"][kind] = built | searched
        print(f"  {kind}: {row['dense'][kind]}", flush=True)
    row["bm25"] = child(n, folder, "bm25-build") | child(n, folder, "bm25-search")
    print(f"  bm25: {row['bm25']}", flush=True)
    row["served_peak_rss_mib"] = child(n, folder, "serve")["peak_rss_mib"]
    return row


def child(n: int, folder: Path, step: str, kind: str = "") -> dict:
    """Run one step in a fresh interpreter; its JSON line is the result."""
    command = [sys.executable, __file__, "--step", step, str(n), str(folder), kind]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"step {step} {kind} at {n} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- steps, each in its own process -----------------------------------------------------------


def run_step(step: str, n: int, folder: Path, kind: str) -> dict:
    steps = {
        "generate": lambda: generate(n, folder),
        "build": lambda: build_dense(folder, kind),
        "search": lambda: search_dense(folder, kind),
        "bm25-build": lambda: build_bm25(n, folder),
        "bm25-search": lambda: search_bm25(folder),
        "serve": lambda: open_both(folder),
    }
    result = steps[step]()
    return result | {"peak_rss_mib": peak_rss_mib()}


def generate(n: int, folder: Path) -> dict:
    import faiss

    source = VectorSource(n)
    vectors = source.write(folder / "vectors.npy", n, seed=1)
    queries = source.queries(QUERIES, seed=2)
    np.save(folder / "queries.npy", queries)
    np.save(folder / "tuning.npy", source.queries(QUERIES, seed=3))  # tuning != evaluation
    _, truth = faiss.knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    np.save(folder / "truth.npy", truth)
    return {}


def build_dense(folder: Path, kind: str) -> dict:
    from index.vectors import write_vectors

    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    out = folder / kind
    out.mkdir()
    started = time.perf_counter()
    if kind == "hnsw":
        layout = _write_hnsw(out, vectors)
    else:
        limit = len(vectors) if kind == "flat" else 0
        tuning = np.load(folder / "tuning.npy")
        layout = write_vectors(out, vectors, limit, RECALL_TARGET, tuning)
    seconds = time.perf_counter() - started
    (out / "layout.json").write_text(json.dumps(layout.__dict__))
    return {
        "index": layout.factory,
        "nprobe": layout.nprobe,
        "build_s": round(seconds, 1),
        "faiss_file_mib": round((out / "vectors.faiss").stat().st_size / 2**20, 1),
        "exact_vectors_mib": round((out / "vectors.npy").stat().st_size / 2**20, 1),
        "build_peak_rss_mib": peak_rss_mib(),
    }


def _write_hnsw(out: Path, vectors: np.ndarray):
    import faiss

    from index.vectors import VectorLayout

    index = faiss.index_factory(vectors.shape[1], "HNSW32", faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    index.add(np.ascontiguousarray(vectors))
    faiss.write_index(index, str(out / "vectors.faiss"))
    np.save(out / "vectors.npy", vectors)
    return VectorLayout("HNSW32")


def search_dense(folder: Path, kind: str) -> dict:
    import faiss

    from index.vectors import VectorIndex, VectorLayout, recall_at

    faiss.omp_set_num_threads(1)  # as the server does: one query at a time
    queries, truth = np.load(folder / "queries.npy"), np.load(folder / "truth.npy")
    layout = VectorLayout(**json.loads((folder / kind / "layout.json").read_text()))
    if kind == "hnsw":
        return _search_hnsw(folder / kind, queries, truth)
    if kind == "flat":
        layout = VectorLayout("Flat")
    index = VectorIndex.load(folder / kind, layout)
    for query in np.load(folder / "tuning.npy"):  # untimed: a server past its first queries
        index.search(query, 10)  # has the mapped pages it reads often faulted in already
    found, samples = [], []
    for query in queries:
        started = time.perf_counter_ns()
        rows, _ = index.search(query, 10)
        samples.append(time.perf_counter_ns() - started)
        found.append(np.pad(rows, (0, 10 - len(rows)), constant_values=-1))
    return {"recall_at_10": round(recall_at(np.array(found), truth), 4)} | stats(samples)


def _search_hnsw(folder: Path, queries: np.ndarray, truth: np.ndarray) -> dict:
    import faiss

    from index.vectors import recall_at

    index = faiss.read_index(str(folder / "vectors.faiss"))
    result = {}
    for ef in (16, 32, 64, 128):
        index.hnsw.efSearch = ef
        found, samples = [], []
        for query in queries:
            started = time.perf_counter_ns()
            _, ids = index.search(query.reshape(1, -1), 10)
            samples.append(time.perf_counter_ns() - started)
            found.append(ids[0])
        result = {"efSearch": ef, "recall_at_10": round(recall_at(np.array(found), truth), 4)}
        result |= stats(samples)
        if result["recall_at_10"] >= 0.95:
            break
    return result


def build_bm25(n: int, folder: Path) -> dict:
    from index.keyword import KeywordIndex

    out = folder / "bm25"
    out.mkdir()
    started = time.perf_counter()
    KeywordIndex.build(TextSource().texts(n, seed=4)).save(out)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"build_s": round(seconds, 1), "size_mib": round(size / 2**20, 1)} | {
        "build_peak_rss_mib": peak_rss_mib()
    }


def search_bm25(folder: Path) -> dict:
    from index.keyword import KeywordIndex, KeywordSearch

    keywords = KeywordSearch.of(KeywordIndex.load(folder / "bm25"))
    samples = []
    for question in TextSource().questions(QUERIES, seed=5):
        started = time.perf_counter_ns()
        scores = keywords.scores(question)
        top_candidates(scores, CANDIDATES)
        samples.append(time.perf_counter_ns() - started)
    return stats(samples)


def top_candidates(scores: np.ndarray, n: int) -> np.ndarray:
    """What the retriever does with the scores (assistant.retriever._top_keyword_rows)."""
    from assistant.retriever import _top_keyword_rows

    return _top_keyword_rows(scores, n, None)


def open_both(folder: Path) -> dict:
    """Open the IVF index and BM25 as the server does, run the queries: the RSS a server has."""
    from index.keyword import KeywordIndex, KeywordSearch
    from index.vectors import VectorIndex, VectorLayout

    layout = VectorLayout(**json.loads((folder / "ivf" / "layout.json").read_text()))
    dense = VectorIndex.load(folder / "ivf", layout)
    keywords = KeywordSearch.of(KeywordIndex.load(folder / "bm25"))
    questions = TextSource().questions(QUERIES, seed=5)
    for query, question in zip(np.load(folder / "queries.npy"), questions, strict=True):
        dense.search(query, CANDIDATES)
        top_candidates(keywords.scores(question), CANDIDATES)
    return {}


def stats(samples_ns: list[int]) -> dict:
    ms = np.asarray(samples_ns) / 1e6
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def print_table(report: dict) -> None:
    print(f"\nReform QA at scale  ({report['timestamp']}; synthetic corpora, {QUERIES} queries)")
    header = f"{'chunks':>9} {'index':<14}{'build s':>8}{'RSS MiB':>9}{'disk MiB':>9}"
    print(header + f"{'p50 ms':>8}{'p99 ms':>8}{'recall@10':>10}")
    for row in report["sizes"]:
        for kind, d in row["dense"].items():
            label = d["index"] + (f" np={d['nprobe']}" if d.get("nprobe") else "")
            label += f" ef={d['efSearch']}" if kind == "hnsw" else ""
            disk = d["faiss_file_mib"] + (0 if kind == "hnsw" else d["exact_vectors_mib"])
            print(
                f"{row['chunks']:>9,} {label:<14}{d['build_s']:>8}{d['build_peak_rss_mib']:>9}"
                f"{disk:>9.0f}{d['p50_ms']:>8}{d['p99_ms']:>8}{d['recall_at_10']:>10}"
            )
        b = row["bm25"]
        print(
            f"{row['chunks']:>9,} {'BM25 (top 50)':<14}{b['build_s']:>8}"
            f"{b['build_peak_rss_mib']:>9}{b['size_mib']:>9.0f}{b['p50_ms']:>8}{b['p99_ms']:>8}"
        )
        print(f"{'':>9} server holding both: peak RSS {row['served_peak_rss_mib']} MiB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--step"]:
        step, size, where = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
        kind = sys.argv[5] if len(sys.argv) > 5 else ""
        print(json.dumps(run_step(step, size, where, kind)))
        sys.exit(0)
    sys.exit(main())
