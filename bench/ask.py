"""Answer latency: warm, sequential `POST /v1/ask` against the real server over loopback.

Questions come from eval/questions.jsonl (cycled to reach N; follow-ups sent with their
history). Prints p50/p95/p99/mean in milliseconds, sequential throughput, the server's own
`timings_ms` split (retrieve / answer), and the server's peak RSS. Reports; never asserts.

    .venv/bin/python bench/ask.py [--data-dir data] [-n 200] [--json bench/results/ask.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import machine, peak_rss_mib, serve, stats

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in (ROOT / "eval" / "questions.jsonl").open() if line.strip()]
    bodies = [
        {"question": r["question"], "history": r.get("history", [])}
        for r in itertools.islice(itertools.cycle(rows), args.n)
    ]
    samples, retrieve, answer = [], [], []
    with serve(args.data_dir) as (base_url, pid), httpx.Client(timeout=60) as client:
        for body in bodies[:10]:  # warm up
            client.post(f"{base_url}/v1/ask", json=body)
        started = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter_ns()
            response = client.post(f"{base_url}/v1/ask", json=body)
            samples.append(time.perf_counter_ns() - t0)
            response.raise_for_status()
            timings = response.json()["timings_ms"]
            retrieve.append(timings["retrieve"])
            answer.append(timings["answer"])
        elapsed = time.perf_counter() - started
        rss = peak_rss_mib(pid)
    report = {
        "machine": machine(),
        "n": len(bodies),
        "http_ms": stats(samples),
        "throughput_rps": round(len(bodies) / elapsed, 1),
        "server_retrieve_ms_p50": sorted(retrieve)[len(retrieve) // 2],
        "server_answer_ms_p50": sorted(answer)[len(answer) // 2],
        "server_peak_rss_mib": rss,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
