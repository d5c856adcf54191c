"""Load test: C concurrent clients on a mixed /v1 traffic for T seconds, one run per worker count.

For each worker count N, it starts the real server (`reformqa serve --workers N`) as a
subprocess on a free loopback port, waits until /readyz answers 200 several times in a row on
fresh connections (every worker must have loaded the index), runs a short untimed warm-up,
then C asyncio clients (one shared httpx.AsyncClient, up to C keep-alive connections) each
loop for T seconds over a seeded random mix of:

    POST /v1/ask        {"question": ...}             40%
    POST /v1/search     {"query": ..., "top_k": 5}    40%
    GET  /v1/documents                                10%
    GET  /v1/documents/{id}  (an id from the list)     5%
    GET  /v1/figures?subject=...                       5%

Every response is counted; a non-2xx status or a transport error (timeouts included) is an
error, and the first few are kept as examples. It prints, overall and per endpoint: requests,
throughput (req/s, completed requests over the wall time of the run), latency p50/p95/p99/max
in ms as the client saw it (queueing included), errors, the p99/p50 ratio (target: p99 under
10x p50, zero errors), the server's own time per request (from its access log, by request id),
the RSS of the server and its worker processes, the CPU the server, this client and other
processes used during the run, and how late this client's own event loop ran (the client shares
the machine with the server: on a small machine its CPU and lag are part of every latency).
It writes the same as JSON to bench/results/load-w{N}.json and ends with a comparison table
over the worker counts. It reports; it never asserts.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--workers 1 2 4]
                                   [--data-dir data] [--url URL] [--seed 0]

With --url it loads an already running server instead (no server started, no RSS or server
log) and writes bench/results/load-url.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import free_port, machine, machine_cpu_s, process_cpu_s, reformqa_executable

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
READY_TIMEOUT_S = 180.0
READY_IN_A_ROW_PER_WORKER = 5
REQUEST_TIMEOUT_S = 60.0
MAX_ERROR_EXAMPLES = 10
TARGET_P99_OVER_P50 = 10.0

MIX = {"ask": 40, "search": 40, "documents": 10, "document": 5, "figures": 5}
ROUTES = {  # the server's route template, as its access log names it
    "/v1/ask": "ask",
    "/v1/search": "search",
    "/v1/documents": "documents",
    "/v1/documents/{doc_id}": "document",
    "/v1/figures": "figures",
}
QUESTIONS = [
    "How many ID cards had been issued by 2023?",
    "How many administrative procedures were cut?",
    "What share of public services are online?",
    "How many decisions on administrative procedures did ministries and localities issue in 2022?",
    "What share of administrative procedure records were resolved on time in 2022?",
    "How many general departments were abolished in the reorganization of the state apparatus?",
    "How many business regulations were cut in 2022?",
    "How many commune-level administrative units were reorganized in 2024?",
    "What digitization rate of procedure records did localities reach in 2024?",
    "How many decrees did the Government promulgate in 2022?",
    "How many electronic identification accounts have been activated?",
    "What rate of online applications did ministries and agencies reach in 2024?",
    "Who chaired the Government's Steering Committee for Administrative Reform?",
    "How many documents were sent on the national document exchange system?",
    "How many surplus staff did communes have after the rearrangement of administrative units?",
]
SUBJECTS = [
    "ID cards",
    "administrative procedures",
    "online public services",
    "decrees",
    "business regulations",
    "records",
]


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    path: str
    body: dict | None = None
    params: dict | None = None


@dataclass
class Tally:
    """What the clients saw: latencies by endpoint, statuses, errors and a few examples."""

    latency_ns: dict[str, list[int]] = field(default_factory=lambda: {e: [] for e in MIX})
    statuses: dict[str, Counter] = field(default_factory=lambda: {e: Counter() for e in MIX})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MIX, 0))
    examples: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def record(self, endpoint: str, elapsed_ns: int, status: str, error: str | None) -> None:
        self.latency_ns[endpoint].append(elapsed_ns)
        self.statuses[endpoint][status] += 1
        if error is not None:
            self.errors[endpoint] += 1
            if len(self.examples) < MAX_ERROR_EXAMPLES:
                into = time.monotonic() - self.started
                self.examples.append(f"{error} (after {elapsed_ns / 1e6:.0f} ms, {into:.1f} s in)")

    def count(self) -> int:
        return sum(len(samples) for samples in self.latency_ns.values())


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.url:
        report = measure(args.url.rstrip("/"), args, server=None)
        write_report(report, RESULTS / "load-url.json")
        return 0
    reports = []
    for workers in args.workers:
        with serve(args.data_dir, workers) as server:
            report = measure(server.base_url, args, server=server)
        report["server"]["log"] = str(server.log_path)
        write_report(report, RESULTS / f"load-w{workers}.json")
        reports.append(report)
    if len(reports) > 1:
        print_comparison(reports)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="timed run per server (60)")
    parser.add_argument("--warmup", type=float, default=5.0, help="untimed warm-up seconds (5)")
    parser.add_argument("--workers", type=int, nargs="+", help="worker counts to compare (1)")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="default ./data")
    parser.add_argument("--url", help="load this running server instead of starting one")
    parser.add_argument("--seed", type=int, default=0, help="traffic mix seed (0)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --seconds must be positive, --warmup not negative")
    if args.url and args.workers:
        parser.error("--workers starts servers; with --url, leave it out")
    if args.workers and min(args.workers) < 1:
        parser.error("--workers must be at least 1")
    args.workers = args.workers or [1]
    args.data_dir = args.data_dir.resolve()
    return args


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    workers: int
    log_path: Path


@contextmanager
def serve(data_dir: Path, workers: int) -> Iterator[Server]:
    """A ready `reformqa serve --workers N` on a free loopback port, stopped on exit. Its log
    (one JSON line per request) is kept in /tmp for reading afterwards."""
    port = free_port()
    command = [reformqa_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--workers", str(workers)]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's lifetime
        "w+", prefix=f"reformqa-load-w{workers}-", suffix=".log", delete=False
    )
    print(f"starting: {' '.join(command)}\n  log: {log.name}", flush=True)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(f"http://127.0.0.1:{port}", process, workers, Path(log.name))
    try:
        started = time.monotonic()
        wait_ready(server)
        print(f"  ready in {time.monotonic() - started:.1f} s", flush=True)
        yield server
    finally:
        stop_server(process)
        log.close()


def wait_ready(server: Server) -> None:
    """Until /readyz is 200 on READY_IN_A_ROW_PER_WORKER * N fresh connections in a row: each
    connection may land on any worker, and a worker still loading answers 503."""
    wanted = READY_IN_A_ROW_PER_WORKER * server.workers
    in_a_row, deadline = 0, time.monotonic() + READY_TIMEOUT_S
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=server.base_url, timeout=5, limits=no_keepalive) as client:
        while in_a_row < wanted:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready in {READY_TIMEOUT_S:.0f} s:\n{log_tail(server)}")
            if server.process.poll() is not None:
                code = server.process.returncode
                raise RuntimeError(f"the server exited ({code}):\n{log_tail(server)}")
            status, text = _readyz(client)
            if status is not None and status != 200 and "index-loading" not in text:
                raise RuntimeError(f"the server will not get ready: {text}")
            in_a_row = in_a_row + 1 if status == 200 else 0
            time.sleep(0.05 if status == 200 else 0.5)


def _readyz(client: httpx.Client) -> tuple[int | None, str]:
    try:
        response = client.get("/readyz")
    except httpx.TransportError:
        return None, ""  # not listening yet
    return response.status_code, response.text


def log_tail(server: Server, lines: int = 20) -> str:
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM the server (uvicorn stops its workers), then kill what is left of its tree."""
    tree = descendants(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in tree:  # only processes this server started; a pid is reused only much later
        if Path(f"/proc/{pid}").exists():
            subprocess.run(["kill", "-9", str(pid)], check=False)


def descendants(pid: int) -> list[int]:
    """Every live process under pid (children, their children...), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def tree_memory_mib(pid: int) -> dict:
    """VmRSS (now) and VmHWM (peak) of the server and each process under it, in MiB."""
    processes = {p: _vm(p) for p in [pid, *descendants(pid)]}
    processes = {p: vm for p, vm in processes.items() if vm}
    return {
        "rss_mib": round(sum(vm["rss"] for vm in processes.values()), 1),
        "peak_rss_mib": round(sum(vm["hwm"] for vm in processes.values()), 1),
        "processes": {str(p): vm for p, vm in processes.items()},
    }


def _vm(pid: int) -> dict[str, float]:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    keys = {"VmRSS:": "rss", "VmHWM:": "hwm"}
    return {
        keys[line.split()[0]]: round(int(line.split()[1]) / 1024, 1)
        for line in status.splitlines()
        if line.split() and line.split()[0] in keys
    }


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by the server and the processes now under it."""
    total = 0.0
    for p in [pid, *descendants(pid)]:
        try:
            total += process_cpu_s(p)
        except (OSError, IndexError):
            continue
    return total


# --- the traffic -----------------------------------------------------------------------------


def next_call(rng: random.Random, doc_ids: list[str]) -> Call:
    endpoint = rng.choices(list(MIX), weights=list(MIX.values()))[0]
    if endpoint == "document" and not doc_ids:
        endpoint = "documents"
    if endpoint == "ask":
        return Call(endpoint, "POST", "/v1/ask", body={"question": rng.choice(QUESTIONS)})
    if endpoint == "search":
        body = {"query": rng.choice(QUESTIONS), "top_k": 5}
        return Call(endpoint, "POST", "/v1/search", body=body)
    if endpoint == "document":
        return Call(endpoint, "GET", f"/v1/documents/{rng.choice(doc_ids)}")
    if endpoint == "figures":
        return Call(endpoint, "GET", "/v1/figures", params={"subject": rng.choice(SUBJECTS)})
    return Call(endpoint, "GET", "/v1/documents")


async def send(client: httpx.AsyncClient, call: Call, request_id: str, tally: Tally) -> None:
    """One request, timed from send to the whole body read; recorded whatever happens."""
    headers = {"X-Request-ID": request_id}
    started = time.perf_counter_ns()
    try:
        response = await client.request(
            call.method, call.path, json=call.body, params=call.params, headers=headers
        )
    except httpx.HTTPError as exc:
        elapsed = time.perf_counter_ns() - started
        name = type(exc).__name__
        tally.record(call.endpoint, elapsed, name, f"{call.method} {call.path}: {causes(exc)}")
        return
    elapsed = time.perf_counter_ns() - started
    error = None
    if not response.is_success:
        snippet = " ".join(response.text.split())[:200]
        error = f"{call.method} {call.path}: {response.status_code} {snippet}"
    tally.record(call.endpoint, elapsed, str(response.status_code), error)


def causes(exc: BaseException) -> str:
    """The exception and what it was raised from, e.g. 'ReadError <- ConnectionResetError: ...'."""
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 6:
        chain.append(f"{type(seen).__name__}: {seen}" if str(seen) else type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(chain)


async def one_client(
    client: httpx.AsyncClient, rng: random.Random, doc_ids: list[str], until: float, tag: str
) -> Tally:
    tally, n = Tally(), 0
    while time.monotonic() < until:
        await send(client, next_call(rng, doc_ids), f"{tag}-{n}", tally)
        n += 1
    return tally


async def run_clients(
    client: httpx.AsyncClient, clients: int, seconds: float, doc_ids: list[str], phase: str, seed
) -> tuple[Tally, float]:
    """C clients for `seconds`; requests in flight at the end are waited for. Returns the merged
    tally and the wall time from the start to the last response."""
    started = time.monotonic()
    until = started + seconds
    tasks = [
        one_client(client, random.Random(f"{seed}-{phase}-{i}"), doc_ids, until, f"{phase}-{i}")
        for i in range(clients)
    ]
    tallies = await asyncio.wait_for(asyncio.gather(*tasks), seconds + REQUEST_TIMEOUT_S + 30)
    return merge(tallies), time.monotonic() - started


async def loop_lag_ms(until: float, interval: float = 0.1) -> list[float]:
    """How late this process's event loop wakes from each `interval` sleep until `until`: the
    delay the client itself adds to every latency it measures (a starved client shows here)."""
    lags = []
    while time.monotonic() < until:
        started = time.perf_counter()
        await asyncio.sleep(interval)
        lags.append((time.perf_counter() - started - interval) * 1000)
    return lags


def merge(tallies: list[Tally]) -> Tally:
    merged = Tally()
    for tally in tallies:
        for endpoint in MIX:
            merged.latency_ns[endpoint] += tally.latency_ns[endpoint]
            merged.statuses[endpoint] += tally.statuses[endpoint]
            merged.errors[endpoint] += tally.errors[endpoint]
        room = MAX_ERROR_EXAMPLES - len(merged.examples)
        merged.examples += tally.examples[: max(room, 0)]
    return merged


async def document_ids(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/v1/documents", params={"limit": 200})
    response.raise_for_status()
    return [item["id"] for item in response.json()["items"]]


# --- one measurement -------------------------------------------------------------------------


def measure(base_url: str, args: argparse.Namespace, server: Server | None) -> dict:
    return asyncio.run(_measure(base_url, args, server))


async def _measure(base_url: str, args: argparse.Namespace, server: Server | None) -> dict:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        doc_ids = await document_ids(client)
        readiness = (await client.get("/readyz")).json()
        warm, warm_s = await run_clients(
            client, args.clients, args.warmup, doc_ids, "warm", args.seed
        )
        print(f"  warm-up: {warm.count()} requests in {warm_s:.1f} s", flush=True)
        cpu_before = cpu_counters(server)
        lags = asyncio.create_task(loop_lag_ms(time.monotonic() + args.seconds))
        tally, elapsed = await run_clients(
            client, args.clients, args.seconds, doc_ids, "run", args.seed
        )
        client_lag = _percentiles(await lags)
        cpu = cpu_used(cpu_before, cpu_counters(server), elapsed)
    report = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "target": base_url,
        "workers": server.workers if server else None,
        "clients": args.clients,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 2),
        "seed": args.seed,
        "mix_percent": MIX,
        "index": {k: readiness.get(k) for k in ("model", "documents", "chunks", "built_at")},
        "warmup": {"requests": warm.count(), "errors": sum(warm.errors.values())},
        **summarize(tally, elapsed),
        "cpu": cpu,
        "client_loop_lag_ms": client_lag,
        "server": server_facts(server),
    }
    print_report(report)
    return report


def cpu_counters(server: Server | None) -> dict[str, float]:
    counters = {"machine": machine_cpu_s(), "client": process_cpu_s(os.getpid())}
    if server is not None:
        counters["server"] = tree_cpu_s(server.process.pid)
    return counters


def cpu_used(before: dict, after: dict, elapsed: float) -> dict:
    """CPU seconds used during the run by the server tree, this client and everything else."""
    used = {k: after[k] - before[k] for k in before}
    if "server" in used:
        used["other"] = used["machine"] - used["client"] - used["server"]
    used = {k: round(v, 1) for k, v in used.items()}
    used["wall_s"] = round(elapsed, 1)
    return used


def server_facts(server: Server | None) -> dict:
    if server is None:
        return {}
    facts = tree_memory_mib(server.process.pid)
    facts["self_timed_ms"] = server_timings(server.log_path)
    return facts


def server_timings(log_path: Path) -> dict:
    """The server's own time per request of the timed run (its access log, by request id)."""
    ms: dict[str, list[float]] = {e: [] for e in MIX}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        endpoint = ROUTES.get(entry.get("route"))
        if endpoint and str(entry.get("request_id", "")).startswith("run-"):
            ms[endpoint].append(entry["ms"])
    every = [m for samples in ms.values() for m in samples]
    return {"all": _percentiles(every)} | {e: _percentiles(s) for e, s in ms.items() if s}


def _percentiles(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {}
    p50, p95, p99 = np.percentile(np.asarray(ms, dtype=np.float64), [50, 95, 99])
    return {
        "n": len(ms),
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "max": round(float(max(ms)), 2),
    }


def summarize(tally: Tally, elapsed: float) -> dict:
    per_endpoint = {e: endpoint_figures(tally.latency_ns[e], tally.errors[e], elapsed) for e in MIX}
    every = [ns for samples in tally.latency_ns.values() for ns in samples]
    overall = endpoint_figures(every, sum(tally.errors.values()), elapsed)
    ratio = overall["p99_ms"] / overall["p50_ms"] if overall.get("p50_ms") else None
    overall["p99_over_p50"] = round(ratio, 2) if ratio is not None else None
    overall["meets_target"] = bool(
        ratio is not None and ratio < TARGET_P99_OVER_P50 and overall["errors"] == 0
    )
    statuses = {e: dict(c) for e, c in tally.statuses.items()}
    return {
        "overall": overall,
        "endpoints": per_endpoint,
        "statuses": statuses,
        "error_examples": tally.examples,
    }


def endpoint_figures(samples_ns: list[int], errors: int, elapsed: float) -> dict:
    figures = {"requests": len(samples_ns), "rps": round(len(samples_ns) / elapsed, 2)}
    figures["errors"] = errors
    if samples_ns:
        stats = _percentiles([ns / 1e6 for ns in samples_ns])
        figures |= {f"{k}_ms": stats[k] for k in ("p50", "p95", "p99", "max")}
    return figures


# --- output ----------------------------------------------------------------------------------

ROW = "{:<11}{:>9}{:>9}{:>10}{:>10}{:>10}{:>10}{:>9}{:>8}"


def print_report(report: dict) -> None:
    index = report["index"]
    print()
    print(f"Reform QA load test  ({report['timestamp']})  {report['target']}")
    print(
        f"workers={report['workers']}  clients={report['clients']}  "
        f"seconds={report['seconds']:g} (ran {report['elapsed_s']} s)  seed={report['seed']}  "
        f"index: {index['documents']} documents, {index['chunks']} chunks"
    )
    print(ROW.format("endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                     "p99/p50", "errors"))  # fmt: skip
    rows = [*report["endpoints"].items(), ("all", report["overall"])]
    for name, f in rows:
        print(_row(name, f))
    overall = report["overall"]
    verdict = "meets" if overall["meets_target"] else "misses"
    print(
        f"p99/p50 = {overall['p99_over_p50']}, errors = {overall['errors']}: {verdict} the target "
        f"(p99 < {TARGET_P99_OVER_P50:g}x p50, zero errors)"
    )
    print(f"statuses: {json.dumps(report['statuses'])}")
    for example in report["error_examples"]:
        print(f"  error: {example}")
    print_server(report)


def _row(name: str, f: dict) -> str:
    if not f["requests"]:
        return ROW.format(name, 0, "0.0", "-", "-", "-", "-", "-", f["errors"])
    ratio = f["p99_ms"] / f["p50_ms"] if f["p50_ms"] else float("nan")
    return ROW.format(
        name, f["requests"], f"{f['rps']:.1f}", f"{f['p50_ms']:.1f}", f"{f['p95_ms']:.1f}",
        f"{f['p99_ms']:.1f}", f"{f['max_ms']:.1f}", f"{ratio:.1f}", f["errors"],
    )  # fmt: skip


def print_server(report: dict) -> None:
    cpu, server = report["cpu"], report["server"]
    print(
        f"CPU s in {cpu['wall_s']} s: server {cpu.get('server', '-')}, client {cpu['client']}, "
        f"other {cpu.get('other', '-')} (machine {cpu['machine']}, "
        f"{report['machine']['cpu_count']} CPUs)"
    )
    lag = report["client_loop_lag_ms"]
    print(f"client event-loop lag (ms): p50 {lag['p50']}, p99 {lag['p99']}, max {lag['max']}")
    if not server:
        return
    print(
        f"server RSS: {server['rss_mib']} MiB now, {server['peak_rss_mib']} MiB peak "
        f"({len(server['processes'])} processes)"
    )
    timed = server["self_timed_ms"]
    line = ", ".join(f"{e} p50 {s['p50']} / p99 {s['p99']}" for e, s in timed.items() if s)
    print(f"server's own time (ms, access log): {line}")


def write_report(report: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}\n", flush=True)


COMPARE = "{:>7}{:>10}{:>9}{:>10}{:>10}{:>10}{:>10}{:>9}{:>8}{:>10}{:>12}"


def print_comparison(reports: list[dict]) -> None:
    print("Comparison (all endpoints)")
    print(COMPARE.format("workers", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                         "p99/p50", "errors", "RSS MiB", "server CPU"))  # fmt: skip
    for r in reports:
        o, cpu = r["overall"], r["cpu"]
        busy = f"{cpu['server'] / cpu['wall_s']:.2f} cores" if cpu.get("server") else "-"
        print(COMPARE.format(
            r["workers"], o["requests"], f"{o['rps']:.1f}", f"{o.get('p50_ms', 0):.1f}",
            f"{o.get('p95_ms', 0):.1f}", f"{o.get('p99_ms', 0):.1f}", f"{o.get('max_ms', 0):.1f}",
            f"{o['p99_over_p50']}", o["errors"], r["server"].get("rss_mib", "-"), busy,
        ))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
