"""The chat in a real browser: Debian's Chromium driven by Playwright, against the API and the
chat that `make run` starts (over a private copy of the real corpus and its index).

Screenshots of each test's page go to .screenshots/ (ignored by git)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .conftest import KEY, ROOT, copy_index, free_port
from .made_files import two_page_pdf

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update",
]  # fmt: skip
SCREENSHOTS = ROOT / ".screenshots"
ID_CARDS = "How many ID cards had been issued by 2023?"
WAIT_MS = 90_000


@dataclass
class Running:
    process: subprocess.Popen
    api_url: str
    chat_url: str
    log: Path
    data_dir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def running(corpus_settings, tmp_path_factory) -> Iterator[Running]:
    """`make run` with its ports, index and corpus moved aside, so a developer's own run and
    docs_corpus/ are left alone."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (`make test` installs it)")
    folder = tmp_path_factory.mktemp("make-run")
    settings = copy_index(corpus_settings, folder)
    api_port, chat_port = free_port(), free_port()
    env = {
        **os.environ,
        "REFORMQA_DATA_DIR": str(settings.data_dir),
        "REFORMQA_CORPUS_DIR": str(settings.corpus_dir),
        "REFORMQA_PORT": str(api_port),
        "REFORMQA_UI_PORT": str(chat_port),
        "REFORMQA_API_KEYS": KEY,
    }
    log = folder / "make-run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    run = Running(
        process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{chat_port}", log,
        settings.data_dir,
    )  # fmt: skip
    try:
        _wait_for_line(run, "Ready: open")
        yield run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_line(run: Running, text: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while text not in run.output():
        assert run.process.poll() is None, f"make run exited:\n{run.output()[-3000:]}"
        assert time.monotonic() < deadline, f"no {text!r} from make run:\n{run.output()[-3000:]}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def browser(running):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    page: object
    errors: list[str]
    dialogs: list[str]


@pytest.fixture
def tab(browser, running, request) -> Iterator[Tab]:
    """A fresh page on the chat, every console error and dialog recorded; its screenshot kept."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    recorded = Tab(page, [], [])
    page.on("console", lambda m: m.type == "error" and recorded.errors.append(m.text))
    page.on("pageerror", lambda e: recorded.errors.append(str(e)))
    page.on("dialog", lambda d: (recorded.dialogs.append(d.message), d.dismiss()))
    page.goto(running.chat_url)
    page.get_by_test_id("stChatInputTextArea").wait_for()
    yield recorded
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
    assert recorded.errors == [], "errors in the browser console"
    assert recorded.dialogs == [], "a dialog opened: something ran"


def _ask(page, question: str) -> None:
    answers = page.locator(".rq-answer, .rq-notfound").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.rq-answer, .rq-notfound').length > n", arg=answers
    )


def test_sample_question_shows_both_id_card_figures_with_their_dates_and_sources(tab):
    page = tab.page
    samples = page.get_by_role("button", name=re.compile(r"\?$"))
    assert samples.count() == 3
    page.get_by_role("button", name=ID_CARDS).click()
    page.locator(".rq-card").nth(1).wait_for()
    cards = page.locator(".rq-card")
    assert cards.count() == 2
    values = sorted(cards.locator(".rq-value").all_inner_texts())
    assert values == ["more than 76 million", "nearly 78 million"]
    for meta in cards.locator(".rq-meta").all_inner_texts():
        assert "as of 3 February 2023" in meta
    metas = " ".join(cards.locator(".rq-meta").all_inner_texts())
    assert "Nghe An Newspaper" in metas and "Viet Nam Social Security" in metas
    assert "documents disagree" in page.locator(".rq-banner").inner_text()


def test_a_figure_says_how_sure_it_is_and_a_decline_offers_the_closest_figure(tab):
    page = tab.page
    _ask(page, ID_CARDS)
    assert re.search(r"\(about \d+ in 10 answers", page.locator(".rq-sure").last.inner_text())
    _ask(page, "How many submarines does the navy operate?")
    head = page.locator(".rq-closest-head").last
    head.wait_for()
    assert "not the answer" in head.inner_text()
    closest = page.locator(".rq-card.rq-closest .rq-value").last.inner_text()
    assert closest and re.search(r"\d", closest)
    # the decline says why, from the answer's reason, and the closest figure is only in its card
    why = page.locator(".rq-notfound").last.inner_text()
    assert re.search(r"Not found in the documents\. [A-Z][^.]+ answers this well enough\.$", why)
    assert closest not in why


def test_a_citation_in_the_answer_opens_its_passage_with_the_figure_marked(tab):
    page = tab.page
    _ask(page, ID_CARDS)
    opened = page.locator(".rq-src:target .rq-src-body")
    assert opened.count() == 0
    page.locator("a.rq-cite", has_text="[1]").first.click()
    opened.locator("mark").first.wait_for(state="visible")
    assert opened.locator("mark").first.inner_text() in (
        "more than 76 million",
        "nearly 78 million",
    )
    assert "3 February 2023" in page.locator(".rq-src:target .rq-src-head").inner_text()


def _open_documents_with_the_key(page) -> None:
    page.get_by_role("link", name="Documents").click()
    page.get_by_text("Add a document").wait_for()
    page.get_by_text("API key (to add documents)").click()
    key = page.get_by_placeholder("X-API-Key")
    key.fill(KEY)
    key.press("Enter")


def test_uploaded_document_is_listed_and_answers_questions(tab, tmp_path):
    page = tab.page
    _open_documents_with_the_key(page)
    upload = tmp_path / "fishing_licences.md"
    upload.write_text(
        "The provincial fisheries department finished its digital licensing programme.\n\n"
        "By March 2024, the department had issued 4,321 digital fishing licences to boat "
        "owners along the coast.\n",
        encoding="utf-8",
    )
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_label("Title").fill("Fishing licences go digital")
    page.get_by_label("Source").fill("Example Fisheries Department")
    page.get_by_role("button", name="Add document").click()
    page.get_by_text("Added “Fishing licences go digital”").wait_for()
    page.get_by_role("link", name="Ask").click()
    _ask(page, "How many digital fishing licences had been issued?")
    assert page.locator(".rq-card .rq-value").last.inner_text() == "4,321"
    assert "Fishing licences go digital" in page.locator(".rq-card .rq-meta").last.inner_text()


def test_an_uploaded_pdf_answers_with_its_table_cell_and_cites_its_page(tab, tmp_path):
    page = tab.page
    _open_documents_with_the_key(page)
    upload = tmp_path / "ward_results.pdf"
    upload.write_bytes(two_page_pdf(title="Ward results 2023"))
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Add document").click()
    page.get_by_text("Added “Ward results 2023”").wait_for()
    page.get_by_role("link", name="Ask").click()
    _ask(page, "How many appointments were booked in Ward 7?")
    assert page.locator(".rq-card .rq-value").last.inner_text() == "4,120"
    meta = page.locator(".rq-card .rq-meta").last.inner_text()
    assert "Ward results 2023" in meta and re.search(r"\bpp?\. (1-)?2\b", meta), meta


def test_markup_in_documents_and_questions_is_shown_not_run(tab, running):
    page = tab.page
    text = (
        "The probe office counted 777 widgets in 2024 <script>window.__xss = 1</script> and "
        'logged them <img src="x" onerror="window.__xss = 2"> carefully.'
    )
    added = httpx.post(
        f"{running.api_url}/v1/documents", headers={"X-API-Key": KEY}, timeout=120,
        json={"id": "xss_probe", "title": "<b>Probe</b> <img src=x onerror=alert(3)>",
              "date": "2024-06-01", "text": text},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    _ask(page, 'How many widgets did the probe office count? <img src=x onerror="alert(4)">')
    page.get_by_text('<img src=x onerror="alert(4)">').first.wait_for()  # the question, as text
    page.locator(".rq-src-head", has_text="<b>Probe</b>").first.click()
    passage = page.locator(".rq-src:target .rq-passage")
    assert "<script>window.__xss = 1</script>" in passage.inner_text()
    page.get_by_role("link", name="Documents").click()
    page.get_by_text("Open a document").wait_for()
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name=re.compile("Probe")).click()
    page.get_by_text("Full text").click()
    assert '<img src="x" onerror="window.__xss = 2">' in page.locator(".rq-doctext").inner_text()
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0


def test_ctrl_c_stops_the_api_and_the_chat(running):
    output = running.output()
    assert f"Reform QA chat: {running.chat_url}" in output
    assert f"Reform QA API:  {running.api_url}" in output
    os.killpg(running.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert running.process.wait(timeout=60) in (0, 130, -signal.SIGINT)  # make dies of it
    for url in (running.api_url, running.chat_url):
        port = int(url.rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"{url} still answers"
