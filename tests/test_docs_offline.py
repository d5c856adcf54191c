"""/docs in headless Chromium with the network off: every request that is not for the server on
127.0.0.1 is refused and recorded, and Swagger UI must still show the API. The server closes
reads behind a key; the docs page must not need one."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import copy_index, start_server, stop_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def closed_reads(tmp_path_factory, fixture_settings):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (`make test` installs it)")
    settings = copy_index(fixture_settings, tmp_path_factory.mktemp("docs-offline"))
    server = start_server(settings, REFORMQA_READ_REQUIRES_KEY="true")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def browser(closed_reads) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_the_docs_page_shows_the_operations_with_no_request_leaving_loopback(browser, closed_reads):
    context = browser.new_context()
    left: list[str] = []
    errors: list[str] = []

    def loopback_only(route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{closed_reads.base_url}/docs")
    page.get_by_text("/v1/ask", exact=True).first.wait_for(state="visible")
    page.get_by_text("/v1/documents/{doc_id}", exact=True).first.wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    context.close()
    assert left == [], "requests left 127.0.0.1"
    assert errors == [], "errors in the browser console"
