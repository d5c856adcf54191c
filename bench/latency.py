"""Query latency: the bare cost of a query against what /v1/search and /v1/ask cost over HTTP.

One run measures, for the same questions (eval/questions.jsonl without history, cycled to N):

- bare: one query encode + one FAISS search + one BM25 search (scores and top candidates), in
  process, no HTTP (and each step alone): the floor any answer pays;
- in process: the full `Retriever.search` and `Assistant.ask`;
- HTTP, sequential: warm `POST /v1/search` and `POST /v1/ask` against the real server
  (`reformqa serve`, a subprocess on a free loopback port) through one persistent client;
- HTTP, concurrent: the same /v1/ask with 8 and 32 clients at once (asyncio + httpx): latency
  percentiles and throughput. The clients share the machine with the server.

Prints p50/p95/p99/mean in milliseconds, the ratios http_p50 / bare_p50 (targets: /v1/ask 1.3)
and the peak RSS of the server and of this process, and writes the same figures as JSON. It
reports; it never asserts on time. It also reports the CPU time other processes used during
the run: on a small machine, other work skews every figure (well above zero: run it again).

    .venv/bin/python bench/latency.py [--data-dir data] [-n 100] [--json bench/results/latency.json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"
TOP_K = 10
ASK_TOP_K = 5
CANDIDATES = 50
WARMUP = 10
READY_TIMEOUT_S = 120.0
TARGET_RATIO = 1.3
CONCURRENCY = (8, 32)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    data_dir = args.data_dir.resolve()
    queries = load_queries(QUESTIONS, args.n)
    report = {"machine": machine(), "n": args.n, "top_k": TOP_K, "data_dir": str(data_dir)}
    start = cpu_snapshot()
    in_process, http = measure_in_process(data_dir, queries), measure_http(data_dir, queries)
    latency = in_process.pop("latency_ms") | http.pop("latency_ms")
    report.update(in_process, **http, latency_ms=latency)
    bare = report["latency_ms"]["bare"]["p50"]
    report["ratio_ask_p50_to_bare_p50"] = round(latency["http_ask"]["p50"] / bare, 3)
    report["ratio_search_p50_to_bare_p50"] = round(latency["http_search"]["p50"] / bare, 3)
    report["target_ratio"] = TARGET_RATIO
    report["contention"] = contention(start, report.pop("server_cpu_s"))
    report["bench_peak_rss_mib"] = peak_rss_mib(os.getpid())
    return finish(report, args.json, print_table)


def finish(report: dict, path: Path, show: Callable[[dict], None]) -> int:
    """The end of every bench script: stamp the report, print it, write it as JSON."""
    report["timestamp"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    show(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {path}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default ./data")
    parser.add_argument("-n", type=int, default=100, help="timed queries per measure (100)")
    parser.add_argument(
        "--json", type=Path, default=ROOT / "bench" / "results" / "latency.json", help="output"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("-n must be at least 1")
    return args


def load_queries(path: Path, n: int) -> list[str]:
    """The questions (or retrieval queries) asked without history, cycled until there are n."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    found = [r.get("question") or r["query"] for r in rows if not r.get("history")]
    if not found:
        raise SystemExit(f"no questions in {path}")
    return list(itertools.islice(itertools.cycle(found), n))


def machine() -> dict:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform()}


def stats(samples_ns: list[int]) -> dict[str, float]:
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {
        "p50": round(float(p50), 3),
        "p95": round(float(p95), 3),
        "p99": round(float(p99), 3),
        "mean": round(float(ms.mean()), 3),
    }


def timed(fn: Callable[[str], object], queries: list[str]) -> list[int]:
    """Wall time of fn(q) for each query, in nanoseconds, after WARMUP untimed calls."""
    for q in queries[:WARMUP]:
        fn(q)
    samples = []
    for q in queries:
        start = time.perf_counter_ns()
        fn(q)
        samples.append(time.perf_counter_ns() - start)
    return samples


def measure_in_process(data_dir: Path, queries: list[str]) -> dict:
    """Bare encode + FAISS + BM25 (each step timed too), full search and full ask, no HTTP."""
    from assistant.answering import Assistant
    from assistant.retriever import Retriever, _top_keyword_rows
    from index.settings import Settings

    retriever = Retriever.load(Settings.from_env(data_dir=data_dir))
    retriever.warm_up()
    assistant = Assistant(retriever)
    encode, reader = retriever.embedder.encode, retriever.reader
    steps = {
        "encode": lambda q: encode([q])[0],
        "faiss": lambda v: reader.dense_search(v, CANDIDATES, None),
        "bm25": lambda q: _top_keyword_rows(reader.keywords.scores(q), CANDIDATES, None),
    }
    for q in queries[:WARMUP]:
        steps["faiss"](steps["encode"](q))
    samples: dict[str, list[int]] = {name: [] for name in ["bare", *steps]}
    for q in queries:
        t0 = time.perf_counter_ns()
        vector = steps["encode"](q)
        t1 = time.perf_counter_ns()
        steps["faiss"](vector)
        t2 = time.perf_counter_ns()
        steps["bm25"](q)
        t3 = time.perf_counter_ns()
        samples["bare"].append(t3 - t0)
        samples["encode"].append(t1 - t0)
        samples["faiss"].append(t2 - t1)
        samples["bm25"].append(t3 - t2)
    search = timed(lambda q: retriever.search(q, k=TOP_K), queries)
    ask = timed(lambda q: assistant.ask(q, top_k=ASK_TOP_K), queries)
    manifest = reader.manifest
    return {
        "chunks": manifest.chunks,
        "model": manifest.model,
        "faiss_index": manifest.faiss_index,
        "latency_ms": {name: stats(s) for name, s in samples.items()}
        | {"search": stats(search), "ask": stats(ask)},
    }


def measure_http(data_dir: Path, queries: list[str]) -> dict:
    """Warm POST /v1/search and /v1/ask, sequential then concurrent, on a real server."""
    with serve(data_dir) as (base_url, pid), httpx.Client(base_url=base_url, timeout=60) as client:

        def post(path: str, body: dict) -> None:
            client.post(path, json=body).raise_for_status()

        search = timed(lambda q: post("/v1/search", {"query": q, "top_k": TOP_K}), queries)
        ask = timed(lambda q: post("/v1/ask", {"question": q, "top_k": ASK_TOP_K}), queries)
        concurrent = {c: asyncio.run(ask_concurrently(base_url, queries, c)) for c in CONCURRENCY}
        server_rss, server_cpu = peak_rss_mib(pid), process_cpu_s(pid)
    latency = {"http_search": stats(search), "http_ask": stats(ask)}
    latency |= {f"http_ask_c{c}": figures["latency"] for c, figures in concurrent.items()}
    return {
        "latency_ms": latency,
        "http_ask_throughput_rps": {"1": round(len(ask) / (sum(ask) / 1e9), 2)}
        | {str(c): figures["throughput_rps"] for c, figures in concurrent.items()},
        "server_peak_rss_mib": server_rss,
        "server_cpu_s": server_cpu,
    }


async def ask_concurrently(base_url: str, queries: list[str], clients: int) -> dict:
    """`clients` tasks share the questions; each sends its next as soon as one is answered."""
    pending = iter(queries)
    samples: list[int] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def one_client(client: httpx.AsyncClient) -> None:
        for q in pending:
            t0 = time.perf_counter_ns()
            response = await client.post("/v1/ask", json={"question": q, "top_k": ASK_TOP_K})
            samples.append(time.perf_counter_ns() - t0)
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        await asyncio.gather(*(client.post("/v1/ask", json={"question": q}) for q in queries[:4]))
        started = time.perf_counter()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"latency": stats(samples), "throughput_rps": round(len(samples) / elapsed, 2)}


@contextmanager
def serve(data_dir: Path) -> Iterator[tuple[str, int]]:
    """(base URL, pid) of a ready `reformqa serve`; the server is always stopped on exit."""
    port = free_port()
    command = [reformqa_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir)]
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_ready(base_url, server, log)
            yield base_url, server.pid
        finally:
            stop(server)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reformqa_executable() -> str:
    beside = Path(sys.executable).parent / "reformqa"
    found = str(beside) if beside.exists() else shutil.which("reformqa")
    if found is None:
        raise SystemExit("reformqa is not installed (run `make install`)")
    return found


def wait_ready(base_url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited ({server.returncode}):\n{_tail(log)}")
            try:
                response = client.get("/readyz")
            except httpx.TransportError:
                response = None  # not listening yet
            if response is not None and response.status_code == 200:
                return
            if response is not None and "index-loading" not in response.text:
                raise RuntimeError(f"the server will not get ready: {response.text}")
            time.sleep(0.2)
    raise RuntimeError(f"the server was not ready in {READY_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _tail(log, lines: int = 20) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().splitlines()[-lines:])


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (peak resident set) of a live process, in MiB; None where /proc has no answer."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def cpu_snapshot() -> tuple[float, float, float]:
    """(monotonic s, CPU s used by the whole machine, CPU s used by this process)."""
    return time.monotonic(), machine_cpu_s(), process_cpu_s(os.getpid())


def contention(start: tuple[float, float, float], server_cpu_s: float) -> dict:
    """CPU seconds used during the run by processes other than this one and the server."""
    now = cpu_snapshot()
    other = (now[1] - start[1]) - (now[2] - start[2]) - server_cpu_s
    return {"wall_s": round(now[0] - start[0], 1), "other_processes_cpu_s": round(other, 1)}


def machine_cpu_s() -> float:
    """CPU seconds all processes have used since boot: user, nice, system, irq, softirq."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields)
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """utime + stime of a live process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def print_table(report: dict) -> None:
    m = report["machine"]
    print(f"Reform QA query latency  ({report['timestamp']})")
    print(f"machine: {m['cpu_count']} CPUs, {m['platform']}")
    print(
        f"index:   {report['chunks']} chunks ({report['faiss_index']}), {report['model']}; "
        f"n={report['n']}, search k={TOP_K}, ask top_k={ASK_TOP_K}"
    )
    print()
    print(f"{'measure (ms)':<34}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}")
    labels = {
        "bare": "bare (encode + faiss + bm25)",
        "encode": "  encode alone",
        "faiss": "  faiss alone",
        "bm25": "  bm25 alone",
        "search": "in-process Retriever.search",
        "ask": "in-process Assistant.ask",
        "http_search": "HTTP POST /v1/search",
        "http_ask": "HTTP POST /v1/ask",
        **{f"http_ask_c{c}": f"HTTP /v1/ask, {c} clients" for c in CONCURRENCY},
    }
    for key, label in labels.items():
        s = report["latency_ms"][key]
        print(f"{label:<34}{s['p50']:>9.2f}{s['p95']:>9.2f}{s['p99']:>9.2f}{s['mean']:>9.2f}")
    print()
    rps = ", ".join(f"{c} client(s) {r}" for c, r in report["http_ask_throughput_rps"].items())
    print(f"/v1/ask throughput (req/s):   {rps}")
    ratio = report["ratio_ask_p50_to_bare_p50"]
    verdict = "within" if ratio <= TARGET_RATIO else "above"
    print(f"ask_p50 / bare_p50:           {ratio:.2f}  ({verdict} the {TARGET_RATIO} target)")
    print(f"search_p50 / bare_p50:        {report['ratio_search_p50_to_bare_p50']:.2f}")
    print(f"server peak RSS:              {report['server_peak_rss_mib']} MiB")
    print(f"benchmark peak RSS:           {report['bench_peak_rss_mib']} MiB")
    c = report["contention"]
    busy = c["other_processes_cpu_s"] > 0.1 * c["wall_s"]
    note = "  (busy machine: figures skewed, run again)" if busy else ""
    print(f"other processes' CPU:         {c['other_processes_cpu_s']} s in {c['wall_s']} s{note}")


if __name__ == "__main__":
    sys.exit(main())
