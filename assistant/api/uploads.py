"""POST /v1/documents bodies: JSON with the text, or a multipart upload of one .txt/.md file,
each with optional metadata. Read, size-checked and validated into one `Upload`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from index.errors import BodyTooLarge, UnsupportedUpload
from index.formats import DOCUMENT_SUFFIXES
from index.front_matter import FIELD_MAX_CHARS
from index.settings import Settings
from index.types import IsoDate
from index.updater import DOC_ID

MAX_UPLOAD_BYTES = Settings.max_upload_bytes  # the schema states the default; settings rule


class DocumentMetadata(BaseModel):
    """What a caller may say about a new document; fields given here win over the file's own
    front matter."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(
        None,
        pattern=DOC_ID.pattern,
        description="Stable id (default: from the title, plus a short random suffix)",
    )
    title: str | None = Field(None, min_length=1, max_length=FIELD_MAX_CHARS["title"])
    date: IsoDate | None = Field(None, description="Meeting or publication date")
    source: str | None = Field(None, max_length=FIELD_MAX_CHARS["source"], description="Publisher")
    url: str | None = Field(None, max_length=FIELD_MAX_CHARS["url"])
    language: str | None = Field(
        None, max_length=FIELD_MAX_CHARS["language"], description="e.g. 'en'"
    )


class DocumentIn(DocumentMetadata):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "text": "Hanoi opened 42 one-stop shops for business licences in 2024.",
                    "title": "Hanoi one-stop shops",
                    "date": "2024-05-01",
                    "source": "Hanoi People's Committee",
                    "language": "en",
                }
            ]
        },
    )

    # No max_length: characters are not the limit. The text's UTF-8 bytes are, as for a file
    # (413 over REFORMQA_MAX_UPLOAD_BYTES), whether it is ASCII or not.
    text: str = Field(
        min_length=1,
        pattern=r"\S",
        description="Plain text or Markdown, optionally opening with YAML front matter; at most "
        f"REFORMQA_MAX_UPLOAD_BYTES (default {MAX_UPLOAD_BYTES}) bytes as UTF-8, else 413",
    )


@dataclass(frozen=True)
class Upload:
    raw: bytes
    metadata: dict[str, Any]
    doc_id: str | None
    suffix: str


def request_body_schema() -> dict:
    """The OpenAPI request body of POST /v1/documents: both ways of sending a document."""
    metadata = DocumentMetadata.model_json_schema()["properties"]
    file_part = {
        "type": "string",
        "format": "binary",
        "description": "A document: UTF-8 text (*.txt, *.md, *.markdown), a PDF with a text "
        "layer (*.pdf; passages then carry their pages), a Word file (*.docx) or a web page "
        "(*.html, *.htm: its main text). The form fields override the file's own title, date "
        "and source.",
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": DocumentIn.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": file_part, **metadata},
                        "additionalProperties": False,
                    },
                    "encoding": {
                        "file": {
                            "contentType": "text/plain, text/markdown, application/pdf, "
                            "application/vnd.openxmlformats-officedocument.wordprocessingml."
                            "document, text/html"
                        }
                    },
                },
            },
        }
    }


async def read_upload(request: Request, max_bytes: int) -> Upload:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return await _json_upload(request, max_bytes)
    if kind == "multipart/form-data":
        return await _file_upload(request, max_bytes)
    raise UnsupportedUpload(
        f"send application/json or multipart/form-data, not {kind or 'no content type'}"
    )


async def _json_upload(request: Request, max_bytes: int) -> Upload:
    raw_body = await request.body()
    try:
        body = DocumentIn.model_validate_json(raw_body)
    except ValidationError as exc:
        raise RequestValidationError(_located(exc, "body")) from exc
    json.loads(raw_body, object_pairs_hook=_refuse_repeated_keys)  # valid JSON by now
    raw = body.text.encode("utf-8")
    _check_size(len(raw), max_bytes)
    return Upload(raw, _metadata(body), body.id, ".md")


async def _file_upload(request: Request, max_bytes: int) -> Upload:
    async with request.form(max_files=1, max_fields=len(DocumentMetadata.model_fields)) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise RequestValidationError(
                [{"type": "missing", "loc": ("body", "file"), "msg": "a file part is required"}]
            )
        suffix = PurePath(file.filename or "").suffix.lower()
        if suffix not in DOCUMENT_SUFFIXES:
            raise UnsupportedUpload(
                f"{file.filename or 'the file'} is not a {'/'.join(DOCUMENT_SUFFIXES)} file"
            )
        raw = await file.read(max_bytes + 1)
        _check_size(len(raw), max_bytes)
        _refuse_repeated(key for key, _ in form.multi_items())
        fields = {k: v for k, v in form.items() if k != "file"}
    try:
        meta = DocumentMetadata.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(_located(exc, "body")) from exc
    return Upload(raw, _metadata(meta), meta.id, suffix)


def _metadata(meta: DocumentMetadata) -> dict[str, Any]:
    return meta.model_dump(exclude={"id", "text"}, exclude_none=True)


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    _refuse_repeated(key for key, _ in pairs)
    return dict(pairs)


def _refuse_repeated(names: Iterable[str]) -> None:
    """A field given twice would otherwise be read as one of its values, silently."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise RequestValidationError(
                [{"type": "repeated", "loc": ("body", name), "msg": "given more than once"}]
            )
        seen.add(name)


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise BodyTooLarge(f"the document is over the {max_bytes}-byte upload limit")


def _located(exc: ValidationError, root: str) -> list[dict]:
    return [{**e, "loc": (root, *e["loc"])} for e in exc.errors()]
