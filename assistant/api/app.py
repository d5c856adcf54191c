"""App factory and lifespan: the index loads in the background; /readyz says when it is up."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from assistant.api.keys import show_optional_read_keys
from assistant.api.limits import RateLimits
from assistant.api.observe import (
    BodyLimit,
    HeadAsGet,
    Metrics,
    Observe,
    log_requests_as_json_lines,
)
from assistant.api.problems import install_problem_handlers
from assistant.api.routes import router, v1
from index.errors import IndexNotReady, ReformQAError
from index.settings import Settings
from index.store import DataDir, read_manifest
from index.tokens import seed_tiktoken_cache, use_tiktoken_cache

if TYPE_CHECKING:
    from assistant.api.uploads import Upload
    from index.updater import Change

log = logging.getLogger("reformqa.api")


class RetrieverSlot:
    """Holds the retriever and the assistant over the current index version once loaded, or
    the error that stopped them from loading.

    Every request checks which version is current: when a write (in this process or another
    worker) has published a new one, the first request to notice opens it, and requests still
    running finish on the version they started with."""

    def __init__(self) -> None:
        self._pair: tuple | None = None  # (retriever, assistant), replaced in one assignment
        self.error: ReformQAError | None = None
        self.loaded = threading.Event()
        self.settings: Settings | None = None
        self._swap = threading.Lock()
        self._compaction: subprocess.Popen | None = None

    @property
    def retriever(self):
        return self._pair[0] if self._pair else None

    def get(self):
        if self._pair is not None:
            self._follow_current()
            return self._pair[0]
        if self.error is not None:
            raise self.error
        raise IndexNotReady("the index is still loading; retry in a few seconds")

    def get_assistant(self):
        self.get()  # raises while loading or after a failed load
        return self._pair[1]

    def load(self, settings: Settings) -> None:
        from assistant.context import encoding
        from assistant.retriever import Retriever

        self.settings = settings
        _finish_interrupted_deletes(settings)
        try:
            retriever = Retriever.load(settings)
            retriever.warm_up()
            encoding("cl100k_base")  # tiktoken reads its file on first use: not on a request
            self._pair = _pair_over(retriever)
            log.info("index ready: %s", retriever.reader.version)
        except ReformQAError as exc:
            self.error = exc
            log.error("index not loaded: %s", exc)
        except Exception as exc:  # anything else must not leave /readyz saying "loading" forever
            log.exception("index failed to load")
            reason = type(exc).__name__
            self.error = IndexNotReady(f"the index failed to load ({reason}); see the log")
        finally:
            self.loaded.set()

    def add_document(self, upload: Upload) -> Change:
        from index.updater import add_document

        change = add_document(
            self.settings, self.get().embedder, upload.raw, upload.metadata, upload.doc_id,
            upload.suffix,
        )  # fmt: skip
        self._follow_current(wait=True)
        self._compact_past_max_segments()
        return change

    def remove_document(self, doc_id: str) -> Change:
        from index.updater import remove_document

        change = remove_document(self.settings, self.get().embedder, doc_id)
        self._follow_current(wait=True)
        return change

    def _compact_past_max_segments(self) -> None:
        """Each add writes one more segment; past `max_segments` they are merged by `reformqa
        index compact` in a child process (its own cores and memory: requests keep theirs), and
        the first request after it publishes serves the merged version. It runs at nice 10, so
        the scheduler gives requests the cores first."""
        segments = len(self._pair[0].reader.manifest.segments)
        if segments <= self.settings.max_segments:
            return
        if self._compaction is not None and self._compaction.poll() is None:
            return  # one is running; the next add past the limit starts another if needed
        command = ["nice", "-n", "10", sys.executable, "-m", "assistant.cli", "index", "compact"]
        env = {**os.environ, **self.settings.as_env()}
        with open(self.settings.data_dir / "compaction.log", "ab") as log_file:
            self._compaction = subprocess.Popen(
                command, env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        log.info("compacting %d segments (process %d)", segments, self._compaction.pid)

    def _follow_current(self, wait: bool = False) -> None:
        """Open the current version if it is not the one being served. Without `wait`, a
        request that finds another one already opening it goes on with the old version."""
        version = DataDir(self.settings.data_dir).current()
        if version is None or version == self._pair[0].reader.version:
            return
        if not self._swap.acquire(blocking=wait):
            return
        try:
            self._open(version)
        finally:
            self._swap.release()

    def _open(self, version) -> None:
        from assistant.retriever import Retriever
        from index.reader import IndexReader

        served = self._pair[0]
        if version == served.reader.version:
            return
        try:
            manifest = read_manifest(version)
            manifest.check_compatible(served.embedder.name)
            # the segments this version shares with the served one stay open: an add loads
            # only its own segment
            reader = IndexReader(version, manifest, served.settings.ann_nprobe, reuse=served.reader)
        except (OSError, ReformQAError) as exc:  # replaced or removed meanwhile: keep serving
            log.warning("could not open index version %s: %s", version, exc)
            return
        self._pair = _pair_over(Retriever(reader, served.embedder, served.settings))
        log.info("index version now served: %s", version)


def _finish_interrupted_deletes(settings: Settings) -> None:
    """A delete killed half-way has set its file aside: put it right before serving."""
    from index.updater import finish_interrupted_deletes

    try:
        restored = finish_interrupted_deletes(settings)
    except (OSError, ReformQAError) as exc:  # e.g. a read-only corpus: serve what is there
        log.warning("could not finish interrupted deletes: %s", exc)
        return
    for name in restored:
        log.warning("a delete was interrupted before its publish: %s put back", name)


def _pair_over(retriever) -> tuple:
    from assistant.answering import Assistant

    return retriever, Assistant(retriever)


def create_app(settings: Settings | None = None, slot: RetrieverSlot | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    seed_tiktoken_cache(settings.tiktoken_cache_dir)  # /v1/context counts tokens offline
    use_tiktoken_cache(settings.tiktoken_cache_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync routes run in this limiter's threads: its size is how many requests compute at once
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        if slot is None:
            loader = threading.Thread(
                target=app.state.slot.load, args=(settings,), name="index-loader", daemon=True
            )
            loader.start()
        yield

    # Swagger UI from the package, not a CDN, so /docs works on an offline intranet. No /redoc:
    # ReDoc always fetches its logo from its vendor's CDN.
    app = FastAPIOffline(
        redoc_url=None,
        static_url="/docs-assets",
        title="Reform QA",
        version="1.0.0",
        summary="Cited passages and figures from Vietnam's administrative-reform documents",
        lifespan=lifespan,
        redirect_slashes=False,  # its redirect copied the Host header into Location
    )
    app.state.settings = settings
    app.state.slot = slot or RetrieverSlot()
    app.state.metrics = metrics = Metrics()
    app.state.limits = RateLimits(settings)
    app.state.write_turn = anyio.Lock()  # one write at a time per process (routes._in_turn)
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(v1)
    show_optional_read_keys(app)
    if settings.origin_list():  # none by default: browsers on other origins are refused
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.origin_list()),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.add_middleware(Observe, metrics=metrics)  # added last: outermost, sees every response
    return app


def worker_app() -> FastAPI:
    """The app of one `reformqa serve --workers N` process: settings from the environment."""
    log_requests_as_json_lines()
    return create_app(Settings.from_env())
