"""The chat's only way to the documents: a small HTTP client over the /v1 API.

Responses are parsed into the shared records (index.types); every failure becomes one of two
errors the pages can show as a sentence: `ApiUnavailable` (not reachable, too slow) or
`ApiProblem` (the API answered with an error, RFC 9457 body)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

import httpx

from index.types import Answer, Document, Figure, Filters, Passage


class ApiError(Exception):
    """Something the person asking should read: `message` is a whole sentence."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ApiUnavailable(ApiError):
    """No answer came: the API is down, unreachable or too slow."""


class ApiProblem(ApiError):
    """The API answered with an error status and a problem body."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(f"{title}: {detail}" if detail and detail != title else title)
        self.status = status
        self.title = title
        self.detail = detail

    @property
    def retryable(self) -> bool:
        return self.status in (429, 502, 503, 504)


@dataclass
class Reply:
    """One answer from /v1/ask, as the chat keeps it."""

    question: str
    answer: Answer
    passages: list[Passage]
    request_id: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class DocumentDetail:
    document: Document
    figures: list[Figure]


class ApiClient:
    def __init__(self, base_url: str, timeout: float = 60.0, api_key: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.api_key = api_key

    @property
    def docs_url(self) -> str:
        return f"{self.base_url}/docs"

    def ask(
        self,
        question: str,
        history: list[dict[str, str]] | None = None,
        top_k: int = 5,
        filters: Filters | None = None,
    ) -> Reply:
        body: dict[str, Any] = {"question": question, "top_k": top_k, "history": history or []}
        if filters is not None and not filters.is_empty():
            body["filters"] = filters.model_dump(mode="json", exclude_none=True)
        response = self._request("POST", "/v1/ask", json=body)
        data = response.json()
        return Reply(
            question=data["question"],
            answer=Answer.model_validate(data["answer"]),
            passages=[Passage.model_validate(p) for p in data["passages"]],
            request_id=response.headers.get("x-request-id", ""),
            timings_ms=data.get("timings_ms", {}),
        )

    def documents(self) -> list[Document]:
        """Every document's metadata, a page at a time."""
        found: list[Document] = []
        while True:
            page = self._request(
                "GET", "/v1/documents", params={"offset": len(found), "limit": 200}
            ).json()
            found.extend(Document.model_validate(d) for d in page["items"])
            if not page["items"] or len(found) >= page["total"]:
                return found

    def document(self, doc_id: str) -> DocumentDetail:
        return _detail(self._request("GET", f"/v1/documents/{quote(doc_id, safe='')}").json())

    def add_document(
        self,
        filename: str,
        content: bytes,
        title: str = "",
        date: dt.date | None = None,
        source: str = "",
        url: str = "",
    ) -> DocumentDetail:
        fields = {"title": title, "source": source, "url": url, "date": date and date.isoformat()}
        response = self._request(
            "POST",
            "/v1/documents",
            files={"file": (filename, content, _content_type(filename))},
            data={name: value for name, value in fields.items() if value},
            headers={"X-API-Key": self.api_key} if self.api_key else {},
        )
        return _detail(response.json())

    def send_feedback(
        self,
        rating: str,
        question: str,
        answer: str,
        citations: list[str],
        comment: str = "",
        request_id: str = "",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "rating": rating, "question": question, "answer": answer, "citations": citations,
        }  # fmt: skip
        if comment.strip():
            body["comment"] = comment.strip()
        if request_id:
            body["request_id"] = request_id
        return self._request("POST", "/v1/feedback", json=body).json()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = httpx.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(
                f"The answer service at {self.base_url} did not answer within {self.timeout:g} s."
            ) from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(
                f"The answer service at {self.base_url} cannot be reached. Is it running?"
            ) from exc
        if response.is_success:
            return response
        raise _problem_of(response)


def _detail(data: dict[str, Any]) -> DocumentDetail:
    return DocumentDetail(
        document=Document.model_validate(data["document"]),
        figures=[Figure.model_validate(f) for f in data["figures"]],
    )


def _problem_of(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    title = str(body.get("title") or response.reason_phrase or "Error")
    return ApiProblem(response.status_code, title, str(body.get("detail") or ""))


def _content_type(filename: str) -> str:
    """What the API's upload expects for the file's extension (it reads by extension)."""
    kinds = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html",
             ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             ".md": "text/markdown", ".markdown": "text/markdown"}  # fmt: skip
    return kinds.get(PurePath(filename).suffix.lower(), "text/plain")
