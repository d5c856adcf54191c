"""Bulk embedding throughput: naive `SentenceTransformer.encode` against the project's batched
path (`Embedder.encode`: token-length order, token-budget batches, tokenization in a background
thread, inference_mode, fp16 on CUDA), on the same synthetic chunks in the same run.

Chunks are built from the real corpus's sentences (docs_corpus/, nothing downloaded): each is a
run of consecutive words of the sentences in a shuffled order, topped up to exactly `--tokens`
model tokens ([CLS] and [SEP] included). For each length it reports chunks/s of both and the
speed-up (the issue's target on a GPU: at least 5x naive), how far the two paths' vectors are
apart, the device, peak GPU memory of each path (CUDA) and the run's peak RSS; it prints a
table and writes JSON. It reports, never asserts. The same command runs on CPU (fp32) and on an
NVIDIA GPU (`--device cuda`, fp16).

    .venv/bin/python bench/embed.py [--device cpu|cuda] [-n N] [--tokens 64 --tokens 200]
                                    [--batch-tokens B] [--json bench/results/embed-<device>.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # latency.py's helpers
from latency import contention, cpu_snapshot, finish, machine, peak_rss_mib

from index.embedder import BATCH_TOKENS, Embedder
from index.loader import load_corpus
from index.sentences import sentence_spans

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_N = {"cpu": 2000, "cuda": 50000}
NAIVE_BATCH_SIZE = 32  # SentenceTransformer.encode's default
TARGET_SPEEDUP = 5.0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    kind = "cuda" if args.device.startswith("cuda") else "cpu"
    n = args.n or DEFAULT_N[kind]
    embedder = Embedder(device=args.device, backend="torch", batch_tokens=args.batch_tokens)
    naive = _naive_model(embedder, args.device)
    report = {
        "device": args.device, "device_name": device_name(args.device), "n": n,
        "naive_batch_size": NAIVE_BATCH_SIZE, "batch_tokens": embedder.batch_tokens,
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
        "machine": machine(), "runs": [],
    }  # fmt: skip
    started = cpu_snapshot()
    sentences = corpus_sentences(ROOT / "docs_corpus")
    for tokens in args.tokens or [64, 200]:
        texts = synthetic_chunks(sentences, embedder.tokenizer, tokens, n, seed=tokens)
        print(f"{tokens}-token chunks: {n} ...", file=sys.stderr, flush=True)
        report["runs"].append(measure(naive, embedder, texts, tokens))
    report["peak_rss_mib"] = peak_rss_mib(os.getpid())
    report["contention"] = contention(started, 0.0)
    out = args.json or ROOT / "bench" / "results" / f"embed-{kind}.json"
    return finish(report, out, print_table)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if any)")
    parser.add_argument("-n", type=int, default=0, help="chunks per length (cpu 2000, cuda 50000)")
    parser.add_argument("--tokens", type=int, action="append", help="chunk length; repeatable")
    parser.add_argument(
        "--batch-tokens", type=int, default=0,
        help=f"padded tokens per batch of the batched path (default {BATCH_TOKENS})",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="default bench/results/embed-<cpu|cuda>.json")
    args = parser.parse_args(argv)
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.n < 0 or any(t < 3 or t > 256 for t in args.tokens or []):
        parser.error("-n must be >= 0 and --tokens between 3 and 256 (the model's limit)")
    return args


def _naive_model(embedder: Embedder, device: str):
    """A second copy of the model, as anyone would load it: fp32, on the device."""
    from sentence_transformers import SentenceTransformer

    embedder.warm_up()  # sets the offline environment and loads the batched path's copy
    return SentenceTransformer(embedder.load_path, device=device)


def device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "cpu"


def corpus_sentences(corpus: Path) -> list[str]:
    return [doc.text[s:e] for doc in load_corpus(corpus) for s, e in sentence_spans(doc.text)]


def synthetic_chunks(
    sentences: list[str], tokenizer, tokens: int, n: int, seed: int = 0
) -> list[str]:
    """n texts of exactly `tokens` model tokens, specials included: each starts at a sentence
    of the shuffled corpus and runs on through the next ones."""
    rng = random.Random(seed)
    order = sentences[:]
    rng.shuffle(order)
    sentence_words = [sentence.split() for sentence in order]
    starts = np.cumsum([0] + [len(words) for words in sentence_words[:-1]])
    base = [word for words in sentence_words for word in words]
    pieces = {word: len(tokenizer.tokenize(word)) for word in set(base)}
    counts = np.array([pieces[word] for word in base], dtype=np.int64)
    content = tokens - 2  # [CLS] and [SEP]
    copies = 2 + content // max(1, int(counts.sum()))  # enough words after any start
    words, ends = base * copies, np.cumsum(np.tile(counts, copies))
    texts = []
    for start in (int(rng.choice(starts)) for _ in range(n)):
        before = int(ends[start - 1]) if start else 0
        stop = int(np.searchsorted(ends, before + content, side="right"))
        short = content - (int(ends[stop - 1]) - before if stop > start else 0)
        texts.append(" ".join(words[start:stop] + ["the"] * short))  # "the" is one token
    return texts


def measure(naive, embedder: Embedder, texts: list[str], tokens: int) -> dict:
    """Both paths over the same texts, after a warm-up of each; their vectors compared."""
    naive_encode = lambda batch: naive.encode(  # noqa: E731
        batch, batch_size=NAIVE_BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True
    )
    warm = texts[:256]
    naive_encode(warm), embedder.encode(warm)
    naive_s, naive_vectors, naive_gpu = _timed(naive_encode, texts, embedder.device)
    ours_s, our_vectors, our_gpu = _timed(embedder.encode, texts, embedder.device)
    cosines = (naive_vectors * our_vectors).sum(axis=1)
    return {
        "tokens": tokens, "measured_tokens": embedder.count_tokens(texts[0]), "n": len(texts),
        "naive_s": round(naive_s, 3), "batched_s": round(ours_s, 3),
        "naive_chunks_per_s": round(len(texts) / naive_s, 1),
        "batched_chunks_per_s": round(len(texts) / ours_s, 1),
        "speedup": round(naive_s / ours_s, 2),
        "max_abs_diff": float(np.abs(naive_vectors - our_vectors).max()),
        "min_cosine": float(cosines.min()),
        "naive_peak_gpu_mib": naive_gpu, "batched_peak_gpu_mib": our_gpu,
    }  # fmt: skip


def _timed(encode, texts: list[str], device: str) -> tuple[float, np.ndarray, float | None]:
    import torch

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    begin = time.perf_counter()
    vectors = np.asarray(encode(texts), dtype=np.float32)
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - begin
    peak = round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if cuda else None
    return seconds, vectors, peak


def print_table(report: dict) -> None:
    print(f"Reform QA bulk embedding  ({report['timestamp']})")
    print(f"device: {report['device_name']} ({report['device']}), torch {report['torch']}, "
          f"{report['torch_threads']} threads; n={report['n']} per length")  # fmt: skip
    print(f"naive: SentenceTransformer.encode, batch_size={report['naive_batch_size']}; batched: "
          f"Embedder.encode, {report['batch_tokens']} padded tokens a batch")  # fmt: skip
    print()
    print(f"{'tokens':>6}{'naive/s':>11}{'batched/s':>11}{'speed-up':>10}{'max|diff|':>11}"
          f"{'min cos':>9}{'GPU MiB naive':>15}{'GPU MiB batched':>17}")  # fmt: skip
    for r in report["runs"]:
        gpu = [("-" if v is None else f"{v:.0f}") for v in (r["naive_peak_gpu_mib"],
                                                            r["batched_peak_gpu_mib"])]  # fmt: skip
        print(f"{r['tokens']:>6}{r['naive_chunks_per_s']:>11.1f}{r['batched_chunks_per_s']:>11.1f}"
              f"{r['speedup']:>9.2f}x{r['max_abs_diff']:>11.2e}{r['min_cosine']:>9.5f}"
              f"{gpu[0]:>15}{gpu[1]:>17}")  # fmt: skip
    print(f"\npeak RSS: {report['peak_rss_mib']} MiB; target on a GPU: >= {TARGET_SPEEDUP:.0f}x "
          f"naive; other processes' CPU during the run: "
          f"{report['contention']['other_processes_cpu_s']} s")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
