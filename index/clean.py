"""Remove web-page furniture from article text without touching its content.

The rules are about page furniture in general (image tokens, CMS ids, datelines, site banners,
widget labels, navigation lists after the article), never about particular documents. Content is
never furniture: a line that was written as a list item, a table row or a heading, and a line that
states a number (other than a date, a clock time, a web address or a file name), is always kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IMAGE_TOKEN = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_CMS_TOKEN = re.compile(r"\b[A-Z]{2,}_[A-Z0-9]{6,}\b")
_TABLE_PIPES = re.compile(r"^\s*\|+\s*|\s*\|+\s*$")
_IMAGE_FILE = re.compile(r"^\S+\.(?:jpe?g|png|gif|webp|svg|bmp)$", re.IGNORECASE)
_BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_NO_WORDS = re.compile(r"^[\W_]*$")
_SITE_BANNER = re.compile(r"^[\w.-]+\.(?:vn|com|net|org|gov|info|io)\b", re.IGNORECASE)
_DATE_OR_TIME = re.compile(
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\b\d{1,2}:\d{2}(?:\s*[AP]M)?\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}",
    re.IGNORECASE,
)
# Numbers that are addresses, not quantities: URLs, file names, long hexadecimal ids
_NUMBERED_ADDRESS = re.compile(
    r"(?:https?://|www\.)\S+|\S+\.(?:html?|php|aspx?|jpe?g|png|gif|webp|svg|bmp|pdf)\b|"
    r"\b[0-9a-f]{16,}(?:-\d+)?\b",
    re.IGNORECASE,
)
_WIDGET = re.compile(
    r"^(?:comments?(?: \(\d+\))?|no data|same (?:tag|category|author)|related(?: news| articles)?|"
    r"latest(?: news)?|read more|share|print|tags?:.*|powered by.*|no videos available)$",
    re.IGNORECASE,
)
# How a line was written, before cleaning: a Markdown list item, table row or heading
_STRUCTURE = re.compile(r"^\s*(?:[-*+•▪◦]\s+\S|\d{1,3}[.)]\s+\S|[a-z][.)]\s+\S|\||#{1,6}\s)")
_TERMINAL = re.compile(r"[.!?…:;\"”')\]]$")
_SENTENCE_END = re.compile(r"[.!?…\"”]$")
_SHORT_LINE_WORDS = 16
# A run of short lines after the last sentence is page furniture (bylines, link lists, menus)
# only while it is small beside the article: past either bound, it is the document itself.
_MAX_TRAILING_LINES = 60
_MAX_TRAILING_SHARE = 0.5


@dataclass(frozen=True)
class _Line:
    text: str  # cleaned
    written_as_structure: bool  # a list item, table row or heading in the source


def clean_text(raw: str) -> str:
    """Cleaned article text: one paragraph per line, paragraphs separated by a blank line."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [_read_line(line) for line in text.split("\n")]
    kept = [line for line in lines if line.text and not _is_furniture(line)]
    kept = _drop_repeats(kept)
    kept = _drop_trailing_furniture(kept)
    return "\n\n".join(line.text for line in kept)


def _read_line(raw: str) -> _Line:
    line = _IMAGE_TOKEN.sub("", raw)
    line = _CMS_TOKEN.sub("", line)
    structured = bool(_STRUCTURE.match(line))
    line = _TABLE_PIPES.sub("", line)
    return _Line(re.sub(r"[ \t]+", " ", line).strip(), structured)


def _is_furniture(line: _Line) -> bool:
    text = line.text
    if _NO_WORDS.match(text) or _IMAGE_FILE.match(text) or _BARE_URL.match(text):
        return True
    if _WIDGET.match(text):
        return True
    if _is_sentence(text) or _is_content(line):
        return False
    short = len(text.split()) <= 8
    return short and (bool(_DATE_OR_TIME.search(text)) or bool(_SITE_BANNER.match(text)))


def _is_content(line: _Line) -> bool:
    return line.written_as_structure or states_a_number(line.text)


def states_a_number(text: str) -> bool:
    """A digit outside dates, clock times, web addresses and file names: '17 one-stop shops',
    not '14:44, October 16, 2023' or 'bna_IMG_0895.jpg'."""
    rest = _NUMBERED_ADDRESS.sub(" ", text)
    rest = _DATE_OR_TIME.sub(" ", rest)
    return any(ch.isdigit() for ch in rest)


def _is_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(text)) and len(text.split()) > 3


def _drop_repeats(lines: list[_Line]) -> list[_Line]:
    """Captions are often printed twice in a row; keep one (table rows and list items stay)."""
    out: list[_Line] = []
    for line in lines:
        if not out or out[-1] != line or line.written_as_structure:
            out.append(line)
    return out


def _drop_trailing_furniture(lines: list[_Line]) -> list[_Line]:
    """After the article's last sentence come bylines, source lines and link lists: drop them,
    unless the run is too long to be furniture."""
    end = len(lines)
    while end > 1 and _looks_like_link_or_label(lines[end - 1]):
        end -= 1
    trailing, article = lines[end:], lines[:end]
    if len(trailing) > _MAX_TRAILING_LINES or _words(trailing) > _MAX_TRAILING_SHARE * _words(
        lines
    ):
        return lines
    return article


def _looks_like_link_or_label(line: _Line) -> bool:
    if _is_content(line):
        return False
    return not _SENTENCE_END.search(line.text) and len(line.text.split()) <= _SHORT_LINE_WORDS


def _words(lines: list[_Line]) -> int:
    return sum(len(line.text.split()) for line in lines)
