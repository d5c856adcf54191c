"""POST /v1/documents bodies are read and checked before any index is needed: one size rule
for JSON and file uploads (the text's UTF-8 bytes against REFORMQA_MAX_UPLOAD_BYTES), and a
metadata field given twice is refused rather than one of its values taken silently."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.app import RetrieverSlot
from index.settings import Settings
from tests.test_api import _assert_problem

KEY = {"X-API-Key": "k-one"}
LIMIT = Settings.max_upload_bytes


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path, api_keys="k-one", write_rate=0)
    with TestClient(create_app(settings, slot=RetrieverSlot())) as client:
        yield client


def _post_json(client: TestClient, body: dict):
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {**KEY, "Content-Type": "application/json"}
    return client.post("/v1/documents", content=content, headers=headers)


@pytest.mark.parametrize(
    "text",
    ["a" * (LIMIT + 1), "ệ" * (LIMIT // 3 + 1)],  # ASCII, and three UTF-8 bytes a character
    ids=["ascii", "multibyte"],
)
def test_a_json_text_over_the_upload_limit_in_utf8_bytes_is_413(client, text):
    _assert_problem(_post_json(client, {"text": text}), 413, f"{LIMIT}-byte upload limit")


def test_a_file_over_the_upload_limit_is_413_too(client):
    files = {"file": ("big.txt", b"a" * (LIMIT + 1), "text/plain")}
    _assert_problem(client.post("/v1/documents", files=files, headers=KEY), 413, str(LIMIT))


def test_a_json_text_of_exactly_the_limit_is_read(client):
    # read and accepted as an upload; with no index loaded, the write itself then waits (503)
    _assert_problem(_post_json(client, {"text": "a" * LIMIT}), 503, "loading")


@pytest.mark.parametrize("field", ["id", "title", "source"])
def test_a_form_field_given_twice_is_refused_by_name(client, field):
    reply = client.post(
        "/v1/documents",
        files={"file": ("a.txt", b"Hanoi opened 42 shops.", "text/plain")},
        data={field: ["first-value", "second-value"]},
        headers=KEY,
    )
    _assert_problem(reply, 422, field)
    assert "more than once" in reply.json()["detail"]


def test_a_json_field_given_twice_is_refused_by_name(client):
    content = b'{"text": "Hanoi opened 42 shops.", "id": "one", "id": "two"}'
    reply = client.post(
        "/v1/documents", content=content, headers={**KEY, "Content-Type": "application/json"}
    )
    _assert_problem(reply, 422, "id")
    assert "more than once" in reply.json()["detail"]
