"""The API's edges, on a real uvicorn that accepts writes and through TestClient: metrics labels
that callers cannot multiply, trailing slashes that never echo the Host header, 413 and
malformed-json however a body arrives, HEAD on every GET route."""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.observe import Metrics
from tests.conftest import KEY, copy_index, start_server, stop_server
from tests.test_api import _assert_problem

JSON_ROUTES = ["/v1/ask", "/v1/search", "/v1/context", "/v1/feedback", "/v1/documents"]
GET_ROUTES = [
    "/healthz", "/readyz", "/metrics", "/v1/documents", "/v1/documents/land_registry",
    "/v1/figures", "/docs", "/openapi.json", "/docs-assets/swagger-ui.css",
]  # fmt: skip
JSON = {"content-type": "application/json", "x-api-key": KEY}
MALFORMED_TYPE = "https://reformqa.local/problems/malformed-json"


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, fixture_settings):
    """`reformqa serve` over a private copy of the fixture index, accepting writes with KEY."""
    server = start_server(copy_index(fixture_settings, tmp_path_factory.mktemp("edges")))
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def client(tmp_path_factory, fixture_settings) -> Iterator[TestClient]:
    settings = copy_index(fixture_settings, tmp_path_factory.mktemp("edges-client"))
    with TestClient(create_app(settings.with_overrides(api_keys=KEY))) as client:
        client.app.state.slot.loaded.wait(120)
        yield client


def _series(metrics_text: str) -> set[str]:
    return {line.split(" ")[0] for line in metrics_text.splitlines() if line.startswith("reformqa")}


def test_made_up_methods_and_paths_add_no_metric_series(client):
    def junk(tag: str) -> None:
        client.request(f"FOOBAR{tag}", "/v1/ask")
        client.request(f"X{tag}", f"/made/up/{tag}")
        client.get(f"/nowhere/{tag}")
        client.get(f"/docs-assets/{tag}.js")

    junk("first")
    client.get("/metrics")  # the first scrape is counted too
    before = _series(client.get("/metrics").text)
    for i in range(30):
        junk(str(i))
    text = client.get("/metrics").text
    assert _series(text) == before
    assert 'reformqa_requests_total{method="other",route="/v1/ask",status="405"}' in text
    assert 'reformqa_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert 'reformqa_requests_total{method="GET",route="/docs-assets/{path}",status="404"}' in text
    assert "FOOBAR" not in text and "/made/up" not in text and "/nowhere" not in text


def test_unknown_methods_and_statuses_are_counted_as_other():
    metrics = Metrics()
    metrics.count("BREW", "/v1/ask", 999, 0.01)
    metrics.count("GET", "/v1/ask", 200, 0.01)
    assert metrics.requests.labels("other", "/v1/ask", "other")._value.get() == 1
    assert metrics.requests.labels("GET", "/v1/ask", "200")._value.get() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/documents/"), ("DELETE", "/v1/documents/"), ("POST", "/v1/search/"),
     ("GET", "/healthz/")],
)  # fmt: skip
def test_a_trailing_slash_is_a_404_problem_that_never_echoes_the_host(keyed, method, path):
    reply = httpx.request(
        method, f"{keyed.base_url}{path}", headers={"Host": "evil.example", "X-API-Key": KEY},
        json={"query": "x"} if method == "POST" else None,
    )  # fmt: skip
    _assert_problem(reply, 404, "Not Found")
    assert "location" not in reply.headers and "evil.example" not in reply.text


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'{"query": "'
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size
    yield b'"}'


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_a_chunked_body_over_the_limit_gets_413_on_every_route(client, route):
    over = client.app.state.settings.max_body_bytes + 1
    reply = client.post(route, content=_chunks(over), headers=JSON)
    _assert_problem(reply, 413, "limit")
    assert reply.json()["type"].endswith("/body-too-large")


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_a_chunked_body_over_the_limit_gets_413_from_a_real_server(keyed, route):
    address = urlsplit(keyed.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    over = keyed.settings.max_body_bytes + 1
    connection.request("POST", route, body=_chunks(over), headers=JSON, encode_chunked=True)
    reply = connection.getresponse()
    body = reply.read().decode()
    connection.close()
    assert reply.status == 413, body
    assert reply.getheader("content-type").startswith("application/problem+json")
    assert "/body-too-large" in body
    assert httpx.get(f"{keyed.base_url}/healthz").status_code == 200


@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize(
    "body",
    [b'{"query": "\xff\xfe", "question": "\xc3\x28"}', b"[" * 100_000, b'{"a":' * 50_000],
    ids=["invalid-utf8", "deep-list", "deep-object"],
)
def test_a_body_that_is_not_utf8_json_or_is_nested_too_deep_is_malformed_json(keyed, route, body):
    reply = httpx.post(f"{keyed.base_url}{route}", content=body, headers=JSON, timeout=60)
    _assert_problem(reply, 400, "JSON")
    assert reply.json()["type"] == MALFORMED_TYPE and reply.json()["title"] == "Malformed JSON"
    assert httpx.get(f"{keyed.base_url}/readyz").status_code == 200


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_answers_every_get_route_with_the_gets_status_and_headers_and_no_body(keyed, path):
    got = httpx.get(f"{keyed.base_url}{path}")
    head = httpx.head(f"{keyed.base_url}{path}")
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    if path != "/metrics":  # its body changes with every request counted
        assert head.headers["content-length"] == got.headers["content-length"]
    assert _raw_head_body(keyed.base_url, path) == b""


def test_head_through_the_app_sends_no_body(client):
    for path in GET_ROUTES:
        reply = client.head(path)
        assert reply.status_code == 200 and reply.content == b"", path


def _raw_head_body(base_url: str, path: str) -> bytes:
    """What follows the headers on the wire, read until the server closes."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/healthz", "GET, HEAD"),
        ("PUT", "/v1/documents", "GET, HEAD, POST"),
        ("PUT", "/v1/documents/land_registry", "DELETE, GET, HEAD"),
        ("PUT", "/docs", "GET, HEAD"),
        ("HEAD", "/v1/search", "POST"),
        ("FOOBAR123", "/v1/ask", "POST"),
    ],
)
def test_a_405_names_every_allowed_method_head_included_where_get_is(client, method, path, allowed):
    reply = client.request(method, path)
    assert reply.status_code == 405
    assert reply.headers["allow"] == allowed
    if method != "HEAD":
        assert reply.headers["content-type"].startswith("application/problem+json")


def test_the_schema_lists_no_head_operations(client):
    operations = client.get("/openapi.json").json()["paths"].values()
    assert not any("head" in methods for methods in operations)


def test_the_docs_page_loads_its_assets_from_this_server_and_redoc_is_off(client):
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", client.get("/docs").text)
    assert len(links) == 3 and [link for link in links if "//" in link] == []
    for asset in links:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/redoc").status_code == 404
