"""API keys (X-API-Key): always for writes, for reads only when settings say so.

Keys come from settings and are compared in constant time; they are never logged (the access
log holds no headers).
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request, Security
from fastapi.security import APIKeyHeader

from index.errors import Forbidden, Unauthorized

_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key from settings")


# async: a check this small is cheaper on the event loop than a hop to the thread pool (a plain
# def dependency costs each request one)
async def read_access(request: Request, key: str | None = Security(_HEADER)) -> None:
    settings = request.app.state.settings
    if settings.read_requires_key:
        _check(key, settings.key_list())


async def write_access(request: Request, key: str | None = Security(_HEADER)) -> None:
    keys = request.app.state.settings.key_list()
    if not keys:
        raise Forbidden("writes are disabled: no API key is configured (set REFORMQA_API_KEYS)")
    _check(key, keys)


def _check(given: str | None, keys: tuple[str, ...]) -> None:
    if not given:
        raise Unauthorized("this needs an X-API-Key header")
    if not is_valid_key(given, keys):
        raise Unauthorized("the X-API-Key is not valid")


def is_valid_key(given: str, keys: tuple[str, ...]) -> bool:
    matches = [hmac.compare_digest(given.encode(), k.encode()) for k in keys]  # all compared
    return any(matches)


WRITE = {"x-needs-key": True}  # openapi_extra of write operations; read by the function below


def show_optional_read_keys(app: FastAPI) -> None:
    """FastAPI lists a key scheme as required wherever it is used; where reads are open, the
    schema must say that read operations take a key but do not need one."""
    generate = app.openapi
    open_reads = not app.state.settings.read_requires_key

    def openapi() -> dict:
        if app.openapi_schema is None:
            for operations in generate().get("paths", {}).values():
                for operation in operations.values():
                    needs_key = operation.pop("x-needs-key", False)
                    if open_reads and "security" in operation and not needs_key:
                        operation["security"] = [{}, *operation["security"]]
        return app.openapi_schema

    app.openapi = openapi
