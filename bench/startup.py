"""Start-up: from spawning `reformqa serve` to the first /healthz and /readyz 200, N times.

Each run is a fresh process (interpreter, imports, model, index), on a machine whose page cache
already holds the files after the first run, which is what a restart sees; the first run's
figure is the nearest to a cold boot. Also times the heavy imports alone in a fresh
interpreter (`python -X importtime` would list them one by one). Reports; never asserts.

    .venv/bin/python bench/startup.py [--data-dir data] [-n 5] [--json bench/results/startup.json]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from latency import finish, free_port, machine, reformqa_executable, stats, stop  # noqa: E402

IMPORTS = {
    "fastapi app": "import assistant.api.app",
    "onnxruntime + tokenizers": "import onnxruntime, tokenizers",
    "faiss + bm25s": "import faiss, bm25s",
    "sentence_transformers (not served)": "import sentence_transformers",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("-n", type=int, default=5, help="starts (5)")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "startup.json")
    args = parser.parse_args(argv)
    runs = [one_start(args.data_dir.resolve()) for _ in range(args.n)]
    report = {
        "machine": machine(),
        "data_dir": str(args.data_dir.resolve()),
        "runs": runs,
        "healthz_ms": stats([int(r["healthz_s"] * 1e9) for r in runs]),
        "readyz_ms": stats([int(r["readyz_s"] * 1e9) for r in runs]),
        "import_s": {name: import_seconds(code) for name, code in IMPORTS.items()},
    }
    return finish(report, args.json, print_report)


def print_report(report: dict) -> None:
    print(f"Reform QA start-up  ({report['timestamp']}; {report['machine']['cpu_count']} CPUs)")
    for i, r in enumerate(report["runs"], 1):
        print(f"  run {i}: listening after {r['healthz_s']:.2f} s, ready {r['readyz_s']:.2f} s")
    print(f"ready p50 {report['readyz_ms']['p50'] / 1000:.2f} s (target <= 3 s)")
    for name, seconds in report["import_s"].items():
        print(f"  import {name:<24}{seconds:>6.2f} s (fresh interpreter)")


def one_start(data_dir: Path) -> dict:
    port = free_port()
    command = [reformqa_executable(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            healthz = wait_for(base + "/healthz", server, started)
            readyz = wait_for(base + "/readyz", server, started)
        finally:
            stop(server)
    return {"healthz_s": round(healthz, 3), "readyz_s": round(readyz, 3)}


def wait_for(url: str, server: subprocess.Popen, started: float, limit: float = 120) -> float:
    """Seconds from `started` to the first 200 from url (polled every 20 ms)."""
    while time.perf_counter() - started < limit:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise SystemExit(f"{url} not ready within {limit} s")


def import_seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return round(time.perf_counter() - started, 2)


if __name__ == "__main__":
    sys.exit(main())
