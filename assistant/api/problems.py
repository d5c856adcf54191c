"""Every error leaves as application/problem+json (RFC 9457): type, title, status, detail."""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from index.errors import (
    BadDocument,
    BadQuery,
    BodyTooLarge,
    Busy,
    Conflict,
    DocumentNotFound,
    Forbidden,
    IndexMismatch,
    IndexNotFound,
    IndexNotReady,
    RateLimited,
    ReformQAError,
    StorageFull,
    Unauthorized,
    UnsupportedUpload,
)

log = logging.getLogger("reformqa.api")
PROBLEM_JSON = "application/problem+json"
_TYPE_ROOT = "https://reformqa.local/problems/"

# domain error -> (status, slug, title)
_DOMAIN_ERRORS: list[tuple[type[ReformQAError], int, str, str]] = [
    (BadQuery, 400, "bad-query", "Bad query"),
    (BadDocument, 422, "bad-document", "Document cannot be read"),
    (Conflict, 409, "conflict", "Conflict"),
    (Busy, 503, "busy", "Another change is running"),
    (RateLimited, 429, "rate-limited", "Too many requests"),
    (StorageFull, 507, "storage-full", "Storage full"),
    (DocumentNotFound, 404, "not-found", "Not found"),
    (Unauthorized, 401, "unauthorized", "API key required"),
    (Forbidden, 403, "forbidden", "Not allowed"),
    (BodyTooLarge, 413, "body-too-large", "Request body too large"),
    (UnsupportedUpload, 415, "unsupported-upload", "Unsupported upload"),
    (IndexNotReady, 503, "index-loading", "Index is loading"),
    (IndexNotFound, 503, "index-missing", "No index has been built"),
    (IndexMismatch, 503, "index-mismatch", "Index does not match this server"),
]
# Body bytes json.loads cannot read as JSON although they raise no JSONDecodeError
_NOT_JSON: dict[type[Exception], str] = {
    UnicodeDecodeError: "the request body is not valid UTF-8 JSON",
    RecursionError: "the request body's JSON is nested too deeply",
}


def problem_body(status: int, slug: str, title: str, detail: str) -> dict:
    return {"type": _TYPE_ROOT + slug, "title": title, "status": status, "detail": detail}


def problem(status: int, slug: str, title: str, detail: str, **headers: str) -> JSONResponse:
    body = problem_body(status, slug, title, detail)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers or None)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ReformQAError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    for kind, status, slug, title in _DOMAIN_ERRORS:
        if isinstance(exc, kind):
            retry_after = getattr(exc, "retry_after", 5)
            headers = {"Retry-After": str(retry_after)} if status in (429, 503) else {}
            if status == 401:
                headers = {"WWW-Authenticate": "APIKey"}
            return problem(status, slug, title, str(exc), **headers)
    return problem(400, "bad-request", "Bad request", str(exc))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if any(e.get("type") == "json_invalid" for e in errors):
        return _malformed_json("the request body is not valid JSON")
    detail = "; ".join(_describe(e) for e in errors) or "invalid request"
    return problem(422, "validation-error", "Invalid request", detail)


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{where}: {error.get('msg', 'invalid value')}"


def _malformed_json(detail: str) -> JSONResponse:
    return problem(400, "malformed-json", "Malformed JSON", detail)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI turns anything that fails while it reads and parses a body into a bare 400 "error
    # parsing the body"; what it chained says what it was.
    cause = exc.__cause__
    if isinstance(cause, ReformQAError):  # BodyTooLarge, raised as a chunked body streams in
        return await _domain_error(request, cause)
    if type(cause) in _NOT_JSON:
        return _malformed_json(_NOT_JSON[type(cause)])
    status = getattr(exc, "status_code", 500)
    detail = str(getattr(exc, "detail", "")) or "error"
    title = {404: "Not found", 405: "Method not allowed"}.get(status, "HTTP error")
    headers = dict(getattr(exc, "headers", None) or {})
    if status == 405:  # Starlette names the methods of one route; a path may have several
        headers["Allow"] = ", ".join(_allowed_methods(request, headers.get("Allow", "")))
    return problem(status, title.lower().replace(" ", "-"), title, detail, **headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal-error", "Internal error", "an unexpected error occurred")


def _allowed_methods(request: Request, named: str) -> list[str]:
    """The methods of every operation at this path, else (/docs, left out of the schema) the
    route's own; HEAD wherever GET is (see HeadAsGet)."""
    path = request.url.path
    methods = {m.strip() for m in named.split(",") if m.strip()}
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), path):
            methods = {method.upper() for method in operations}
            break
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
