"""Shared fixtures: the real model, loaded once; a fixture-corpus index; servers on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.builder import build_index
from index.embedder import Embedder
from index.settings import Settings
from index.store import DataDir, write_manifest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
DOCS_CORPUS = ROOT / "docs_corpus"
REFORMQA = str(Path(sys.executable).with_name("reformqa"))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


def _built_index(tmp_path_factory, embedder: Embedder, corpus: Path) -> Settings:
    data_dir = tmp_path_factory.mktemp(f"{corpus.name}-index")
    settings = Settings.from_env(environ={}, corpus_dir=corpus, data_dir=data_dir)
    build_index(settings, embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory, embedder) -> Settings:
    """A built index of tests/fixtures/corpus (read-only for tests: copy it to change it)."""
    return _built_index(tmp_path_factory, embedder, FIXTURE_CORPUS)


def copy_index(settings: Settings, folder: Path) -> Settings:
    """A private copy of an index and its corpus, its manifest pointing at the copied corpus."""
    shutil.copytree(settings.corpus_dir, folder / "corpus")
    shutil.copytree(settings.data_dir, folder / "data", symlinks=True)
    data_dir = DataDir(folder / "data")
    manifest = data_dir.read_manifest().model_copy(update={"corpus_dir": str(folder / "corpus")})
    write_manifest(data_dir.require_current(), manifest)
    return settings.with_overrides(corpus_dir=folder / "corpus", data_dir=folder / "data")


@pytest.fixture
def writable_index(tmp_path, fixture_settings) -> Settings:
    """A private copy of the fixture index and corpus, free to break."""
    return copy_index(fixture_settings, tmp_path)


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder) -> Settings:
    """The real corpus, built with the real model (slow tests only)."""
    return _built_index(tmp_path_factory, embedder, DOCS_CORPUS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REFORMQA, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        cwd=ROOT,
    )


class Server:
    def __init__(self, base_url: str, process: subprocess.Popen, log: Path | None = None):
        self.base_url = base_url
        self.process = process
        self.log = log

    def wait_ready(self, timeout: float = 120, in_a_row: int = 1) -> None:
        """Until /readyz answers 200 `in_a_row` times: with several workers one ready worker
        answers for itself only, and the kernel hands each connection to any of them."""
        deadline = time.monotonic() + timeout
        ready = 0
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "server exited during start-up"
            try:
                status = httpx.get(f"{self.base_url}/readyz", timeout=2).status_code
            except httpx.TransportError:
                status = None
            ready = ready + 1 if status == 200 else 0
            if ready >= in_a_row:
                return
            time.sleep(0.2 if ready == 0 else 0.02)
        raise TimeoutError("server never became ready")


KEY = "test-key-1"  # the API key of servers started by start_server


def start_server(settings: Settings, *extra: str, corpus: bool = True, **env: str) -> Server:
    """`reformqa serve` over `settings`' index and corpus (`corpus=False`: no --corpus, so the
    server finds it in the index), accepting writes with KEY."""
    port = free_port()
    log_path = Path(settings.data_dir).parent / f"server-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the process owns it until it ends
    where = ["--corpus", str(settings.corpus_dir)] if corpus else []
    environ = {k: v for k, v in os.environ.items() if corpus or k != "REFORMQA_CORPUS_DIR"}
    process = subprocess.Popen(
        [REFORMQA, "serve", "--port", str(port), "--data-dir", str(settings.data_dir),
         *where, *extra],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
        env={**environ, "REFORMQA_API_KEYS": KEY, **env},
    )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    server.settings = settings
    server.wait_ready(in_a_row=40 if "--workers" in extra else 1)
    return server


def stop_server(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=30)


@pytest.fixture(scope="session")
def server(fixture_settings, tmp_path_factory) -> Iterator[Server]:
    """`reformqa serve` on a free loopback port, over the fixture index; its log in a file (a
    pipe nobody reads would fill up and stall the server)."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed after the process ends
    process = subprocess.Popen(
        [REFORMQA, "serve", "--port", str(port), "--data-dir", str(fixture_settings.data_dir)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    srv = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        srv.wait_ready()
        yield srv
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
