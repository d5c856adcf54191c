"""App factory and lifespan: the index loads in the background; /readyz says when it is up."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI

from assistant.api.problems import install_problem_handlers
from assistant.api.routes import router
from index.errors import IndexNotReady, ReformQAError
from index.settings import Settings

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
        from assistant.retriever import Retriever

        try:
            retriever = Retriever.load(settings)
            retriever.warm_up()
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
    install_problem_handlers(app)
    app.include_router(router)
    return app
