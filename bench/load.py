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

With --writes, 5% of the traffic are writes (the reads keep their proportions in the other 95%):

    POST   /v1/documents  {"text": a generated report with figures, "title", "id"}    3%
    DELETE /v1/documents/{id}  (a document this bench added, never the corpus's own)  2%

The server then runs with a generated API key over private temporary copies of the data dir
and the corpus folder (the writes change both; the originals are never touched), removed at
the end. The server makes writes one at a time: a 503 "busy" or a 429 is counted as refused
(with or without a Retry-After header), not as an error. After the run it checks that nothing
was lost: every document the bench added and did not delete is listed by GET /v1/documents,
every deleted one is gone, the corpus's own are all there, the corpus folder holds as many
documents as the index lists, and /readyz is 200 ("consistency: OK", or the differences).

Every response is counted; any other non-2xx status or a transport error (timeouts included)
is an error, and the first few are kept as examples. It prints, overall and per endpoint:
requests, throughput (req/s, completed requests over the wall time of the run), latency
p50/p95/p99/max in ms as the client saw it (queueing included), errors, refusals, the p99/p50
ratio (target: p99 under 10x p50, zero errors), the server's own time per request (from its
access log, by request id), the RSS of the server and its worker processes (sampled every 2 s
through the run: first, max, last, and the slope in MiB/minute by least squares over the
samples after the first 10% of the run, near 0 when memory is flat), the CPU the server, this
client and other processes used during the run, and how late this client's own event loop ran
(the client shares the machine with the server: on a small machine its CPU and lag are part of
every latency). It writes the same as JSON to bench/results/load-w{N}.json and ends with a
comparison table over the worker counts. It reports; it never asserts.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--workers 1 2 4]
                                   [--data-dir data] [--corpus docs_corpus] [--writes]
                                   [--env KEY=VALUE ...] [--url URL] [--seed 0]

--env sets a variable in the server's environment (repeatable), e.g. --env
REFORMQA_REQUEST_THREADS=2. With --url it loads an already running server instead (no server
started, no RSS or server log, no --writes: they would change that server's documents) and
writes bench/results/load-url.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import secrets
import shutil
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

MEMORY_EVERY_S = 2.0
MEMORY_SLOPE_AFTER = 0.1  # the slope leaves out the first 10% of the run (caches filling)

MIX = {"ask": 40, "search": 40, "documents": 10, "document": 5, "figures": 5}
WRITE_MIX = {"add": 3, "delete": 2}  # with --writes; the reads share the other 95%
ENDPOINTS = [*MIX, *WRITE_MIX]
ROUTES = {  # method and route template, as the server's access log names them
    ("POST", "/v1/ask"): "ask",
    ("POST", "/v1/search"): "search",
    ("GET", "/v1/documents"): "documents",
    ("GET", "/v1/documents/{doc_id}"): "document",
    ("GET", "/v1/figures"): "figures",
    ("POST", "/v1/documents"): "add",
    ("DELETE", "/v1/documents/{doc_id}"): "delete",
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
    doc_id: str | None = None  # the document a write adds or deletes


@dataclass
class Tally:
    """What the clients saw: latencies by endpoint, statuses, errors, refusals (a write turned
    away for now: 503 busy or 429) and a few error examples."""

    latency_ns: dict[str, list[int]] = field(default_factory=lambda: {e: [] for e in ENDPOINTS})
    statuses: dict[str, Counter] = field(default_factory=lambda: {e: Counter() for e in ENDPOINTS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDPOINTS, 0))
    refused_without_retry_after: int = 0
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

    def refuse(self, endpoint: str, retry_after: bool) -> None:
        self.refused[endpoint] += 1
        self.refused_without_retry_after += 0 if retry_after else 1

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
        with serve(args, workers) as server:
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
    parser.add_argument("--corpus", type=Path, default=Path("docs_corpus"), help="./docs_corpus")
    parser.add_argument("--writes", action="store_true", help="add and delete documents too")
    parser.add_argument(
        "--env", type=_env_pair, action="append", default=[], metavar="KEY=VALUE",
        help="a variable for the server's environment (repeatable)",
    )  # fmt: skip
    parser.add_argument("--url", help="load this running server instead of starting one")
    parser.add_argument("--seed", type=int, default=0, help="traffic mix seed (0)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--clients and --seconds must be positive, --warmup not negative")
    if args.url and (args.workers or args.writes or args.env):
        parser.error("--workers, --writes and --env start servers; with --url, leave them out")
    if args.workers and min(args.workers) < 1:
        parser.error("--workers must be at least 1")
    args.workers = args.workers or [1]
    args.data_dir, args.corpus = args.data_dir.resolve(), args.corpus.resolve()
    args.env = dict(args.env)
    return args


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen
    workers: int
    log_path: Path
    corpus: Path  # the folder it serves (a private copy with --writes)
    api_key: str | None  # for writes


@contextmanager
def serve(args: argparse.Namespace, workers: int) -> Iterator[Server]:
    """A ready `reformqa serve --workers N` with args.env on a free loopback port, stopped on
    exit. With --writes, it serves private copies of the data dir and the corpus, with an API
    key (a generated one unless --env sets REFORMQA_API_KEYS)."""
    env = dict(args.env)
    if args.writes:
        env.setdefault("REFORMQA_API_KEYS", secrets.token_urlsafe(16))
    key = env["REFORMQA_API_KEYS"].split(",")[0].strip() if args.writes else None
    with (
        private_copies(args.data_dir, args.corpus, args.writes) as (data_dir, corpus),
        start_server(data_dir, corpus, workers, env) as server,
    ):
        server.api_key = key
        yield server


@contextmanager
def private_copies(data_dir: Path, corpus: Path, copy: bool) -> Iterator[tuple[Path, Path]]:
    """The data dir and the corpus as they are, or (`copy`) temporary copies the server may
    change, removed on exit. The `current` link is relative, so the copy reads its own."""
    if not copy:
        yield data_dir, corpus
        return
    with tempfile.TemporaryDirectory(prefix="reformqa-load-") as tmp:
        ignore = shutil.ignore_patterns(".build.lock", ".current-*")
        shutil.copytree(data_dir, Path(tmp) / "data", symlinks=True, ignore=ignore)
        shutil.copytree(corpus, Path(tmp) / "corpus")
        print(f"  private copies of {data_dir} and {corpus} in {tmp}", flush=True)
        relocate_corpus(Path(tmp) / "data", corpus, Path(tmp) / "corpus")
        yield Path(tmp) / "data", Path(tmp) / "corpus"


def relocate_corpus(data_copy: Path, corpus: Path, corpus_copy: Path) -> None:
    """Point the copied index's manifest at the corpus copy: the server takes writes only into
    the corpus folder its index was built from (the manifest's corpus_dir)."""
    from index.store import DataDir, read_manifest, write_manifest

    version = DataDir(data_copy).require_current()
    manifest = read_manifest(version)
    built_from = (ROOT / manifest.corpus_dir).resolve()  # relative to the server's cwd, ROOT
    if built_from != corpus:
        print(f"  note: the index was built from {built_from}, not {corpus}", flush=True)
    write_manifest(version, manifest.model_copy(update={"corpus_dir": str(corpus_copy)}))


@contextmanager
def start_server(data_dir: Path, corpus: Path, workers: int, env: dict) -> Iterator[Server]:
    """Its log (one JSON line per request) is kept in /tmp for reading afterwards."""
    port = free_port()
    command = [reformqa_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data_dir), "--corpus", str(corpus), "--workers", str(workers)]
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the server's lifetime
        "w+", prefix=f"reformqa-load-w{workers}-", suffix=".log", delete=False
    )
    shown = " ".join(f"{k}={'***' if k == 'REFORMQA_API_KEYS' else v}" for k, v in env.items())
    print(f"starting: {shown} {' '.join(command)}\n  log: {log.name}", flush=True)
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, **env}
    )
    server = Server(f"http://127.0.0.1:{port}", process, workers, Path(log.name), corpus, None)
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


def traffic_mix(writes: bool) -> dict[str, float]:
    """Percent of requests by endpoint: MIX, or with writes MIX scaled into what WRITE_MIX
    leaves."""
    if not writes:
        return dict(MIX)
    reads = (100 - sum(WRITE_MIX.values())) / 100
    return {e: round(w * reads, 2) for e, w in MIX.items()} | WRITE_MIX


@dataclass
class Ledger:
    """The documents this bench added and deleted, shared by every client of a run. `live`:
    added (201) and neither deleted nor being deleted; `unsure`: a write whose outcome the
    bench did not learn (a transport error, an unexpected status)."""

    prefix: str = field(default_factory=lambda: f"load-{secrets.token_hex(4)}")
    made: int = 0
    added: int = 0
    live: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    unsure: set[str] = field(default_factory=set)

    def new_id(self) -> str:
        self.made += 1
        return f"{self.prefix}-{self.made}"

    def claim(self, rng: random.Random) -> str:
        """A live document to delete, no longer live (so no other client deletes it too)."""
        return self.live.pop(rng.randrange(len(self.live)))

    def settle(self, call: Call, outcome: str) -> None:
        """After a write: `outcome` is "done", "refused" or "unknown"."""
        if outcome == "unknown":
            self.unsure.add(call.doc_id)
        elif call.endpoint == "add" and outcome == "done":
            self.added += 1
            self.live.append(call.doc_id)
        elif call.endpoint == "delete":
            (self.deleted.add if outcome == "done" else self.live.append)(call.doc_id)


@dataclass
class Traffic:
    mix: dict[str, float]
    doc_ids: list[str]  # the corpus's own documents, read by GET /v1/documents/{id}
    ledger: Ledger | None  # with --writes


def next_call(rng: random.Random, traffic: Traffic) -> Call:
    endpoint = rng.choices(list(traffic.mix), weights=list(traffic.mix.values()))[0]
    if endpoint == "document" and not traffic.doc_ids:
        endpoint = "documents"
    if endpoint in WRITE_MIX:
        return write_call(rng, endpoint, traffic.ledger)
    doc_ids = traffic.doc_ids
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


def write_call(rng: random.Random, endpoint: str, ledger: Ledger) -> Call:
    """A delete of a document this bench added, or (none left to delete) an add."""
    if endpoint == "delete" and ledger.live:
        doc_id = ledger.claim(rng)
        return Call("delete", "DELETE", f"/v1/documents/{doc_id}", doc_id=doc_id)
    doc_id = ledger.new_id()
    return Call("add", "POST", "/v1/documents", body=new_document(rng, doc_id), doc_id=doc_id)


def new_document(rng: random.Random, doc_id: str) -> dict:
    """A short report in the corpus's manner, a few paragraphs stating figures."""
    year, place = rng.randint(2019, 2025), rng.choice(["Hanoi", "Da Nang", "Can Tho", "Hue"])
    paragraphs = [
        f"In {year}, {place} cut {rng.randint(10, 900)} administrative procedures and moved "
        f"{rng.randint(100, 3000)} public services online.",
        f"By the end of {year}, {rng.randint(1, 9)}.{rng.randint(0, 9)} million ID cards had "
        f"been issued and {rng.randint(60, 99)}% of procedure records were resolved on time.",
        f"The provincial steering committee met {rng.randint(2, 12)} times and abolished "
        f"{rng.randint(1, 40)} business regulations; {rng.randint(5, 80)} communes were merged.",
    ]
    title = f"{place} reform report {doc_id}"
    return {"text": "\n\n".join(paragraphs), "title": title, "id": doc_id}


async def send(
    client: httpx.AsyncClient, call: Call, request_id: str, tally: Tally, ledger: Ledger | None
) -> None:
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
        if call.doc_id is not None:
            ledger.settle(call, "unknown")
        return
    elapsed = time.perf_counter_ns() - started
    outcome = record_response(call, response, elapsed, tally)
    if call.doc_id is not None:
        ledger.settle(call, outcome)


def record_response(call: Call, response: httpx.Response, elapsed: int, tally: Tally) -> str:
    """Tallies one response; returns "done", "refused" (503 busy or 429) or "unknown"."""
    status = response.status_code
    refused = status == 429 or (status == 503 and _problem_type(response).endswith("/busy"))
    error = None
    if refused:
        tally.refuse(call.endpoint, "retry-after" in response.headers)
    elif not response.is_success:
        snippet = " ".join(response.text.split())[:200]
        error = f"{call.method} {call.path}: {status} {snippet}"
    tally.record(call.endpoint, elapsed, str(status), error)
    return "refused" if refused else "done" if response.is_success else "unknown"


def _problem_type(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def causes(exc: BaseException) -> str:
    """The exception and what it was raised from, e.g. 'ReadError <- ConnectionResetError: ...'."""
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 6:
        chain.append(f"{type(seen).__name__}: {seen}" if str(seen) else type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(chain)


async def one_client(
    client: httpx.AsyncClient, rng: random.Random, traffic: Traffic, until: float, tag: str
) -> Tally:
    tally, n = Tally(), 0
    while time.monotonic() < until:
        await send(client, next_call(rng, traffic), f"{tag}-{n}", tally, traffic.ledger)
        n += 1
    return tally


async def run_clients(
    client: httpx.AsyncClient, clients: int, seconds: float, traffic: Traffic, phase: str, seed
) -> tuple[Tally, float]:
    """C clients for `seconds`; requests in flight at the end are waited for. Returns the merged
    tally and the wall time from the start to the last response."""
    started = time.monotonic()
    until = started + seconds
    tasks = [
        one_client(client, random.Random(f"{seed}-{phase}-{i}"), traffic, until, f"{phase}-{i}")
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
        for endpoint in ENDPOINTS:
            merged.latency_ns[endpoint] += tally.latency_ns[endpoint]
            merged.statuses[endpoint] += tally.statuses[endpoint]
            merged.errors[endpoint] += tally.errors[endpoint]
            merged.refused[endpoint] += tally.refused[endpoint]
        merged.refused_without_retry_after += tally.refused_without_retry_after
        room = MAX_ERROR_EXAMPLES - len(merged.examples)
        merged.examples += tally.examples[: max(room, 0)]
    return merged


async def listed_ids(client: httpx.AsyncClient) -> list[str]:
    """Every document id GET /v1/documents lists, page by page."""
    ids: list[str] = []
    while True:
        response = await client.get("/v1/documents", params={"offset": len(ids), "limit": 200})
        response.raise_for_status()
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        if not page["items"] or len(ids) >= page["total"]:
            return ids


# --- one measurement -------------------------------------------------------------------------


def measure(base_url: str, args: argparse.Namespace, server: Server | None) -> dict:
    return asyncio.run(_measure(base_url, args, server))


async def _measure(base_url: str, args: argparse.Namespace, server: Server | None) -> dict:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    headers = {"X-API-Key": server.api_key} if server and server.api_key else None
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=timeout, headers=headers
    ) as client:
        doc_ids = await listed_ids(client)
        traffic = Traffic(traffic_mix(args.writes), doc_ids, Ledger() if args.writes else None)
        at_start = (len(doc_ids), corpus_count(server))
        readiness = (await client.get("/readyz")).json()
        warm, warm_s = await run_clients(
            client, args.clients, args.warmup, traffic, "warm", args.seed
        )
        print(f"  warm-up: {warm.count()} requests in {warm_s:.1f} s", flush=True)
        tally, elapsed, run_facts = await timed_run(client, args, traffic, server)
        consistency = None
        if traffic.ledger is not None:
            consistency = await check_consistency(client, traffic, server, at_start)
    report = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "target": base_url,
        "workers": server.workers if server else None,
        "clients": args.clients,
        "seconds": args.seconds,
        "elapsed_s": round(elapsed, 2),
        "seed": args.seed,
        "mix_percent": traffic.mix,
        "server_env": {k: "***" if k == "REFORMQA_API_KEYS" else v for k, v in args.env.items()},
        "index": {k: readiness.get(k) for k in ("model", "documents", "chunks", "built_at")},
        "warmup": {"requests": warm.count(), "errors": sum(warm.errors.values())},
        **summarize(tally, elapsed, traffic.mix),
        **run_facts,
        "consistency": consistency,
        "server": server_facts(server),
    }
    print_report(report)
    return report


async def timed_run(
    client: httpx.AsyncClient, args: argparse.Namespace, traffic: Traffic, server: Server | None
) -> tuple[Tally, float, dict]:
    """The timed run, with the CPU used, this client's loop lag and the server's memory."""
    cpu_before = cpu_counters(server)
    until = time.monotonic() + args.seconds
    lags = asyncio.create_task(loop_lag_ms(until))
    memory = asyncio.create_task(sample_memory(server, until))
    tally, elapsed = await run_clients(
        client, args.clients, args.seconds, traffic, "run", args.seed
    )
    facts = {
        "cpu": cpu_used(cpu_before, cpu_counters(server), elapsed),
        "client_loop_lag_ms": _percentiles(await lags),
        "memory": memory_trend(await memory, args.seconds),
    }
    return tally, elapsed, facts


async def sample_memory(server: Server | None, until: float) -> list[tuple[float, float]]:
    """(seconds into the run, RSS MiB of the server tree) every MEMORY_EVERY_S until `until`."""
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while server is not None and time.monotonic() < until:
        rss = (await asyncio.to_thread(tree_memory_mib, server.process.pid))["rss_mib"]
        samples.append((round(time.monotonic() - started, 1), rss))
        await asyncio.sleep(MEMORY_EVERY_S)
    return samples


def memory_trend(samples: list[tuple[float, float]], seconds: float) -> dict:
    """First, max and last RSS, and the least-squares slope (MiB/minute) over the samples after
    the first MEMORY_SLOPE_AFTER of the run: near 0 when memory is flat."""
    if not samples:
        return {}
    rss = [mib for _, mib in samples]
    later = [(t, mib) for t, mib in samples if t >= MEMORY_SLOPE_AFTER * seconds]
    slope = None
    if len(later) >= 3:
        t, mib = np.array(later).T
        slope = round(float(np.polyfit(t, mib, 1)[0]) * 60, 2)
    return {
        "every_s": MEMORY_EVERY_S,
        "first_mib": rss[0],
        "max_mib": max(rss),
        "last_mib": rss[-1],
        "slope_mib_per_min": slope,
        "slope_from_s": later[0][0] if later else None,
        "samples": [list(s) for s in samples],
    }


def corpus_count(server: Server | None) -> int | None:
    """Document files in the corpus folder the server writes to (what a rebuild would index)."""
    from index.loader import corpus_files

    return len(corpus_files(server.corpus)) if server is not None else None


async def check_consistency(
    client: httpx.AsyncClient, traffic: Traffic, server: Server | None, at_start: tuple
) -> dict:
    """After the writes: each document added and not deleted is listed, each deleted one is not,
    the corpus's own are all there, the corpus folder gained as many documents as the index,
    and /readyz is 200. Writes of unknown outcome are reported, not judged."""
    ledger, listed = traffic.ledger, set(await listed_ids(client))
    kept, ours = set(ledger.live), {i for i in listed if i.startswith(f"{ledger.prefix}-")}
    found = {
        "added": ledger.added,
        "deleted": len(ledger.deleted),
        "kept": len(kept),
        "missing": sorted(kept - listed),
        "not_deleted": sorted(ledger.deleted & listed),
        "corpus_missing": sorted(set(traffic.doc_ids) - listed),
        "unexpected": sorted(ours - kept - ledger.unsure),
        "unsure_listed": sorted(ledger.unsure & listed),
        "unsure_absent": sorted(ledger.unsure - listed),
        "listed_gain": len(listed) - at_start[0],
        "corpus_files_gain": None if server is None else corpus_count(server) - at_start[1],
        "readyz": (await client.get("/readyz")).status_code,
    }
    problems = [k for k in ("missing", "not_deleted", "corpus_missing", "unexpected") if found[k]]
    if found["corpus_files_gain"] not in (None, found["listed_gain"]):
        problems.append("corpus_files_gain")
    if found["readyz"] != 200:
        problems.append("readyz")
    found["ok"], found["problems"] = not problems, problems
    return found


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
    ms: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        endpoint = ROUTES.get((entry.get("method"), entry.get("route")))
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


def summarize(tally: Tally, elapsed: float, mix: dict[str, float]) -> dict:
    per_endpoint = {
        e: endpoint_figures(tally.latency_ns[e], tally.errors[e], tally.refused[e], elapsed)
        for e in mix
    }
    every = [ns for samples in tally.latency_ns.values() for ns in samples]
    refused = sum(tally.refused.values())
    overall = endpoint_figures(every, sum(tally.errors.values()), refused, elapsed)
    overall["refused_without_retry_after"] = tally.refused_without_retry_after
    ratio = overall["p99_ms"] / overall["p50_ms"] if overall.get("p50_ms") else None
    overall["p99_over_p50"] = round(ratio, 2) if ratio is not None else None
    overall["meets_target"] = bool(
        ratio is not None and ratio < TARGET_P99_OVER_P50 and overall["errors"] == 0
    )
    statuses = {e: dict(c) for e, c in tally.statuses.items() if e in mix}
    return {
        "overall": overall,
        "endpoints": per_endpoint,
        "statuses": statuses,
        "error_examples": tally.examples,
    }


def endpoint_figures(samples_ns: list[int], errors: int, refused: int, elapsed: float) -> dict:
    figures = {"requests": len(samples_ns), "rps": round(len(samples_ns) / elapsed, 2)}
    figures["errors"], figures["refused"] = errors, refused
    if samples_ns:
        stats = _percentiles([ns / 1e6 for ns in samples_ns])
        figures |= {f"{k}_ms": stats[k] for k in ("p50", "p95", "p99", "max")}
    return figures


# --- output ----------------------------------------------------------------------------------

ROW = "{:<11}{:>9}{:>9}{:>10}{:>10}{:>10}{:>10}{:>9}{:>8}{:>9}"


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
                     "p99/p50", "errors", "refused"))  # fmt: skip
    rows = [*report["endpoints"].items(), ("all", report["overall"])]
    for name, f in rows:
        print(_row(name, f))
    overall = report["overall"]
    verdict = "meets" if overall["meets_target"] else "misses"
    print(
        f"p99/p50 = {overall['p99_over_p50']}, errors = {overall['errors']}: {verdict} the target "
        f"(p99 < {TARGET_P99_OVER_P50:g}x p50, zero errors)"
    )
    if overall["refused"]:
        bare = overall["refused_without_retry_after"]
        print(
            f"refused (503 busy or 429; not errors): {overall['refused']}, with Retry-After: "
            f"{overall['refused'] - bare}, without: {bare}"
        )
    print(f"statuses: {json.dumps(report['statuses'])}")
    for example in report["error_examples"]:
        print(f"  error: {example}")
    print_server(report)
    print_memory(report["memory"])
    if report["consistency"] is not None:
        print_consistency(report["consistency"])


def _row(name: str, f: dict) -> str:
    if not f["requests"]:
        return ROW.format(name, 0, "0.0", "-", "-", "-", "-", "-", f["errors"], f["refused"])
    ratio = f["p99_ms"] / f["p50_ms"] if f["p50_ms"] else float("nan")
    return ROW.format(
        name, f["requests"], f"{f['rps']:.1f}", f"{f['p50_ms']:.1f}", f"{f['p95_ms']:.1f}",
        f"{f['p99_ms']:.1f}", f"{f['max_ms']:.1f}", f"{ratio:.1f}", f["errors"], f["refused"],
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


def print_memory(memory: dict) -> None:
    if not memory:
        return
    slope = "too few samples for a slope"
    if memory["slope_mib_per_min"] is not None:
        slope = f"slope {memory['slope_mib_per_min']} MiB/min (from {memory['slope_from_s']} s on)"
    print(
        f"server RSS over the run (every {memory['every_s']:g} s, {len(memory['samples'])} "
        f"samples): first {memory['first_mib']}, max {memory['max_mib']}, last "
        f"{memory['last_mib']} MiB; {slope}"
    )


def print_consistency(found: dict) -> None:
    print(
        f"writes: {found['added']} added, {found['deleted']} deleted, {found['kept']} kept; "
        f"listed +{found['listed_gain']}, corpus files +{found['corpus_files_gain']}, "
        f"/readyz {found['readyz']}"
    )
    if found["unsure_listed"] or found["unsure_absent"]:
        print(
            f"  writes of outcome unknown to the client (an error): {len(found['unsure_listed'])}"
            f" now listed, {len(found['unsure_absent'])} not"
        )
    if found["ok"]:
        print("consistency: OK")
        return
    print(f"consistency: NOT OK ({', '.join(found['problems'])})")
    for key in ("missing", "not_deleted", "corpus_missing", "unexpected"):
        if found[key]:
            print(f"  {key}: {found[key][:20]}{' ...' if len(found[key]) > 20 else ''}")


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
