"""App factory and lifespan: the index loads in the background; /readyz says when it is up."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from assistant.api.observe import BodyLimit, Metrics, Observe, log_requests_as_json_lines
from assistant.api.problems import install_problem_handlers
from assistant.api.routes import router, v1
from index.errors import IndexNotReady, ReformQAError
from index.settings import Settings
from index.tokens import seed_tiktoken_cache, use_tiktoken_cache

log = logging.getLogger("reformqa.api")


class RetrieverSlot:
    """Holds the retriever and the assistant over it once loaded, or the error that stopped
    them from loading."""

    def __init__(self) -> None:
        self.retriever = None
        self.assistant = None
        self.error: ReformQAError | None = None
        self.loaded = threading.Event()

    def get(self):
        if self.retriever is not None:
            return self.retriever
        if self.error is not None:
            raise self.error
        raise IndexNotReady("the index is still loading; retry in a few seconds")

    def get_assistant(self):
        self.get()  # raises while loading or after a failed load
        return self.assistant

    def load(self, settings: Settings) -> None:
        from assistant.answering import Assistant
        from assistant.context import encoding
        from assistant.retriever import Retriever

        try:
            retriever = Retriever.load(settings)
            retriever.warm_up()
            encoding("cl100k_base")  # tiktoken reads its file on first use: not on a request
            self.assistant = Assistant(retriever)
            self.retriever = retriever
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


def create_app(settings: Settings | None = None, slot: RetrieverSlot | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    seed_tiktoken_cache(settings.tiktoken_cache_dir)  # /v1/context counts tokens offline
    use_tiktoken_cache(settings.tiktoken_cache_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if slot is None:
            loader = threading.Thread(
                target=app.state.slot.load, args=(settings,), name="index-loader", daemon=True
            )
            loader.start()
        yield

    app = FastAPI(
        title="Reform QA",
        version="1.0.0",
        summary="Cited passages and figures from Vietnam's administrative-reform documents",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.slot = slot or RetrieverSlot()
    app.state.metrics = metrics = Metrics()
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(v1)
    if settings.origin_list():  # none by default: browsers on other origins are refused
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.origin_list()),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Observe, metrics=metrics)  # added last: outermost, sees every response
    return app


def worker_app() -> FastAPI:
    """The app of one `reformqa serve --workers N` process: settings from the environment."""
    log_requests_as_json_lines()
    return create_app(Settings.from_env())
