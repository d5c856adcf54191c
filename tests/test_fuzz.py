"""Property-based fuzzing of every operation in the live OpenAPI schema, on a real uvicorn.

The schema is fetched from the running server's /openapi.json (not docs/openapi.json), so every
operation the server documents is exercised, including ones added later. For each one,
schemathesis sends the schema's examples, its coverage cases (boundaries, missing and wrongly
typed fields, undeclared methods) and Hypothesis-generated requests, both valid (positive) and
invalid (negative), and runs all of its default checks on every response. A pass proves that,
for these inputs:

- no response is a 5xx (`not_a_server_error`);
- every status code, content type and header is one the schema documents for the operation
  (`status_code_conformance`, `content_type_conformance`, `response_headers_conformance`);
- every body validates against its documented schema (`response_schema_conformance`);
- valid requests are accepted and invalid ones refused with a 4xx (`positive_data_acceptance`,
  `negative_data_rejection`); declared authentication is enforced (`ignored_auth`,
  `missing_required_header`); undeclared methods get 405 with an Allow header
  (`unsupported_method`).

Writes need an X-API-Key; the fixture server has none configured, so they answer 403
problem+json, which must conform like any other response. A failure is a server bug: its report
ends with a curl command that reproduces it.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import KEY, copy_index, start_server, stop_server

# Explicit config, so that a stray schemathesis.toml cannot change what this test proves. Reports
# are not sanitized: the server has no secrets (no keys are configured) and a curl command with
# masked values ("[Filtered]" for `max_tokens`, say) would not reproduce anything.
CONFIG = {"output": {"sanitization": {"enabled": False}}}


@pytest.fixture(scope="module")
def live_schema(server):
    """The schema as the running server serves it, with requests aimed at that server."""
    schema = schemathesis.openapi.from_url(
        f"{server.base_url}/openapi.json", config=SchemathesisConfig.from_dict(CONFIG), timeout=30
    )
    schema.config.update(base_url=server.base_url, request_timeout=30)
    return schema


@pytest.fixture(autouse=True)
def _item_nodeid(request):
    """schemathesis 4.32's lazy schemas read and rename `item._nodeid`, which pytest 9.2 no
    longer has (the node id lives in `item._id`): give them the attribute to work with.
    Operations are still reported one by one, as subtests labelled "METHOD /path"."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("live_schema")


# Refusals of schema-valid requests for reasons a JSON schema cannot state: (status, problem type
# slug, words in the detail). Whether the ids in `filters.doc_ids` name indexed documents depends
# on the index (the schema's own example names one from the real corpus, absent from the fixture
# index); `date_from` after `date_to` compares two fields. Both refusals are documented (400, 422).
_BEYOND_THE_SCHEMA = (
    (400, "bad-query", "unknown document id"),
    (422, "validation-error", "date_from must not be after date_to"),
    (422, "bad-document", "no text after cleaning"),  # only markup, control characters, ...
    (409, "conflict", "only document"),  # the index must keep one document
    (415, "unsupported-upload", "is not a"),  # the file's name must end .txt/.md/.markdown
)


def _not_applicable(response) -> list:
    """Checks that cannot judge this response.

    `positive_data_acceptance` takes every schema-valid request as one the server must accept;
    it cannot judge the refusals above. Only those are exempt, and only from that check: any
    other refusal of valid data still fails it, and every other check still runs.
    """
    try:
        problem = response.json()
    except ValueError:
        return []
    if not isinstance(problem, dict):
        return []
    kind, detail = str(problem.get("type", "")), str(problem.get("detail", ""))
    for status, slug, words in _BEYOND_THE_SCHEMA:
        if response.status_code == status and kind.endswith(f"/{slug}") and words in detail:
            return [positive_data_acceptance]
    return []


@pytest.fixture(scope="module")
def writable_schema(tmp_path_factory, fixture_settings):
    """The same, from a server over a private copy of the index that accepts writes with KEY."""
    server = start_server(copy_index(fixture_settings, tmp_path_factory.mktemp("fuzz-writes")))
    schema = schemathesis.openapi.from_url(
        f"{server.base_url}/openapi.json", config=SchemathesisConfig.from_dict(CONFIG), timeout=30
    )
    schema.config.update(base_url=server.base_url, request_timeout=120)
    yield schema
    stop_server(server)


def _bounded(max_examples: int):
    """Repeatable and bounded: the same examples every run, no deadline on a busy machine."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


writes = schemathesis.pytest.from_fixture("writable_schema").include(method=["POST", "DELETE"])


@_bounded(max_examples=25)
@writes.parametrize()
def test_keyed_writes_conform_to_the_schema_and_never_fail_server_side(case):
    """Adds and deletes with a valid key: the documents really change; the same checks."""
    response = case.call(headers={"X-API-Key": KEY})
    case.validate_response(response, excluded_checks=_not_applicable(response))


@_bounded(max_examples=40)
@schema.parametrize()
def test_every_operation_conforms_to_its_schema_and_never_fails_server_side(case):
    response = case.call()
    case.validate_response(response, excluded_checks=_not_applicable(response))
