"""Ask: the conversation, each answer with its figure card, conflicts, timeline and sources."""

from __future__ import annotations

import streamlit as st

from assistant.feedback import MAX_COMMENT_CHARS
from index.types import Filters, Passage
from ui import session
from ui.client import ApiClient, ApiError, ApiProblem
from ui.conversation import Exchange, conversation_markdown, history_for
from ui.render import (
    closest_html,
    document_label,
    escape_markdown,
    figures_html,
    not_found_html,
    quotes_html,
    sources_html,
)
from ui.timeline import timeline_chart, timeline_points

EXCHANGES = "exchanges"
PENDING = "pending_question"


def main() -> None:
    client = session.client()
    exchanges: list[Exchange] = st.session_state.setdefault(EXCHANGES, [])
    top_k, filters = _sidebar(client, exchanges)
    st.title("Reform QA")
    st.caption(
        "Figures from Vietnam's administrative-reform documents, with the date they were true "
        "and the passages they come from."
    )
    if not exchanges:
        _welcome()
    for exchange in exchanges:
        _show(exchange)
    typed = st.chat_input(
        "Ask about the reform documents", max_chars=session.settings().max_query_chars
    )
    question = typed or st.session_state.pop(PENDING, None)
    if question and question.strip():
        _ask(client, exchanges, question.strip(), top_k, filters)


def _sidebar(client: ApiClient, exchanges: list[Exchange]) -> tuple[int, Filters | None]:
    with st.sidebar:
        st.button(
            "New conversation", icon=":material/add_comment:", on_click=_new_conversation,
            use_container_width=True, disabled=not exchanges,
        )  # fmt: skip
        st.download_button(
            "Export conversation (Markdown)", data=conversation_markdown(exchanges),
            file_name="reformqa-conversation.md", mime="text/markdown",
            icon=":material/download:", use_container_width=True, disabled=not exchanges,
            on_click="ignore",
        )  # fmt: skip
        st.subheader("Search")
        top_k = st.slider("Passages per answer", 1, 20, 5, key="top_k")
        filters = _filters(client)
    return top_k, filters


def _filters(client: ApiClient) -> Filters | None:
    try:
        documents = _document_choices(client.base_url)
    except ApiError:
        documents = {}
        st.caption("The document list is not available right now.")
    chosen = st.multiselect(
        "Only these documents", options=list(documents), format_func=documents.get,
        key="doc_filter", placeholder="All documents",
    )  # fmt: skip
    date_from = st.date_input(
        "Dated from", value=None, min_value=session.EARLIEST_DATE, key="date_from"
    )
    date_to = st.date_input("Dated to", value=None, min_value=session.EARLIEST_DATE, key="date_to")
    try:
        filters = Filters(doc_ids=chosen or None, date_from=date_from, date_to=date_to)
    except ValueError:
        st.error("The start date is after the end date: the dates are not applied.")
        filters = Filters(doc_ids=chosen or None)
    return None if filters.is_empty() else filters


@st.cache_data(ttl=30, show_spinner=False)
def _document_choices(base_url: str) -> dict[str, str]:
    documents = ApiClient(base_url, timeout=10).documents()
    return {d.id: document_label(d) for d in documents}


def _new_conversation() -> None:
    st.session_state[EXCHANGES] = []
    st.session_state.pop(PENDING, None)


def _welcome() -> None:
    with st.chat_message("assistant"):
        st.markdown(
            "Ask for a figure, a date or a decision. Every answer quotes the documents, "
            "with the date each figure was true and its source. Try one of these:"
        )
        for number, sample in enumerate(session.settings().sample_questions()):
            st.button(
                sample, key=f"sample-{number}", on_click=st.session_state.__setitem__,
                args=(PENDING, sample), icon=":material/help:",
            )  # fmt: skip


def _ask(client: ApiClient, exchanges: list[Exchange], question: str, top_k: int, filters) -> None:
    exchange = Exchange(question)
    with st.chat_message("user"):
        st.text(question)
    with st.chat_message("assistant"), st.spinner("Searching the documents…"):
        try:
            exchange.reply = client.ask(question, history_for(exchanges), top_k, filters)
        except ApiError as exc:
            exchange.error = exc.message
            exchange.retryable = not isinstance(exc, ApiProblem) or exc.retryable
    exchanges.append(exchange)
    st.rerun()


def _show(exchange: Exchange) -> None:
    with st.chat_message("user"):
        st.text(exchange.question)
    with st.chat_message("assistant"):
        if exchange.reply is None:
            _show_failure(exchange)
            return
        _show_answer(exchange)
        _feedback(exchange)


def _show_failure(exchange: Exchange) -> None:
    st.error(exchange.error, icon=":material/cloud_off:")
    if exchange.retryable:
        st.button("Retry", key=f"retry-{exchange.id}", on_click=_retry, args=(exchange,),
                  icon=":material/refresh:")  # fmt: skip


def _retry(exchange: Exchange) -> None:
    exchanges: list[Exchange] = st.session_state[EXCHANGES]
    if exchange in exchanges:
        exchanges.remove(exchange)
    st.session_state[PENDING] = exchange.question


def _show_answer(exchange: Exchange) -> None:
    reply = exchange.reply
    answer = reply.answer
    if answer.abstained:
        st.html(not_found_html(_why(answer)))
        if answer.closest is not None:
            st.html(closest_html(answer.closest, reply.passages, _anchor(exchange.id)))
        _passage_list("Closest passages", reply.passages[:3], reply, exchange.id)
        return
    if answer.figures:
        conflict = bool(answer.conflicts)
        st.html(
            figures_html(
                answer.figures, reply.passages, conflict, _anchor(exchange.id), answer.confidence
            )
        )
    st.html(quotes_html(answer.quotes, reply.passages, _anchor(exchange.id)))
    points = timeline_points(answer.figures, reply.passages)
    if points:
        st.caption(
            f"“{escape_markdown(answer.figures[0].subject or '')}” at other dates in the "
            "retrieved passages: check each source before comparing."
        )
        st.altair_chart(timeline_chart(points, answer.figures[0].unit or "value"))
    cited = [p for p in reply.passages if p.id in answer.citations]
    others = [p for p in reply.passages if p.id not in answer.citations]
    _passage_list("Sources", cited, reply, exchange.id)
    if others:
        with st.expander(f"Other passages ({len(others)})"):
            _passage_list("", others, reply, exchange.id)


def _passage_list(heading: str, passages: list[Passage], reply, exchange_id: str) -> None:
    if heading:
        st.markdown(f"**{heading}**")
    numbered = [
        (reply.passages.index(p) + 1, p, _highlights(reply, p)) for p in passages
    ]  # fmt: skip
    st.html(sources_html(numbered, _anchor(exchange_id)))


def _anchor(exchange_id: str) -> str:
    return f"rq-{exchange_id}"


def _highlights(reply, passage: Passage) -> list[tuple[int, int]]:
    """The spans of the answer's figures in this passage; else its quoted sentences."""
    spans = [f.span for f in reply.answer.figures if f.chunk_id == passage.id]
    return spans or [q.span for q in reply.answer.quotes if q.passage_id == passage.id]


def _why(answer) -> str:
    """A decline's reason as a sentence; the answer's text when it gives none."""
    if not answer.reason:
        return answer.text
    return f"{answer.reason[0].upper()}{answer.reason[1:]}."


def _feedback(exchange: Exchange) -> None:
    if exchange.feedback:
        st.caption(f"Thank you: your feedback ({exchange.feedback}) was recorded.")
        return
    rating = st.feedback("thumbs", key=f"rating-{exchange.id}")
    if rating is None:
        return
    with st.form(key=f"feedback-{exchange.id}", border=False):
        comment = st.text_input(
            "Anything to add? (optional)", max_chars=MAX_COMMENT_CHARS, key=f"comment-{exchange.id}"
        )
        if st.form_submit_button("Send feedback"):
            _send_feedback(exchange, "up" if rating == 1 else "down", comment)


def _send_feedback(exchange: Exchange, rating: str, comment: str) -> None:
    reply = exchange.reply
    try:
        session.client().send_feedback(
            rating, exchange.question, reply.answer.text, reply.answer.citations, comment,
            reply.request_id,
        )  # fmt: skip
    except ApiError as exc:
        st.error(f"Feedback not sent. {exc.message}")
        return
    exchange.feedback = rating
    st.rerun()


main()
