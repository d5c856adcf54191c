"""HTML for the chat's cards and passages, built from escaped text only.

Everything that comes from a document or a person (passage text, titles, questions, figure
text) goes through `html.escape` before any tag of ours is put around it, so `<script>` in a
document shows as those characters and runs nothing. Streamlit's st.html sanitizes once more."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence

from index.types import Document, Figure, Passage, Quote

STYLE = """
<style>
.rq-card{border:1px solid #d0d7de;border-left:6px solid #1f6feb;border-radius:8px;
  padding:.7rem 1rem;margin:.2rem 0 .6rem;background:#f6f8fa;color:#1f2328}
.rq-card.rq-conflict{border-left-color:#bf8700;background:#fff8e5}
.rq-card.rq-closest{border-left-color:#8c959f;background:#ffffff;opacity:.85}
.rq-closest-head{font-size:.9rem;color:#57606a;margin:.3rem 0 .1rem}
.rq-sure{font-size:.9rem;color:#57606a;margin:-.3rem 0 .6rem}
.rq-value{font-size:1.7rem;font-weight:700;line-height:1.2}
.rq-subject{font-size:1rem;margin:.15rem 0 .35rem}
.rq-meta{font-size:.85rem;color:#57606a}
.rq-meta a{color:#0969da;text-decoration:none}
.rq-banner{font-weight:600;margin:.2rem 0 .4rem;color:#7d4e00}
.rq-notfound{border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:8px;
  padding:.6rem 1rem;background:#f6f8fa;color:#1f2328}
.rq-answer{line-height:1.55}
.rq-answer ul{margin:.3rem 0 .3rem 1.2rem;padding:0}
.rq-cite{font-size:.75em;font-weight:600;color:#0969da;vertical-align:super;
  text-decoration:none}
.rq-src{border:1px solid #d0d7de;border-radius:8px;margin:.35rem 0;padding:.45rem .8rem;
  scroll-margin-top:4rem}
.rq-src-head{color:#1f2328;text-decoration:none;font-size:.9rem;display:block}
.rq-src-head:hover{color:#0969da}
.rq-src-body{display:none;margin-top:.5rem}
.rq-src:target{border-color:#1f6feb;box-shadow:0 0 0 2px #ddf4ff}
.rq-src:target .rq-src-body{display:block}
.rq-passage{white-space:pre-wrap;line-height:1.5;font-size:.95rem}
.rq-table-head{white-space:pre-wrap;font-size:.9rem;font-weight:600;color:#57606a;
  border-bottom:1px dashed #d0d7de;margin-bottom:.3rem;padding-bottom:.2rem}
.rq-passage mark{background:#ffe58f;padding:0 .1em;border-radius:3px}
.rq-source{font-size:.85rem;color:#57606a;margin-bottom:.4rem}
.rq-doctext{white-space:pre-wrap;line-height:1.5;max-height:28rem;overflow:auto;
  border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem}
</style>
"""

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:^=])")


def escape_markdown(text: str) -> str:
    """Text shown where Streamlit reads Markdown (widget labels): every mark is literal."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", " ".join(text.split()))


def format_date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "undated"


def document_label(document: Document) -> str:
    """'Title (3 February 2023)', as pickers list documents."""
    return f"{document.title} ({format_date(document.date)})"


def quotes_html(quotes: Sequence[Quote], passages: Sequence[Passage], anchor: str = "") -> str:
    """The answer's quoted sentences, escaped, each with a [n] link opening its passage (see
    `sources_html`, same `anchor`)."""
    numbers = {p.id: i for i, p in enumerate(passages, 1)}
    blocks = []
    for quote in quotes:
        n = numbers.get(quote.passage_id)
        cite = f' <a class="rq-cite" href="#{anchor}-{n}">[{n}]</a>' if n else ""
        blocks.append(f"<p>“{html.escape(quote.text)}”{cite}</p>")
    return f'<div class="rq-answer">{"".join(blocks)}</div>'


def source_line(
    passage: Passage | None, number: int | None = None, with_date: bool = True, link: bool = True
) -> str:
    """'[2] Title · Publisher · 3 February 2023', the title linked when the document has a URL."""
    if passage is None:
        return ""
    title = html.escape(passage.title)
    if link and _is_web_link(passage.url):
        title = f'<a href="{html.escape(passage.url, quote=True)}" target="_blank">{title}</a>'
    parts = [title, html.escape(passage.source or "")]
    if with_date:
        parts.append(format_date(passage.date))
    parts.append(passage.page_label())
    label = f"[{number}] " if number else ""
    return label + " · ".join(p for p in parts if p)


def figure_card_html(
    figure: Figure,
    passage: Passage | None,
    number: int | None,
    conflict: bool = False,
    anchor: str = "",
    closest: bool = False,
) -> str:
    """The figure as written, what it counts, its date; its source opens the passage. A card in
    a conflict is amber; the closest figure under a decline is grey."""
    counts = figure.subject or figure.unit or ""
    source = html.escape(figure.doc_id)
    if passage is not None:
        line = source_line(passage, number, with_date=False, link=False)
        source = f'<a href="#{anchor}-{number}">{line}</a>' if anchor else line
    kind = " rq-conflict" if conflict else " rq-closest" if closest else ""
    return (
        f'<div class="rq-card{kind}">'
        f'<div class="rq-value">{html.escape(figure.text)}</div>'
        f'<div class="rq-subject">{html.escape(counts)}</div>'
        f'<div class="rq-meta">as of <strong>{format_date(figure.as_of)}</strong> · {source}'
        "</div></div>"
    )


def how_sure(confidence: float) -> str:
    """The calibrated confidence of a figure answer in words an official reads at a glance."""
    in_ten = round(confidence * 10)
    if confidence >= 0.8:
        words = "Very likely right"
    elif confidence >= 0.6:
        words = "Likely right"
    else:
        words = "Not certain: check the quoted passage"
    return f"{words} (about {in_ten} in 10 answers this sure were right in testing)"


def figures_html(
    figures: Sequence[Figure],
    passages: Sequence[Passage],
    conflict: bool,
    anchor: str = "",
    confidence: float | None = None,
) -> str:
    """One card for a single figure; under a warning, one card per figure when they disagree;
    then how sure the answer is, when that is known."""
    cards = [
        figure_card_html(f, *_passage_of(f, passages), conflict=conflict, anchor=anchor)
        for f in figures
    ]
    if confidence is not None:
        cards.append(f'<div class="rq-sure">{html.escape(how_sure(confidence))}</div>')
    if not conflict:
        return "".join(cards)
    banner = (
        f'<div class="rq-banner">⚠ The documents disagree: {len(figures)} different figures. '
        "Each is shown with its date and source.</div>"
    )
    return banner + "".join(cards)


def _passage_of(figure: Figure, passages: Sequence[Passage]) -> tuple[Passage | None, int | None]:
    for number, passage in enumerate(passages, 1):
        if passage.id == figure.chunk_id:
            return passage, number
    for number, passage in enumerate(passages, 1):
        if passage.doc_id == figure.doc_id:
            return passage, number
    return None, None


def sources_html(
    numbered: Iterable[tuple[int, Passage, Iterable[tuple[int, int]]]], anchor: str
) -> str:
    """Passages as a list of headings; a heading, or a citation linking to it, opens its
    passage (CSS :target, no script)."""
    return "".join(
        f'<div class="rq-src" id="{anchor}-{number}">'
        f'<a class="rq-src-head" href="#{anchor}-{number}">'
        f"{source_line(passage, number, link=False)}</a>"
        f'<div class="rq-src-body">{_table_header(passage)}'
        f'<div class="rq-passage">{mark_spans(passage.text, spans)}</div>'
        f"{_page_to_open(passage)}{_original_link(passage)}</div></div>"
        for number, passage, spans in numbered
    )


def _table_header(passage: Passage) -> str:
    """A passage that starts inside a table shows the table's caption and header row above it."""
    if not passage.table_header:
        return ""
    return (
        '<div class="rq-table-head" title="Repeated from above the passage">'
        f"{html.escape(passage.table_header)}</div>"
    )


def _page_to_open(passage: Passage) -> str:
    label = passage.page_label()
    if not label:
        return ""
    where = "page" if label.startswith("p.") else "pages"
    return f'<div class="rq-source">In the PDF: {where} {label.split(" ", 1)[1]}</div>'


def _original_link(passage: Passage) -> str:
    if not _is_web_link(passage.url):
        return ""
    href = html.escape(passage.url, quote=True)
    return f'<div class="rq-source"><a href="{href}" target="_blank">Open the original</a></div>'


def mark_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Escaped text with <mark> around each span (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif start < end:
            merged.append([start, end])
    pieces: list[str] = []
    at = 0
    for start, end in merged:
        pieces.append(html.escape(text[at:start]))
        pieces.append(f"<mark>{html.escape(text[start:end])}</mark>")
        at = end
    pieces.append(html.escape(text[at:]))
    return "".join(pieces)


def closest_html(figure: Figure, passages: Sequence[Passage], anchor: str = "") -> str:
    """Under a decline: the closest figure found, plainly marked as not the answer."""
    card = figure_card_html(figure, *_passage_of(figure, passages), anchor=anchor, closest=True)
    return '<div class="rq-closest-head">Closest figure found — not the answer</div>' + card


def not_found_html(text: str) -> str:
    return (
        '<div class="rq-notfound"><strong>Not found in the documents.</strong> '
        f"{html.escape(text)}</div>"
    )


def document_text_html(text: str) -> str:
    return f'<div class="rq-doctext">{html.escape(text)}</div>'


def _is_web_link(url: str | None) -> bool:
    return bool(url) and url.lower().startswith(("http://", "https://"))
