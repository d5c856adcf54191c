"""Remove web-page furniture from article text without touching its sentences.

The rules are about page furniture in general (image tokens, CMS ids, datelines, site banners,
widget labels, navigation lists after the article), never about particular documents.
"""

from __future__ import annotations

import re

_IMAGE_TOKEN = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_CMS_TOKEN = re.compile(r"\b[A-Z]{2,}_[A-Z0-9]{6,}\b")
_TABLE_PIPES = re.compile(r"^\s*\|+\s*|\s*\|+\s*$")
_IMAGE_FILE = re.compile(r"^\S+\.(?:jpe?g|png|gif|webp|svg|bmp)$", re.IGNORECASE)
_BARE_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_NO_WORDS = re.compile(r"^[\W_]*$")
_SITE_BANNER = re.compile(r"^[\w.-]+\.(?:vn|com|net|org|gov|info|io)\b", re.IGNORECASE)
_DATE_OR_TIME = re.compile(
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\b\d{1,2}:\d{2}\b|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}",
    re.IGNORECASE,
)
_WIDGET = re.compile(
    r"^(?:comments?(?: \(\d+\))?|no data|same (?:tag|category|author)|related(?: news| articles)?|"
    r"latest(?: news)?|read more|share|print|tags?:.*|powered by.*|no videos available)$",
    re.IGNORECASE,
)
_TERMINAL = re.compile(r"[.!?…:;\"”')\]]$")
_SENTENCE_END = re.compile(r"[.!?…\"”]$")
_SHORT_LINE_WORDS = 16


def clean_text(raw: str) -> str:
    """Cleaned article text: one paragraph per line, paragraphs separated by a blank line."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [_clean_line(line) for line in text.split("\n")]
    kept = [line for line in lines if line and not _is_furniture(line)]
    kept = _drop_repeats(kept)
    kept = _drop_trailing_furniture(kept)
    return "\n\n".join(kept)


def _clean_line(line: str) -> str:
    line = _IMAGE_TOKEN.sub("", line)
    line = _CMS_TOKEN.sub("", line)
    line = _TABLE_PIPES.sub("", line)
    return re.sub(r"[ \t]+", " ", line).strip()


def _is_furniture(line: str) -> bool:
    if _NO_WORDS.match(line) or _IMAGE_FILE.match(line) or _BARE_URL.match(line):
        return True
    if _WIDGET.match(line):
        return True
    if _is_sentence(line):
        return False
    short = len(line.split()) <= 8
    return short and (bool(_DATE_OR_TIME.search(line)) or bool(_SITE_BANNER.match(line)))


def _is_sentence(line: str) -> bool:
    return bool(_TERMINAL.search(line)) and len(line.split()) > 3


def _drop_repeats(lines: list[str]) -> list[str]:
    """Captions are often printed twice in a row; keep one."""
    out: list[str] = []
    for line in lines:
        if not out or out[-1] != line:
            out.append(line)
    return out


def _drop_trailing_furniture(lines: list[str]) -> list[str]:
    """After the article's last sentence come bylines, source lines and link lists: drop them."""
    end = len(lines)
    while end > 1 and _looks_like_link_or_label(lines[end - 1]):
        end -= 1
    return lines[:end]


def _looks_like_link_or_label(line: str) -> bool:
    return not _SENTENCE_END.search(line) and len(line.split()) <= _SHORT_LINE_WORDS
