"""The chat's flows in Streamlit's AppTest, against a real API server on loopback."""

from __future__ import annotations

import json
import socket

import pytest
from streamlit.testing.v1 import AppTest

import ui.client
from ui.conversation import Exchange

from .conftest import KEY, copy_index, free_port, run_cli, start_server, stop_server

LAND_QUESTION = "How many land-use certificates are stored as electronic records?"
TIMEOUT = 120


@pytest.fixture(scope="module")
def api(tmp_path_factory, fixture_settings):
    """A server over a private copy of the fixture index: feedback is written beside it."""
    settings = copy_index(fixture_settings, tmp_path_factory.mktemp("ui-api"))
    server = start_server(settings)
    yield server
    stop_server(server)


@pytest.fixture
def app(api, monkeypatch) -> AppTest:
    monkeypatch.setenv("REFORMQA_API_URL", api.base_url)
    monkeypatch.delenv("REFORMQA_API_KEYS", raising=False)
    monkeypatch.delenv("REFORMQA_UI_API_KEY", raising=False)
    at = AppTest.from_file("../ui/app.py", default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception
    return at


def _html(at: AppTest) -> str:
    return "\n".join(element.proto.body for element in at.get("html"))


def _exchanges(at: AppTest) -> list[Exchange]:
    return at.session_state["exchanges"]


def test_empty_chat_offers_three_sample_questions_that_ask(app):
    samples = [b for b in app.button if b.key and b.key.startswith("sample-")]
    assert len(samples) == 3
    question = samples[0].label
    samples[0].click().run()
    assert not app.exception
    assert [e.question for e in _exchanges(app)] == [question]
    assert _exchanges(app)[0].reply is not None
    assert not [b for b in app.button if b.key and b.key.startswith("sample-")]


def test_figure_answer_shows_its_card_and_cited_passage_with_the_span_marked(app):
    _ask(app, LAND_QUESTION)
    reply = _exchanges(app)[-1].reply
    assert not reply.answer.abstained and reply.answer.figures
    figure = reply.answer.figures[0]
    assert figure.text == "More than 1.2 million"
    page = _html(app)
    assert '<div class="rq-value">More than 1.2 million</div>' in page
    assert "as of <strong>1 September 2023</strong>" in page
    assert "Land registry goes online" in page and "Example Land Agency" in page
    assert "<mark>More than 1.2 million</mark>" in page  # in the cited passage's popover
    cited = [p for p in reply.passages if p.id in reply.answer.citations]
    assert cited and "[1] Land registry goes online" in page


def test_follow_up_is_sent_with_the_history(app, monkeypatch):
    sent: list[list[dict]] = []
    real_ask = ui.client.ApiClient.ask

    def spy(self, question, history=None, top_k=5, filters=None):
        sent.append(list(history or []))
        return real_ask(self, question, history, top_k, filters)

    monkeypatch.setattr(ui.client.ApiClient, "ask", spy)
    _ask(app, LAND_QUESTION)
    first_answer = _exchanges(app)[-1].reply.answer.text
    _ask(app, "And how many provinces pay fees online?")
    assert sent == [
        [],
        [
            {"role": "user", "content": LAND_QUESTION},
            {"role": "assistant", "content": first_answer},
        ],
    ]
    assert len(app.chat_message) == 4  # two questions, two answers, all kept


def test_new_conversation_starts_empty(app):
    _ask(app, LAND_QUESTION)
    [new] = [b for b in app.button if b.label == "New conversation"]
    new.click().run()
    assert _exchanges(app) == []
    assert len([b for b in app.button if b.key and b.key.startswith("sample-")]) == 3


def test_question_the_documents_do_not_answer_says_so_and_offers_the_closest(app):
    _ask(app, "How many nuclear submarines does Thailand operate?")
    reply = _exchanges(app)[-1].reply
    assert reply.answer.abstained
    assert "Not found in the documents." in _html(app)
    assert any(m.value == "**Closest passages**" for m in app.markdown)
    assert 'class="rq-card' not in _html(app)


def test_filters_restrict_the_passages(app):
    app.sidebar.multiselect(key="doc_filter").set_value(["budget_2024"]).run()
    _ask(app, LAND_QUESTION)
    passages = _exchanges(app)[-1].reply.passages
    assert passages and {p.doc_id for p in passages} == {"budget_2024"}


def test_api_down_gives_a_message_and_a_retry_that_works_once_it_is_back(app, api, monkeypatch):
    monkeypatch.setenv("REFORMQA_API_URL", f"http://127.0.0.1:{free_port()}")
    _ask(app, LAND_QUESTION)
    assert not app.exception
    assert any("cannot be reached" in e.value for e in app.error)
    retry = [b for b in app.button if b.label == "Retry"]
    assert len(retry) == 1
    monkeypatch.setenv("REFORMQA_API_URL", api.base_url)
    retry[0].click().run()
    assert not app.exception and not app.error
    [exchange] = _exchanges(app)
    assert exchange.reply is not None and exchange.question == LAND_QUESTION


def test_feedback_is_stored_and_exported(app, api):
    _ask(app, LAND_QUESTION)
    exchange = _exchanges(app)[-1]
    app.get("feedback")[0].set_value(0).run()  # thumbs down
    app.text_input(key=f"comment-{exchange.id}").set_value("The date is missing")
    [send] = [b for b in app.button if b.label == "Send feedback"]
    send.click().run()  # the comment and the click reach the form together, as in a browser
    assert not app.exception
    assert _exchanges(app)[-1].feedback == "down"
    exported = run_cli("feedback", "export", "--data-dir", str(api.settings.data_dir))
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    mine = [r for r in rows if r["comment"] == "The date is missing"]
    assert len(mine) == 1
    assert mine[0]["rating"] == "down" and mine[0]["question"] == LAND_QUESTION
    assert mine[0]["answer"] == exchange.reply.answer.text
    assert mine[0]["citations"] == exchange.reply.answer.citations
    assert mine[0]["index_version"].startswith("v-")  # the server names the version it served


def test_conversation_export_is_offered_once_there_is_one(app):
    [export] = [b for b in app.get("download_button")]
    assert export.proto.disabled
    _ask(app, LAND_QUESTION)
    [export] = [b for b in app.get("download_button")]
    assert not export.proto.disabled


def test_documents_page_lists_the_corpus_and_opens_a_document_with_its_figures(app):
    app.switch_page("pages/documents.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert sorted(table["Id"]) == [
        "budget_2024", "land_registry", "notes_without_front_matter", "vi_summary",
    ]  # fmt: skip
    app.selectbox(key="open_document").set_value("land_registry").run()
    figures = app.dataframe[1].value
    assert "More than 1.2 million" in list(figures["Figure"])
    assert "The land agency finished moving its registry online." in _html(app)


def test_upload_without_a_key_says_where_to_put_one(app):
    app.switch_page("pages/documents.py").run()
    [add] = [b for b in app.button if b.label == "Add document"]
    add.click().run()
    assert any("needs an API key" in e.value for e in app.error)


def test_key_from_settings_fills_the_sidebar(api, monkeypatch):
    monkeypatch.setenv("REFORMQA_API_URL", api.base_url)
    monkeypatch.setenv("REFORMQA_API_KEYS", f"{KEY},other")
    at = AppTest.from_file("../ui/app.py", default_timeout=TIMEOUT).run()
    assert at.sidebar.text_input(key="api_key").value == KEY


def test_sample_questions_come_from_the_settings(api, monkeypatch):
    monkeypatch.setenv("REFORMQA_API_URL", api.base_url)
    monkeypatch.setenv("REFORMQA_UI_SAMPLE_QUESTIONS", "How many schools? | What changed in 2024?")
    at = AppTest.from_file("../ui/app.py", default_timeout=TIMEOUT).run()
    labels = [b.label for b in at.button if b.key and b.key.startswith("sample-")]
    assert labels == ["How many schools?", "What changed in 2024?"]


def test_a_slow_api_gives_a_message_and_a_retry(app, monkeypatch):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("REFORMQA_API_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("REFORMQA_API_TIMEOUT_SECONDS", "1")
        _ask(app, LAND_QUESTION)
    assert any("did not answer within 1 s" in e.value for e in app.error)
    assert [b.label for b in app.button if b.label == "Retry"] == ["Retry"]
