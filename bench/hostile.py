"""Replay the hostile review (issue 19) against a real server on loopback: one line per attack,
OK or what was found.

It builds a private index of tests/fixtures/corpus in a temporary folder, serves it with an API
key, and attacks it the way the review did: cleaning losses, impossible dates, metrics growth,
the Host header, /docs offline, oversized and malformed bodies, feedback floods, the corpus
uploads land in, titles, HEAD, duplicate fields, a delete killed half-way, version pile-up, a big
upload beside a small one, a year in the future. Nothing outside the temporary folder changes.

    .venv/bin/python bench/hostile.py [--keep]    # exit status 1 when any attack found something
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency import free_port, reformqa_executable, wait_ready

ROOT = Path(__file__).resolve().parent.parent
KEY = "hostile-key"
AUTH = {"X-API-Key": KEY}
Attack = Callable[["Target"], str | None]  # None when it held, else the finding
ATTACKS: list[tuple[str, Attack]] = []


def attack(name: str) -> Callable[[Attack], Attack]:
    def register(fn: Attack) -> Attack:
        ATTACKS.append((name, fn))
        return fn

    return register


class Target:
    """A served private index: its URL, corpus and data folders, and how to restart it."""

    def __init__(self, work: Path, corpus: Path, data: Path, **env: str) -> None:
        self.work, self.corpus, self.data, self.env = work, corpus, data, env
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self, *, with_corpus_flag: bool = True) -> None:
        port = free_port()
        corpus = ["--corpus", str(self.corpus)] if with_corpus_flag else []
        log = open(self.work / f"server-{port}.log", "w+")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            [reformqa_executable(), "serve", "--port", str(port), "--data-dir", str(self.data),
             *corpus],
            cwd=self.work, stdout=subprocess.DEVNULL, stderr=log,
            env={**os.environ, "REFORMQA_API_KEYS": KEY, **self.env},
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        wait_ready(self.url, self.process, log)

    def stop(self, kill: bool = False) -> None:
        if self.process is not None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(timeout=30)

    def add(self, text: str, **fields: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/documents", json={"text": text, **fields}, headers=AUTH, timeout=300
        )

    def doc_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = httpx.get(
                f"{self.url}/v1/documents", params={"offset": offset, "limit": 200}, headers=AUTH
            )
            items = page.json()["items"]
            ids |= {d["id"] for d in items}
            offset += len(items)
            if not items or offset >= page.json()["total"]:
                return ids


def _problem(reply: httpx.Response, status: int, slug: str = "", says: str = "") -> str | None:
    kind = reply.headers.get("content-type", "")
    body = reply.text[:160]
    if reply.status_code != status or "problem+json" not in kind:
        return f"got {reply.status_code} {kind}: {body}"
    if slug and not reply.json().get("type", "").endswith(slug):
        return f"got type {reply.json().get('type')}"
    return None if says in reply.json().get("detail", "") else f"detail says {body}"


@attack("1 cleaning: a Markdown file ending in a bullet list keeps its figures")
def bullet_list(t: Target) -> str | None:
    text = "# Shops\n\nThe province reported.\n\n- Province A: 17 one-stop shops opened\n" \
        "- Province B: 9 one-stop shops opened\n"  # fmt: skip
    reply = t.add(text, id="hostile_list")
    values = sorted(f["value"] for f in reply.json().get("figures", []))
    return None if values == [9, 17] else f"{reply.status_code}, figures {values}"


@attack("1 cleaning: 2,000 alternating short lines are kept, not cut to one letter")
def short_lines(t: Target) -> str | None:
    reply = t.add("\n".join(["a b", "c d"] * 1_000), id="hostile_lines")
    if reply.status_code != 201:
        return f"{reply.status_code}: {reply.text[:120]}"
    kept = httpx.get(f"{t.url}/v1/documents/hostile_lines", headers=AUTH).json()["document"]
    lines = kept["text"].count("\n\n") + 1
    return None if lines == 2_000 else f"stored {lines:,} lines of 2,000"


@attack("2 dates: impossible dates and bad YAML tags get 422 naming the field")
def impossible_dates(t: Target) -> str | None:
    for value in ("2024-02-30", "2024-13-01", '!!int "abc"', '!!timestamp "garbage"'):
        found = _problem(t.add(f"---\ndate: {value}\n---\nBody."), 422, "bad-document", "'date'")
        if found:
            return f"date: {value}: {found}"
    return None


@attack("2 dates: index build names the file and the field, exit 2")
def build_dates(t: Target) -> str | None:
    corpus = t.work / "bad-corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "feb30.md").write_text("---\ndate: 2024-02-30\n---\nThe council met.")
    run = subprocess.run(
        [reformqa_executable(), "index", "build", "--corpus", str(corpus), "--data-dir",
         str(t.work / "bad-data")], capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    said = run.stderr.strip()
    ok = run.returncode == 2 and "feb30.md" in said and "'date'" in said
    return None if ok else f"exit {run.returncode}: {said[-160:]}"


@attack("3 /metrics: 2,000 made-up methods do not grow it")
def metrics_growth(t: Target) -> str | None:
    before = len(httpx.get(f"{t.url}/metrics").content)
    with httpx.Client(base_url=t.url) as client:
        for i in range(2000):
            client.request(f"X{i:05d}", f"/made/up/{i}")
    after = len(httpx.get(f"{t.url}/metrics").content)
    return None if after - before < 10_000 else f"{before:,} -> {after:,} bytes"


@attack("4 Host header: /v1/documents/ never redirects to the caller's host")
def host_header(t: Target) -> str | None:
    for method in ("GET", "DELETE"):
        reply = httpx.request(method, f"{t.url}/v1/documents/", headers={"Host": "evil.example",
                              **AUTH})  # fmt: skip
        if "evil.example" in reply.headers.get("location", ""):
            return f"{method}: Location {reply.headers['location']}"
        if "problem+json" not in reply.headers.get("content-type", "") and reply.is_error:
            return f"{method}: {reply.status_code} {reply.headers.get('content-type')}"
    return None


@attack("5 /docs: the page and its assets come from this server only")
def docs_offline(t: Target) -> str | None:
    page = httpx.get(f"{t.url}/docs")
    outside = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", page.text)
    outside += re.findall(r"""["'](https?://(?!127\.0\.0\.1)[^"']+\.(?:js|css|png))""", page.text)
    if page.status_code != 200 or outside:
        return f"{page.status_code}, loads {sorted(set(outside))[:3]}"
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)""", page.text)
    broken = [a for a in assets if httpx.get(f"{t.url}{a}").status_code != 200]
    return f"assets missing: {broken}" if broken or not assets else None


def _raw(t: Target, method: str, path: str, headers: dict, chunks: Iterator[bytes]) -> tuple:
    host, port = t.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request(method, path, body=chunks, headers=headers, encode_chunked=True)
        reply = conn.getresponse()
        return reply.status, reply.getheader("content-type", ""), reply.read()[:200]
    except (ConnectionError, http.client.HTTPException) as exc:  # refused mid-body: say so
        return 0, type(exc).__name__, b""
    finally:
        conn.close()


@attack("6 errors: an oversized body sent chunked gets 413")
def chunked_too_large(t: Target) -> str | None:
    for path in ("/v1/ask", "/v1/documents"):
        body = (b'{"question": "' + b"x" * 65_536 for _ in range(64))  # 4 MiB, no length
        status, kind, text = _raw(t, "POST", path, {"Content-Type": "application/json", **AUTH},
                                  body)  # fmt: skip
        if status != 413 or "problem+json" not in kind:
            return f"{path}: {status} {kind} {text[:80]!r}"
    return None


@attack("6 errors: uploads over the limit get 413, ASCII or multibyte")
def upload_sizes(t: Target) -> str | None:
    for text in ("x" * 1_000_001, "đ" * 500_001):
        found = _problem(t.add(text), 413, "body-too-large")
        if found:
            return f"{len(text):,} characters of {text[0]!r}: {found}"
    return None


@attack("6 errors: invalid UTF-8 and deep nesting are malformed-json")
def malformed_json(t: Target) -> str | None:
    for body in (b'{"question": "caf\xe9"}', b"[" * 100_000, b'{"a":' * 50_000):
        for path in ("/v1/ask", "/v1/feedback", "/v1/documents"):
            reply = httpx.post(f"{t.url}{path}", content=body, headers={
                "Content-Type": "application/json", **AUTH})  # fmt: skip
            found = _problem(reply, 400, "malformed-json")
            if found:
                return f"{path} {body[:12]!r}: {found}"
    return None


@attack("7 feedback: a flood is rate-limited and its storage capped")
def feedback_flood(t: Target) -> str | None:
    statuses: dict[int, int] = {}
    rating = {"rating": "down", "question": "q", "answer": "a", "comment": "z" * 1900}
    with httpx.Client(base_url=t.url) as client:
        for _ in range(600):
            status = client.post("/v1/feedback", json=rating).status_code
            statuses[status] = statuses.get(status, 0) + 1
    db = t.data / "feedback.sqlite3"
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    if not statuses.get(429):
        return f"no 429 in 600 posts: {statuses}, {size:,} bytes stored"
    return None if size < 5_000_000 else f"{statuses}, {size:,} bytes stored"


@attack("8 uploads: land in the corpus the index was built from")
def upload_corpus(t: Target) -> str | None:
    other = Target(t.work, t.corpus, t.data, **t.env)
    t.stop()
    try:
        other.start(with_corpus_flag=False)  # cwd is the work folder: ./docs_corpus is not there
        reply = other.add("The district opened 4 new counters.", id="hostile_where")
        if reply.status_code != 201:
            return f"{reply.status_code}: {reply.text[:120]}"
        if not any(t.corpus.glob("hostile_where.*")):
            return f"not written to {t.corpus}"
        return None
    finally:
        other.stop()
        t.start()


@attack("9 titles: a 900 KB front-matter title gets 422")
def long_title(t: Target) -> str | None:
    return _problem(t.add("---\ntitle: " + "t" * 900_000 + "\n---\nBody."), 422, says="title")


@attack("9 HEAD: answered on every GET route")
def head_routes(t: Target) -> str | None:
    for path in ("/healthz", "/readyz", "/metrics", "/v1/documents", "/v1/figures", "/docs",
                 "/openapi.json", f"/v1/documents/{sorted(t.doc_ids())[0]}"):  # fmt: skip
        reply = httpx.head(f"{t.url}{path}")
        if reply.status_code != 200 or reply.content:
            return f"HEAD {path}: {reply.status_code}"
    return None


@attack("9 multipart: a duplicated id field is refused")
def duplicate_id(t: Target) -> str | None:
    reply = httpx.post(
        f"{t.url}/v1/documents", headers=AUTH,
        data={"id": ["dup_a", "dup_b"]}, files={"file": ("d.txt", b"Ten counters opened.")},
    )  # fmt: skip
    return _problem(reply, 422, says="id")


@attack("9 killed delete: after kill -9 mid-delete and a restart, listing and file agree")
def killed_delete(t: Target) -> str | None:
    for delay in (0.2, 0.6, 1.0):
        doc_id = f"hostile_half_deleted_{int(delay * 10)}"
        t.add("The ward trained 31 clerks.", id=doc_id)
        url = f"{t.url}/v1/documents/{doc_id}"
        deleting = threading.Thread(target=_delete_quietly, args=(url,))
        deleting.start()  # fmt: skip
        time.sleep(delay)
        t.stop(kill=True)
        deleting.join()
        t.start()
        listed, kept = doc_id in t.doc_ids(), any(t.corpus.glob(f"{doc_id}.*"))
        if listed != kept:
            return f"killed after {delay} s: listed={listed}, file kept={kept}"
    return None


def _delete_quietly(url: str) -> None:
    with contextlib.suppress(httpx.TransportError):  # the server is killed under it
        httpx.delete(url, headers=AUTH, timeout=60)


@attack("9 versions: a burst of 12 writes leaves a bounded number of index versions")
def version_pile_up(t: Target) -> str | None:
    for i in range(12):
        t.add(f"Burst note {i}: the office opened {i + 2} counters.", id=f"hostile_burst_{i}")
    versions = [p for p in (t.data / "versions").iterdir() if p.is_dir()]
    return None if len(versions) <= 4 else f"{len(versions)} versions on disk"


@attack("9 writes: a small upload beside a 985 KB one is answered, not left hanging")
def big_beside_small(t: Target) -> str | None:
    big = " ".join(
        f"Clause {i} lists {i % 90 + 3} duties of the ward office." for i in range(20_000)
    )
    thread = threading.Thread(target=t.add, args=(big[:985_000],), kwargs={"id": "hostile_big"})
    thread.start()
    time.sleep(1.0)
    started = time.monotonic()
    reply = t.add("The commune opened 3 kiosks.", id="hostile_small")
    waited = time.monotonic() - started
    thread.join()
    if reply.status_code == 201 or (reply.status_code == 503 and "retry-after" in reply.headers):
        return None
    return f"{reply.status_code} after {waited:.0f} s"


@attack("9 as_of: 'opened 2071 service counters' is not dated 2071")
def future_year(t: Target) -> str | None:
    reply = t.add("---\ndate: 2024-05-01\n---\nThe city opened 2071 service counters and 15 "
                  "kiosks.", id="hostile_2071")  # fmt: skip
    dates = [f["as_of"] for f in reply.json().get("figures", [])]
    return None if dates and not any(d.startswith("2071") for d in dates) else f"as_of {dates}"


def replay(target: Target) -> int:
    findings = 0
    for name, fn in ATTACKS:
        try:
            found = fn(target)
        except Exception as exc:  # an attack that breaks the bench is a finding too
            found = f"{type(exc).__name__}: {exc}"
        alive = httpx.get(f"{target.url}/healthz", timeout=10).status_code == 200
        found = found or (None if alive else "the server is down afterwards")
        findings += bool(found)
        print(f"{'OK  ' if not found else 'FAIL'}  {name}" + (f": {found}" if found else ""))
    return findings


@contextmanager
def private_target(keep: bool) -> Iterator[Target]:
    work = Path(tempfile.mkdtemp(prefix="reformqa-hostile-"))
    corpus, data = work / "corpus", work / "data"
    shutil.copytree(ROOT / "tests" / "fixtures" / "corpus", corpus)
    subprocess.run([reformqa_executable(), "index", "build", "--corpus", str(corpus),
                    "--data-dir", str(data)], check=True, capture_output=True)  # fmt: skip
    # writes unlimited here (the bench writes in bursts); the feedback limit stays at its default
    target = Target(
        work, corpus, data, REFORMQA_MAX_UPLOAD_BYTES="1000000", REFORMQA_WRITE_RATE="0"
    )
    target.start()
    try:
        yield target
    finally:
        target.stop()
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    with private_target(args.keep) as target:
        findings = replay(target)
    print(f"{len(ATTACKS) - findings} of {len(ATTACKS)} attacks held")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
