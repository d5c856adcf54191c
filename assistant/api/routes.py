"""Thin routers: validate, call one retriever method, map the result."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from assistant.api.schemas import (
    AskRequest,
    AskResponse,
    Health,
    Readiness,
    SearchRequest,
    SearchResponse,
)

router = APIRouter()
_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {400: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}


@router.get("/healthz", response_model=Health, tags=["ops"])
def healthz() -> Health:
    """The process is up (it may still be loading the index)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: _PROBLEM}, tags=["ops"])
def readyz(request: Request) -> Readiness:
    """The index is loaded and answering queries."""
    retriever = request.app.state.slot.get()
    manifest = retriever.reader.manifest
    return Readiness(
        status="ready",
        model=manifest.model,
        documents=manifest.documents,
        chunks=manifest.chunks,
        built_at=manifest.built_at,
    )


@router.post("/v1/search", response_model=SearchResponse, responses=_ERRORS, tags=["v1"])
def search(body: SearchRequest, request: Request) -> SearchResponse:
    """The best passages for a query, hybrid dense + BM25, with optional filters."""
    retriever = request.app.state.slot.get()
    started = time.perf_counter()
    passages = retriever.search(body.query, k=body.top_k, filters=body.filters)
    elapsed = (time.perf_counter() - started) * 1000
    return SearchResponse(passages=passages, timings_ms={"search": round(elapsed, 2)})


@router.post("/v1/ask", response_model=AskResponse, responses=_ERRORS, tags=["v1"])
def ask(body: AskRequest, request: Request) -> AskResponse:
    """A short answer quoting figures exactly as written, with their dates and cited passages;
    both figures where documents disagree; `abstained: true` when the documents do not say."""
    assistant = request.app.state.slot.get_assistant()
    history = [turn.model_dump() for turn in body.history]
    result = assistant.ask(body.question, history=history, filters=body.filters, top_k=body.top_k)
    return AskResponse(
        question=result.question,
        answer=result.answer,
        passages=result.passages,
        timings_ms=result.timings_ms,
    )
