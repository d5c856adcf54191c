"""The rest of the /v1 contract on a real uvicorn: context packing, documents, figures, metrics,
request ids and JSON access logs, body limits; keys and CORS through the app's settings."""

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.context import encoding
from index.settings import Settings
from index.tokens import seed_tiktoken_cache, use_tiktoken_cache
from tests.test_api import _assert_problem


@pytest.fixture(scope="module", autouse=True)
def offline_tiktoken():
    """Token counts in this process come from the same seeded cache the server uses."""
    cache = Settings().tiktoken_cache_dir
    seed_tiktoken_cache(cache)
    use_tiktoken_cache(cache)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_context_packs_labelled_passages_within_the_budget_with_the_exact_count(server, name):
    body = {"query": "land certificates online", "max_tokens": 120, "encoding": name}
    packed = httpx.post(f"{server.base_url}/v1/context", json=body).json()
    assert packed["tokens"] == len(encoding(name).encode(packed["context"]))
    assert 0 < packed["tokens"] <= 120 and packed["encoding"] == name
    labels = [p["label"] for p in packed["passages"]]
    assert labels == [f"[{i}]" for i in range(1, len(labels) + 1)]
    for p in packed["passages"]:
        assert f"{p['label']} {p['passage']['title']}" in packed["context"]
        assert p["passage"]["text"] in packed["context"]


def test_context_cuts_the_best_passage_only_when_nothing_fits_whole(server):
    body = {"query": "land certificates online", "max_tokens": 64, "top_k": 1}
    packed = httpx.post(f"{server.base_url}/v1/context", json=body).json()
    assert packed["tokens"] <= 64 and packed["passages"][0]["truncated"] is True
    wide = httpx.post(f"{server.base_url}/v1/context", json={**body, "max_tokens": 4000}).json()
    assert wide["passages"][0]["truncated"] is False


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"query": "x", "max_tokens": 10}, "max_tokens"),
        ({"query": "x", "encoding": "gpt2"}, "encoding"),
        ({"query": ""}, "query"),
    ],
)
def test_context_refuses_bad_budgets_and_encodings(server, body, detail):
    _assert_problem(httpx.post(f"{server.base_url}/v1/context", json=body), 422, detail)


def test_documents_are_paginated_and_each_shows_its_figures(server):
    first = httpx.get(f"{server.base_url}/v1/documents", params={"limit": 2}).json()
    rest = httpx.get(f"{server.base_url}/v1/documents", params={"offset": 2}).json()
    assert first["total"] == rest["total"] == 4 and len(first["items"]) == 2
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert len(set(ids)) == 4 and all(d["text"] == "" for d in first["items"])
    detail = httpx.get(f"{server.base_url}/v1/documents/land_registry").json()
    assert detail["document"]["title"] == "Land registry goes online"
    assert "1.2 million" in detail["document"]["text"]
    values = {f["value"] for f in detail["figures"]}
    assert {1.2e6, 87.5} <= values and detail["document"]["figures"] == len(detail["figures"])
    _assert_problem(httpx.get(f"{server.base_url}/v1/documents/nope"), 404, "nope")
    _assert_problem(httpx.get(f"{server.base_url}/v1/documents", params={"limit": 0}), 422, "limit")


def test_figures_are_searched_by_subject_document_and_unit(server):
    found = httpx.get(f"{server.base_url}/v1/figures", params={"subject": "certificate"}).json()
    assert found["total"] >= 2
    assert all("certificate" in f["sentence"].lower() for f in found["items"])
    percent = httpx.get(f"{server.base_url}/v1/figures", params={"unit": "%"}).json()["items"]
    assert percent and {f["unit"] for f in percent} == {"%"}
    one = httpx.get(f"{server.base_url}/v1/figures", params={"doc_id": "budget_2024"}).json()
    assert one["total"] > 0 and {f["doc_id"] for f in one["items"]} == {"budget_2024"}
    _assert_problem(
        httpx.get(f"{server.base_url}/v1/figures", params={"doc_id": "nope"}), 404, "nope"
    )


def test_metrics_count_requests_by_route_and_report_the_index(server):
    httpx.get(f"{server.base_url}/v1/documents/nope")
    text = httpx.get(f"{server.base_url}/metrics").text
    assert (
        'reformqa_requests_total{method="GET",route="/v1/documents/{doc_id}",status="404"}' in text
    )
    assert "reformqa_request_seconds_bucket" in text and "reformqa_index_chunks" in text


def test_every_response_has_a_request_id_and_one_json_log_line(server):
    given = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-ID": "bad id\t!"})
    assert made.headers["x-request-id"] not in ("", "bad id\t!")
    lines = [
        json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")
    ]
    mine = [line for line in lines if line["request_id"] == "trace-42"]
    assert mine and mine[0]["route"] == "/healthz" and mine[0]["status"] == 200


def test_a_body_over_the_limit_gets_413_and_the_server_stays_up(server):
    huge = b'{"query": "' + b"x" * 2_100_000 + b'"}'
    response = httpx.post(
        f"{server.base_url}/v1/search", content=huge, headers={"content-type": "application/json"}
    )
    _assert_problem(response, 413, "limit")
    assert httpx.get(f"{server.base_url}/readyz").status_code == 200


def test_reads_can_be_closed_behind_a_key_compared_without_logging_it(fixture_settings):
    settings = fixture_settings.with_overrides(api_keys="k-one, k-two", read_requires_key=True)
    with TestClient(create_app(settings)) as client:
        client.app.state.slot.loaded.wait(120)
        body = {"query": "online"}
        _assert_problem(client.post("/v1/search", json=body), 401, "X-API-Key")
        wrong = client.post("/v1/search", json=body, headers={"X-API-Key": "k-three"})
        _assert_problem(wrong, 401, "not valid")
        assert client.post("/v1/search", json=body, headers={"X-API-Key": "k-two"}).is_success
        assert client.get("/healthz").is_success  # ops routes stay open


def test_cors_is_closed_by_default_and_opened_per_origin(fixture_settings):
    preflight = {
        "Origin": "https://intranet.example",
        "Access-Control-Request-Method": "POST",
    }
    with TestClient(create_app(fixture_settings)) as client:
        response = client.options("/v1/search", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    opened = fixture_settings.with_overrides(cors_origins="https://intranet.example")
    with TestClient(create_app(opened)) as client:
        response = client.options("/v1/search", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://intranet.example"


def test_a_follow_up_after_a_long_turn_is_answered(server):
    """The question and the earlier turn are each within their limits: so is the request."""
    history = [{"role": "user", "content": "land certificates " * 110}]  # 1,980 characters
    body = {"question": "And in 2024?", "history": history}
    assert httpx.post(f"{server.base_url}/v1/ask", json=body, timeout=60).status_code == 200


def test_a_method_not_allowed_names_the_allowed_ones(server):
    reply = httpx.put(f"{server.base_url}/v1/search", json={"query": "x"})
    _assert_problem(reply, 405, "Method Not Allowed")
    assert reply.headers["allow"] == "POST"


def test_the_schema_shows_read_keys_as_optional_and_write_keys_as_required(server):
    paths = httpx.get(f"{server.base_url}/openapi.json").json()["paths"]
    assert paths["/v1/search"]["post"]["security"] == [{}, {"APIKeyHeader": []}]
    assert paths["/v1/documents"]["get"]["security"] == [{}, {"APIKeyHeader": []}]
    assert paths["/v1/documents"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert paths["/v1/documents/{doc_id}"]["delete"]["security"] == [{"APIKeyHeader": []}]
