"""The conversation the chat keeps in the session: what was asked, what came back, and its
history for follow-ups and its Markdown export."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from ui.client import Reply
from ui.render import format_date

HISTORY_TURNS = 10  # earlier exchanges sent with a follow-up
_MAX_TURN_CHARS = 10_000  # the API's limit on one history turn


@dataclass
class Exchange:
    question: str
    reply: Reply | None = None
    error: str = ""  # why no reply came, as a sentence
    retryable: bool = False
    feedback: str = ""  # "up" or "down" once sent
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # keys its widgets


def history_for(exchanges: list[Exchange]) -> list[dict[str, str]]:
    """Earlier answered exchanges as /v1/ask `history` turns, oldest first."""
    turns: list[dict[str, str]] = []
    for exchange in [e for e in exchanges if e.reply is not None][-HISTORY_TURNS:]:
        turns.append({"role": "user", "content": exchange.question[:_MAX_TURN_CHARS]})
        answer = exchange.reply.answer.text[:_MAX_TURN_CHARS]
        turns.append({"role": "assistant", "content": answer})
    return turns


def conversation_markdown(exchanges: list[Exchange], now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now().astimezone()
    lines = ["# Reform QA conversation", "", f"Exported {now:%Y-%m-%d %H:%M %Z}".rstrip(), ""]
    for number, exchange in enumerate(exchanges, 1):
        lines += [f"## Question {number}", "", exchange.question, ""]
        if exchange.reply is None:
            lines += [f"*No answer: {exchange.error}*", ""]
            continue
        answer = exchange.reply.answer
        if answer.abstained:
            lines += ["**Not found in the documents.**", ""]
        lines += [answer.text, ""]
        lines += _sources(exchange.reply)
    return "\n".join(lines).rstrip() + "\n"


def _sources(reply: Reply) -> list[str]:
    cited = set(reply.answer.citations)
    shown = [(n, p) for n, p in enumerate(reply.passages, 1) if p.id in cited or not cited]
    if not shown:
        return []
    heading = "Sources" if cited else "Closest passages"
    lines = [f"**{heading}**", ""]
    for number, passage in shown:
        where = "; ".join(x for x in (passage.source, format_date(passage.date), passage.url) if x)
        lines.append(f"[{number}] {passage.title} ({where}), passage `{passage.id}`")
        lines.append(f"> {' '.join(passage.text.split())}")
        lines.append("")
    return lines
