"""Thin routers: validate, call one retriever method, map the result."""

from __future__ import annotations

import time
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from assistant import catalog, context
from assistant.api.keys import WRITE, read_access, write_access
from assistant.api.limits import limit_feedback, limit_writes
from assistant.api.schemas import (
    AskRequest,
    AskResponse,
    ContextPassage,
    ContextRequest,
    ContextResponse,
    DocumentDetail,
    DocumentPage,
    Explanation,
    FeedbackRequest,
    FigurePage,
    Health,
    Readiness,
    SearchRequest,
    SearchResponse,
)
from assistant.api.uploads import read_upload, request_body_schema
from assistant.feedback import Feedback, record_feedback
from index.errors import Busy

router = APIRouter()
v1 = APIRouter(prefix="/v1", tags=["v1"], dependencies=[Depends(read_access)])
_PROBLEM = {"content": {"application/problem+json": {}}}
_ERRORS = {400: _PROBLEM, 401: _PROBLEM, 413: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}
_LOOKUP_ERRORS = {401: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM, 503: _PROBLEM}
_WRITE_ERRORS = {
    status: _PROBLEM for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
}  # fmt: skip
_FEEDBACK_ERRORS = {**_ERRORS, 429: _PROBLEM, 507: _PROBLEM}
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")]


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


def _serialized(model: BaseModel) -> Response:
    """The response model's JSON, as FastAPI would write it, made on the worker thread. Returned
    as a Response, it skips FastAPI's second pass over the model (validation on another thread
    hop, then serialization); `response_model` still documents it."""
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


@v1.post("/search", response_model=SearchResponse, responses=_ERRORS)
def search(body: SearchRequest, request: Request) -> Response:
    """The best passages for a query, hybrid dense + BM25, with optional filters."""
    retriever = request.app.state.slot.get()
    started = time.perf_counter()
    passages = retriever.search(body.query, k=body.top_k, filters=body.filters)
    elapsed = (time.perf_counter() - started) * 1000
    return _serialized(SearchResponse(passages=passages, timings_ms={"search": round(elapsed, 2)}))


@v1.post("/ask", response_model=AskResponse, responses=_ERRORS)
def ask(body: AskRequest, request: Request) -> Response:
    """A short answer quoting figures exactly as written, with their dates and cited passages;
    both figures where documents disagree; `abstained: true` when the documents do not say."""
    assistant = request.app.state.slot.get_assistant()
    history = [turn.model_dump() for turn in body.history]
    result = assistant.ask(
        body.question, history=history, filters=body.filters, top_k=body.top_k,
        trace=body.explain,
    )  # fmt: skip
    return _serialized(
        AskResponse(
            question=result.question,
            answer=result.answer,
            passages=result.passages,
            timings_ms=result.timings_ms,
            explanation=Explanation.of(result) if body.explain else None,
        )
    )


@v1.post("/context", response_model=ContextResponse, responses=_ERRORS)
def build_context(body: ContextRequest, request: Request) -> ContextResponse:
    """The best passages packed into `max_tokens` (counted with tiktoken), each under a citation
    label, for clients that feed their own language model."""
    retriever = request.app.state.slot.get()
    passages = retriever.search(body.query, k=body.top_k, filters=body.filters)
    packed = context.pack(passages, body.max_tokens, body.encoding)
    return ContextResponse(
        context=packed.text,
        tokens=packed.tokens,
        max_tokens=body.max_tokens,
        encoding=packed.encoding,
        passages=[
            ContextPassage(label=p.label, tokens=p.tokens, truncated=p.truncated, passage=p.passage)
            for p in packed.packed
        ],
    )


@v1.get("/documents", response_model=DocumentPage, responses=_LOOKUP_ERRORS)
def list_documents(
    request: Request,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 20,
) -> DocumentPage:
    """The indexed documents (metadata, chunk and figure counts), oldest first, a page at a time."""
    reader = request.app.state.slot.get().reader
    items = reader.documents(offset=offset, limit=limit, with_text=False)
    return DocumentPage(items=items, total=reader.count_documents(), offset=offset, limit=limit)


@v1.get("/documents/{doc_id}", response_model=DocumentDetail, responses=_LOOKUP_ERRORS)
def get_document(doc_id: str, request: Request) -> DocumentDetail:
    """One document: its metadata, cleaned text and every figure extracted from it."""
    reader = request.app.state.slot.get().reader
    return DocumentDetail(document=reader.document(doc_id), figures=reader.figures(doc_id=doc_id))


@v1.post(
    "/documents",
    status_code=201,
    response_model=DocumentDetail,
    responses={**_WRITE_ERRORS, 201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
    dependencies=[Depends(write_access), Depends(limit_writes)],
    openapi_extra={**request_body_schema(), **WRITE},
)
async def add_document(request: Request, response: Response) -> DocumentDetail:
    """Add one document, as JSON text or a .txt/.md file upload, with optional metadata. Only
    the new document is encoded; readers switch to the new index version atomically. Needs an
    X-API-Key.

    Writes are serialized: one add or delete runs at a time (across workers), the others wait
    for it up to REFORMQA_WRITE_WAIT_SECONDS (default 120) and then get 503 `busy` with
    Retry-After. An add takes about as long as encoding its text: a 1 MB document (~1,500
    chunks) can take a minute on a small CPU, and a small write waits behind it. A client past
    REFORMQA_WRITE_RATE writes a minute gets 429 with Retry-After."""
    upload = await read_upload(request, request.app.state.settings.max_upload_bytes)
    change = await _in_turn(request, request.app.state.slot.add_document, upload)
    response.headers["Location"] = f"/v1/documents/{change.document.id}"
    return DocumentDetail(document=change.document, figures=change.figures)


@v1.delete(
    "/documents/{doc_id}",
    status_code=204,
    response_class=Response,
    responses=_WRITE_ERRORS,
    dependencies=[Depends(write_access), Depends(limit_writes)],
    openapi_extra=WRITE,
)
async def delete_document(
    request: Request, doc_id: Annotated[str, Path(max_length=200)]
) -> Response:
    """Remove one document from the index and the corpus folder. Needs an X-API-Key. Waits its
    turn like an add (503 `busy` with Retry-After after REFORMQA_WRITE_WAIT_SECONDS)."""
    await _in_turn(request, request.app.state.slot.remove_document, doc_id)
    return Response(status_code=204)


async def _in_turn(request: Request, write, *args):
    """Run one write at a time in this process. The others wait here, on the event loop, not
    in one of the REFORMQA_REQUEST_THREADS threads that reads need; the index's file lock
    then orders the writes of several workers."""
    state = request.app.state
    waited = state.settings.write_wait_seconds
    try:
        with anyio.fail_after(waited):
            await state.write_turn.acquire()
    except TimeoutError as exc:
        raise Busy(
            f"another change to the index is still running after waiting {waited:g} s; retry later"
        ) from exc
    try:
        return await run_in_threadpool(write, *args)
    finally:
        state.write_turn.release()


@v1.get("/figures", response_model=FigurePage, responses=_LOOKUP_ERRORS)
def search_figures(
    request: Request,
    subject: Annotated[
        str | None, Query(max_length=200, description="Words the figure's subject must hold")
    ] = None,
    doc_id: Annotated[str | None, Query(max_length=200, description="Only this document")] = None,
    unit: Annotated[str | None, Query(max_length=50, description="'%', 'VND', 'cards'")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size")] = 50,
) -> FigurePage:
    """Extracted figures, newest first, for dashboards: by subject words, document and unit."""
    reader = request.app.state.slot.get().reader
    found = catalog.find_figures(reader, subject=subject, doc_id=doc_id, unit=unit)
    return FigurePage(
        items=found[offset : offset + limit], total=len(found), offset=offset, limit=limit
    )


@v1.post(
    "/feedback",
    status_code=201,
    response_model=Feedback,
    responses=_FEEDBACK_ERRORS,
    dependencies=[Depends(limit_feedback)],
)
def add_feedback(body: FeedbackRequest, request: Request) -> Feedback:
    """Thumbs up or down on one answer, with an optional comment, stored for evaluators
    (`reformqa feedback export`). Works while the index is loading. Without an
    `index_version`, the version this server is answering from is recorded. A client past
    REFORMQA_FEEDBACK_RATE a minute gets 429 with Retry-After; once the store has reached
    REFORMQA_FEEDBACK_MAX_BYTES, new entries get 507 (stored ones are never dropped)."""
    served = request.app.state.slot.retriever
    if body.index_version is None and served is not None:
        body = body.model_copy(update={"index_version": served.reader.version.name})
    settings = request.app.state.settings
    return record_feedback(settings.feedback_path(), body, settings.feedback_max_bytes)


@router.get("/metrics", response_class=Response, tags=["ops"])
def metrics(request: Request) -> Response:
    """Prometheus text format: requests and latencies by route, the index's size."""
    state = request.app.state
    retriever = state.slot.retriever
    state.metrics.ready.set(1 if retriever is not None else 0)
    if retriever is not None:
        state.metrics.documents.set(retriever.reader.manifest.documents)
        state.metrics.chunks.set(retriever.reader.manifest.chunks)
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
