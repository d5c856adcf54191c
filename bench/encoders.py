"""Encoding per embedding backend (torch, onnx, onnx-int8): the query path, batch throughput,
memory, and the eval over an index built with each.

Each backend runs in a child process of its own, so its peak RSS is its own:
  - query path: one question at a time (from eval/retrieval.jsonl, cycled to N), as the API
    encodes them: p50/p95/p99 in ms;
  - batch: every chunk of the real corpus (docs_corpus/, split by the project's Splitter) in
    one `encode` call, `--rounds` times: chunks/s of the median round;
  - peak RSS (VmHWM) after those two, and the cosine of its chunk vectors to torch's;
  - then an index of docs_corpus/ built with that backend in a temp folder, and eval.run's
    configuration (hybrid+figures) over it: hit@1, hit@5, mrr@10, figure_acc@1,
    false_abstention, side by side.
It prints a table and writes JSON; it reports, never asserts. The CPU time other processes used
during each child is reported too: well above zero means rerun it on a quiet machine.

    .venv/bin/python bench/encoders.py [-n 200] [--rounds 3] [--backend torch ...]
                                       [--split all] [--json bench/results/encoders.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # eval/ is not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))  # latency.py's helpers
from latency import (
    contention,
    cpu_snapshot,
    finish,
    load_queries,
    machine,
    peak_rss_mib,
    stats,
    timed,
)

from index.settings import EMBED_BACKENDS, Settings

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "eval" / "retrieval.jsonl"
EVAL_CONFIG = "hybrid+figures"
EVAL_METRICS = ["hit@1", "hit@5", "mrr@10", "figure_acc@1", "false_abstention"]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker:
        return worker(args)
    report = {"machine": machine(), "n": args.n, "rounds": args.rounds, "split": args.split,
              "eval_config": EVAL_CONFIG, "backends": {}}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="reformqa-encoders-") as tmp:
        work = Path(tmp)
        report["chunks"] = write_chunks(work / "chunks.json")
        backends = args.backend or list(EMBED_BACKENDS)
        for backend in backends:  # export the ONNX graphs first: a backend's load is measured
            _child(backend, work, args, "--prepare")  # as it is once its graph is in the cache
        for backend in backends:
            print(f"measuring {backend} ...", file=sys.stderr, flush=True)
            report["backends"][backend] = run_worker(backend, work, args)
        add_cosines(report, work)
    return finish(report, args.json, print_table)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="timed single queries (200)")
    parser.add_argument("--rounds", type=int, default=3, help="batch rounds over the chunks (3)")
    parser.add_argument("--backend", action="append", choices=EMBED_BACKENDS, help="repeatable")
    parser.add_argument("--split", choices=["dev", "test", "all"], default="all")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results" / "encoders.json", help="output"
    )
    parser.add_argument("--worker", choices=EMBED_BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        parser.error("-n and --rounds must be at least 1")
    return args


def _settings(**overrides) -> Settings:
    """The environment's settings, with the project's corpus and ONNX cache wherever it runs."""
    base = Settings.from_env()
    cache = base.onnx_cache_dir if base.onnx_cache_dir.is_absolute() else ROOT / base.onnx_cache_dir
    corpus = base.corpus_dir if base.corpus_dir.is_absolute() else ROOT / base.corpus_dir
    return base.with_overrides(onnx_cache_dir=cache, corpus_dir=corpus, **overrides)


def write_chunks(path: Path) -> int:
    """The corpus's chunk texts, split as `reformqa index build` splits them."""
    from index.embedder import Embedder
    from index.loader import load_corpus
    from index.splitter import Splitter

    settings = _settings()
    embedder = Embedder(settings.model)
    splitter = Splitter(
        embedder.tokenizer, embedder.max_tokens, settings.chunk_tokens, settings.chunk_overlap
    )
    texts = [c.text for doc in load_corpus(settings.corpus_dir) for c in splitter.split(doc)]
    path.write_text(json.dumps(texts), encoding="utf-8")
    return len(texts)


def run_worker(backend: str, work: Path, args: argparse.Namespace) -> dict:
    _child(backend, work, args)
    return json.loads((work / f"{backend}.json").read_text(encoding="utf-8"))


def _child(backend: str, work: Path, args: argparse.Namespace, *extra: str) -> None:
    command = [sys.executable, __file__, "--worker", backend, "--work", str(work),
               "-n", str(args.n), "--rounds", str(args.rounds), "--split", args.split,
               *extra]  # fmt: skip
    subprocess.run(command, check=True, cwd=ROOT)


def worker(args: argparse.Namespace) -> int:
    """One backend, measured in this process; the result goes to <work>/<backend>.json."""
    from index.embedder import Embedder

    started = cpu_snapshot()
    settings = _settings(embed_backend=args.worker)
    embedder = Embedder.from_settings(settings)
    if args.prepare:
        embedder.warm_up()
        return 0
    load_started = time.perf_counter()
    embedder.warm_up()  # loads the model; exports the ONNX graph unless it is in the cache
    result = {"load_s": round(time.perf_counter() - load_started, 2), "name": embedder.name,
              "threads": _threads(embedder)}  # fmt: skip
    queries = load_queries(QUERIES, args.n)
    result["query_ms"] = stats(timed(lambda q: embedder.encode([q]), queries))
    chunks = json.loads((args.work / "chunks.json").read_text(encoding="utf-8"))
    rounds = []
    for _ in range(args.rounds):
        begin = time.perf_counter()
        vectors = embedder.encode(chunks)
        rounds.append(time.perf_counter() - begin)
    np.save(args.work / f"{args.worker}.npy", vectors)
    result["batch_chunks_per_s"] = round(len(chunks) / statistics.median(rounds), 1)
    result["peak_rss_mib"] = peak_rss_mib(os.getpid())
    result["contention"] = contention(started, 0.0)
    result.update(evaluate(settings, embedder, args.work / args.worker, args.split))
    (args.work / f"{args.worker}.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


def _threads(embedder) -> int:
    if embedder.backend == "torch":
        import torch

        return torch.get_num_threads()
    return embedder.session.get_session_options().intra_op_num_threads


def evaluate(settings: Settings, embedder, folder: Path, split: str) -> dict:
    """Build the corpus with this embedder into `folder`, then run the eval's configuration."""
    from assistant.answering import Assistant
    from assistant.retriever import Retriever
    from eval.retrieval import load_queries as load_questions
    from eval.run import DEFAULT_SET, aggregate, run_config
    from index.builder import build_index
    from index.reader import IndexReader

    settings = settings.with_overrides(data_dir=folder)
    build = build_index(settings, embedder=embedder)
    reader = IndexReader.open(settings.data_dir, embedder.name)
    assistant = Assistant(Retriever(reader, embedder, settings))
    rows = run_config(EVAL_CONFIG, load_questions(DEFAULT_SET, split), assistant, None)
    overall = aggregate(rows)
    return {"build_s": round(build.seconds, 2), "build_encode_s": round(build.encode_seconds, 2),
            "eval": {m: overall[m] for m in [*EVAL_METRICS, "n"]}}  # fmt: skip


def add_cosines(report: dict, work: Path) -> None:
    """Cosine of each backend's chunk vectors to torch's (the vectors are unit length)."""
    reference = work / "torch.npy"
    if not reference.exists():
        return
    torch_vectors = np.load(reference)
    for backend, result in report["backends"].items():
        cosines = (np.load(work / f"{backend}.npy") * torch_vectors).sum(axis=1)
        result["cosine_to_torch"] = {"min": round(float(cosines.min()), 6),
                                     "mean": round(float(cosines.mean()), 6)}  # fmt: skip


def print_table(report: dict) -> None:
    m = report["machine"]
    print(f"Reform QA encoders  ({report['timestamp']})")
    print(f"machine: {m['cpu_count']} CPUs, {m['platform']}")
    print(f"query path: n={report['n']} single questions; batch: {report['chunks']} corpus chunks "
          f"x {report['rounds']} rounds")  # fmt: skip
    print()
    head = (f"{'backend':<11}{'threads':>8}{'q p50 ms':>10}{'q p95':>8}{'q p99':>8}{'chunks/s':>10}"
            f"{'RSS MiB':>9}{'cos min':>9}{'cos mean':>10}{'others CPU s':>14}")  # fmt: skip
    print(head)
    for backend, r in report["backends"].items():
        q, cos = r["query_ms"], r.get("cosine_to_torch", {})
        print(f"{backend:<11}{r['threads']:>8}{q['p50']:>10.2f}{q['p95']:>8.2f}{q['p99']:>8.2f}"
              f"{r['batch_chunks_per_s']:>10.1f}{r['peak_rss_mib'] or 0:>9.0f}"
              f"{cos.get('min', float('nan')):>9.4f}{cos.get('mean', float('nan')):>10.4f}"
              f"{r['contention']['other_processes_cpu_s']:>14.1f}")  # fmt: skip
    n = next(iter(report["backends"].values()))["eval"]["n"]
    print(f"\neval: {report['eval_config']} over an index built with each backend "
          f"(split {report['split']}, {n} questions)")  # fmt: skip
    print(f"{'backend':<11}" + "".join(f"{m:>18}" for m in EVAL_METRICS) + f"{'build s':>10}")
    for backend, r in report["backends"].items():
        cells = "".join(
            f"{'-' if r['eval'][m] is None else format(r['eval'][m], '.4f'):>18}"
            for m in EVAL_METRICS
        )
        print(f"{backend:<11}{cells}{r['build_s']:>10.1f}")


if __name__ == "__main__":
    sys.exit(main())
