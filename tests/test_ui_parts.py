"""The chat's pure parts: escaping, highlighting, cards, the timeline, history and export."""

from __future__ import annotations

import datetime as dt

import pytest

from index.types import Answer, Figure, Passage, Quote
from ui.client import ApiClient, ApiUnavailable, Reply
from ui.conversation import Exchange, conversation_markdown, history_for
from ui.render import (
    closest_html,
    escape_markdown,
    figures_html,
    how_sure,
    mark_spans,
    quotes_html,
    source_line,
    sources_html,
)
from ui.timeline import timeline_points

from .conftest import free_port

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def _figure(text: str, value: float, as_of: str, chunk_id: str, **extra) -> Figure:
    doc_id = chunk_id.split("#")[0]
    fields = {"unit": "cards", "subject": "identity cards", "sentence": f"{text} cards."}
    return Figure(
        value=value, text=text, as_of=dt.date.fromisoformat(as_of), doc_id=doc_id,
        chunk_id=chunk_id, **{**fields, **extra},
    )  # fmt: skip


def _passage(pid: str, title: str, text: str = "", figures=(), **extra) -> Passage:
    return Passage(
        id=pid, doc_id=pid.split("#")[0], title=title, text=text or f"text of {pid}", score=0.9,
        span=(0, 10), figures=list(figures), **extra,
    )  # fmt: skip


def test_quotes_html_escapes_each_quote_and_links_it_to_its_passage():
    passages = [_passage("a#0001", "A"), _passage("b#0002", "B")]
    quotes = [
        Quote(text=f"Over 76 million cards {XSS}", passage_id="b#0002", span=(0, 30)),
        Quote(text="A quote from a passage not shown", passage_id="c#0003", span=(0, 5)),
    ]
    rendered = quotes_html(quotes, passages, "rq-a")
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert '<a class="rq-cite" href="#rq-a-2">[2]</a>' in rendered
    assert rendered.count("<p>") == 2 and rendered.count("rq-cite") == 1


def test_mark_spans_escapes_inside_and_outside_and_merges_overlaps():
    text = "a <b> 76 million & more <i>"
    marked = mark_spans(text, [(6, 16), (9, 18), (50, 60)])
    assert marked == "a &lt;b&gt; <mark>76 million &amp;</mark> more &lt;i&gt;"
    assert mark_spans("abc", []) == "abc"


def test_sources_open_by_anchor_mark_the_span_and_link_only_web_urls():
    safe = _passage(
        "d#0", f"T {XSS}", text="It holds 76 million cards.", url="https://x.example/a?b=1&c=2"
    )
    rendered = sources_html([(2, safe, [(9, 19)])], "rq-a")
    assert (
        '<div class="rq-src" id="rq-a-2"><a class="rq-src-head" href="#rq-a-2">[2] T &lt;'
        in rendered
    )
    assert "It holds <mark>76 million</mark> cards." in rendered
    assert '<a href="https://x.example/a?b=1&amp;c=2" target="_blank">Open the original' in rendered
    assert "<script>" not in rendered
    unsafe = sources_html([(1, _passage("d#0", "T", url="javascript:alert(1)"), [])], "rq-a")
    assert "javascript" not in unsafe and "Open the original" not in unsafe


def test_escape_markdown_makes_every_mark_literal():
    assert escape_markdown("**[x](javascript:1)** $a$ <b>") == (
        r"\*\*\[x\]\(javascript\:1\)\*\* \$a\$ \<b\>"
    )


def test_conflict_cards_show_each_value_with_its_date_and_source():
    first = _figure("more than 76 million", 76e6, "2023-02-03", "a#1")
    second = _figure("nearly 78 million", 78e6, "2023-02-05", "b#2")
    passages = [
        _passage("a#1", "PM on reform", source="Nghe An"), _passage("b#2", f"VSS {XSS}"),
    ]  # fmt: skip
    rendered = figures_html([first, second], passages, conflict=True, anchor="rq-a")
    assert '<a href="#rq-a-2">[2] VSS' in rendered  # a card's source opens its passage
    assert "disagree" in rendered and rendered.count('class="rq-card rq-conflict"') == 2
    for expected in (
        "more than 76 million", "3 February 2023", "[1] PM on reform", "Nghe An",
        "nearly 78 million", "5 February 2023", "[2] VSS &lt;script&gt;",
    ):  # fmt: skip
        assert expected in rendered
    assert "<script>" not in rendered


def test_timeline_needs_the_same_thing_at_two_dates():
    lead = _figure("76 million", 76e6, "2023-02-03", "a#1")
    later = _figure("80 million", 80e6, "2024-01-10", "b#1")
    other_unit = _figure("12%", 12, "2022-01-01", "c#1", unit="%")
    other_thing = _figure("5 million", 5e6, "2021-01-01", "c#2", subject="passports")
    passages = [_passage("b#1", "Later report", figures=[later, other_unit, other_thing])]
    points = timeline_points([lead], passages)
    assert [(p.as_of, p.text, p.source) for p in points] == [
        ("2023-02-03", "76 million", "a"),
        ("2024-01-10", "80 million", "Later report"),
    ]
    assert timeline_points([lead], [_passage("c#1", "x", figures=[other_unit])]) == []


def _reply(question: str, text: str, abstained: bool = False) -> Reply:
    passage = _passage("a#1", "PM on reform", source="Nghe An", date=dt.date(2023, 2, 3))
    answer = Answer(
        text=text, abstained=abstained, confidence=0.9,
        citations=[] if abstained else ["a#1"],
    )  # fmt: skip
    return Reply(question=question, answer=answer, passages=[passage])


def test_history_sends_answered_exchanges_oldest_first():
    exchanges = [
        Exchange("How many ID cards?", _reply("How many ID cards?", "76 million [1]")),
        Exchange("And passports?", error="The answer service cannot be reached."),
        Exchange("And in 2024?", _reply("And in 2024?", "80 million [1]")),
    ]
    assert history_for(exchanges) == [
        {"role": "user", "content": "How many ID cards?"},
        {"role": "assistant", "content": "76 million [1]"},
        {"role": "user", "content": "And in 2024?"},
        {"role": "assistant", "content": "80 million [1]"},
    ]


def test_markdown_export_has_questions_answers_and_sources():
    exchanges = [
        Exchange("How many ID cards?", _reply("How many ID cards?", "**76 million** [1]")),
        Exchange("Budget of Mars?", _reply("Budget of Mars?", "The documents do not say.", True)),
        Exchange("Down?", error="The answer service cannot be reached."),
    ]
    exported = conversation_markdown(exchanges, now=dt.datetime(2026, 11, 23, 10, 0))
    assert exported.startswith("# Reform QA conversation\n")
    for expected in (
        "## Question 1", "How many ID cards?", "**76 million** [1]", "**Sources**",
        "[1] PM on reform (Nghe An; 3 February 2023), passage `a#1`", "> text of a#1",
        "**Not found in the documents.**", "**Closest passages**",
        "*No answer: The answer service cannot be reached.*",
    ):  # fmt: skip
        assert expected in exported


def test_client_names_an_api_that_is_down():
    client = ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(ApiUnavailable, match="cannot be reached"):
        client.ask("How many ID cards?")


@pytest.mark.parametrize(
    ("confidence", "words"),
    [(0.93, "Very likely right (about 9 in 10"), (0.64, "Likely right (about 6 in 10"),
     (0.41, "Not certain: check the quoted passage (about 4 in 10")],
)  # fmt: skip
def test_the_figure_card_says_how_sure_the_answer_is_in_words(confidence, words):
    assert how_sure(confidence).startswith(words)
    figure = Figure(value=12, text="12", doc_id="d", chunk_id="d#0000")
    card = figures_html([figure], [], conflict=False, confidence=confidence)
    assert words.split(" (")[0] in card and 'class="rq-sure"' in card
    assert "rq-sure" not in figures_html([figure], [], conflict=False)


def test_the_closest_figure_under_a_decline_is_marked_as_not_the_answer():
    figure = Figure(value=1250, text="1,250", subject="surplus staff", doc_id="d", chunk_id="d#0")
    card = closest_html(figure, [])
    assert "not the answer" in card and "rq-closest" in card and "1,250" in card


def test_a_pdf_passage_is_cited_with_its_page_and_says_which_page_to_open():
    one_page = _passage("r#0003", "Report", page_start=2, page_end=2)
    two_pages = _passage("r#0004", "Report", page_start=2, page_end=3)
    assert source_line(one_page, 1).endswith("· p. 2")
    assert source_line(two_pages, 2).endswith("· pp. 2-3")
    assert "p." not in source_line(_passage("t#0001", "Text file"), 3)
    rendered = sources_html([(1, one_page, []), (2, two_pages, [])], "rq-a")
    assert "In the PDF: page 2<" in rendered and "In the PDF: pages 2-3<" in rendered


def test_a_passage_that_starts_inside_a_table_shows_its_header_row_above_its_text():
    header = "Table 3. Results by ward, 2023\n\nWard | Booked | <b>Online</b>"
    rows = _passage("r#0005", "Report", text="Ward 9 | 2,310 | 41%", table_header=header)
    rendered = sources_html([(1, rows, [(9, 14)])], "rq-a")
    head = rendered.index('class="rq-table-head"')
    assert head < rendered.index("Ward 9 | <mark>2,310</mark>")
    assert "Ward | Booked | &lt;b&gt;Online&lt;/b&gt;" in rendered[head:]
    assert "rq-table-head" not in sources_html([(1, _passage("r#0001", "Report"), [])], "rq-a")
