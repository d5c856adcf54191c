"""Read a document file of any supported format into its text, pages and own metadata.

One reader per format, behind `read_file` (plain text and Markdown, with their front matter, are
index/loader.py's own): PDF from its text layer (pypdfium2), with ruled tables
(index/pdf_tables.py) written as Markdown tables; Word (.docx) paragraphs and tables in document
order (python-docx); the main text of a web page (trafilatura: navigation, banners, sidebars and
footers left out). Every reader returns the same `Extracted`; cleaning and the Document itself are
index/loader.py's.

A file that cannot be read (encrypted, corrupt, scanned with no text layer, over the page limit,
an extension that lies about the content, a zip bomb) is a BadDocument with one line saying why.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from index.errors import BadDocument
from index.pdf_tables import RuledTable, ruled_tables

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
WORD_SUFFIXES = (".docx",)
HTML_SUFFIXES = (".html", ".htm")
DOCUMENT_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES + WORD_SUFFIXES + HTML_SUFFIXES

MAX_PDF_PAGES = 300  # a longer PDF is refused (settings: REFORMQA_MAX_PDF_PAGES)
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a .docx that unpacks to more is refused as a zip bomb
MAX_ZIP_RATIO = 200  # ... and so is one member packed more than this many times over

_MIN_MAIN_WORDS = 8  # trafilatura falls back to any text on a bare page: a link, a menu item
_RULED_PAGE_PATHS = 4  # a page with this many drawn paths may hold a ruled table
_EDGE_LINES = 2  # lines at the top and bottom of a page that may be a running header or footer
_SENTENCE_END = re.compile(r"[.!?:;…\"”)]$")
# a table's caption said before it, so that the table's first row stays its header
_CAPTION = re.compile(r"(<table\b[^>]*>)\s*<caption\b[^>]*>(.*?)</caption>", re.I | re.S)
_LIST_OR_TABLE = re.compile(r"^\s*(?:[-*+•▪◦]\s|\d{1,3}[.)]\s|\|)")


@dataclass(frozen=True)
class Extracted:
    """A file's text, split into pages when the format has them, and the file's own metadata."""

    pages: tuple[str, ...]  # one text per page; a single one for formats without pages
    paged: bool = False  # are `pages` real pages (PDF) or the whole text (other formats)
    meta: dict[str, str | dt.date | None] = field(default_factory=dict)  # title, date, source


def read_file(raw: bytes, suffix: str, name: str, max_pages: int = MAX_PDF_PAGES) -> Extracted:
    """The text of `raw` read as a `suffix` file; `name` is for messages."""
    suffix = suffix.lower()
    if suffix in PDF_SUFFIXES:
        return read_pdf(raw, name, max_pages)
    if suffix in WORD_SUFFIXES:
        return read_docx(raw, name)
    if suffix in HTML_SUFFIXES:
        return read_html(raw, name)
    raise BadDocument(f"{name}: {suffix or 'no extension'} is not a supported format "
                      f"({', '.join(DOCUMENT_SUFFIXES)})")  # fmt: skip


def refuse_disguised(raw: bytes, name: str, suffix: str) -> None:
    """A PDF or a zip (Word) file renamed to a text extension is named as what it is."""
    kind = (
        "a PDF"
        if raw.startswith(b"%PDF-")
        else "a zip or Word file"
        if raw[:4] == b"PK\x03\x04"
        else None
    )
    if kind:
        raise BadDocument(f"{name} is {kind}, not {suffix} text: give it its own extension")


# PDF


def read_pdf(raw: bytes, name: str, max_pages: int = MAX_PDF_PAGES) -> Extracted:
    import pypdfium2 as pdfium

    if raw.lstrip()[:5] != b"%PDF-":
        raise BadDocument(f"{name} is not a PDF (it does not start with %PDF-)")
    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        reason = (
            "encrypted (a password is needed)"
            if "password" in str(exc).lower()
            else (f"corrupt ({exc})")
        )
        raise BadDocument(f"{name} cannot be read: the PDF is {reason}") from exc
    try:
        if len(pdf) > max_pages:
            raise BadDocument(f"{name} has {len(pdf)} pages, over the {max_pages}-page limit "
                              "(REFORMQA_MAX_PDF_PAGES)")  # fmt: skip
        lines = [_page_lines(pdf, i) for i in range(len(pdf))]
        meta = _pdf_meta(pdf.get_metadata_dict(skip_empty=True))
    finally:
        pdf.close()
    if not any(line.strip() for page in lines for line in page):
        raise BadDocument(f"{name} has no text to read: it is a scanned PDF (images of pages, "
                          "no text layer); OCR is not supported")  # fmt: skip
    pages = tuple(_paragraphs(page) for page in _without_running_lines(lines))
    return Extracted(pages, paged=True, meta=meta)


def _page_lines(pdf, index: int) -> list[str]:
    """The page's lines as the text layer gives them, its ruled tables as Markdown tables."""
    page = pdf[index]
    try:
        text = page.get_textpage()
        tables = ruled_tables(page, text) if _may_hold_ruled_table(page) else []
        if tables:
            return _lines_around(page, text, tables)
        return _lines(text.get_text_range())
    finally:
        page.close()


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]


def _may_hold_ruled_table(page) -> bool:
    import pypdfium2.raw as pdfium_c

    paths = 0
    for obj in page.get_objects(max_depth=1):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            paths += 1
            if paths >= _RULED_PAGE_PATHS:
                return True
    return False


def _lines_around(page, text, tables: list[RuledTable]) -> list[str]:
    """The page's lines from the text layer above, between and below its tables, and each
    table's Markdown lines where it stands (PDFium counts points from the page's bottom)."""
    width, height = page.get_width(), page.get_height()
    lines: list[str] = []
    top = 0.0
    for table in tables:
        if table.top > top:
            lines += _lines(text.get_text_bounded(0, height - table.top, width, height - top))
        lines += ["", *markdown_table(table.rows).split("\n"), ""]
        top = table.bottom
    if top < height:
        lines += _lines(text.get_text_bounded(0, 0, width, height - top))
    return lines


def markdown_table(rows: list[list[str | None]]) -> str:
    """Rows as a Markdown table, the first row as its header; cells on one line each."""
    cells = [[" ".join((c or "").split()).replace("|", "/") for c in row] for row in rows]
    width = max(len(r) for r in cells)
    cells = [r + [""] * (width - len(r)) for r in cells if any(r)]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in cells[1:]]
    return "\n".join(lines)


def _paragraphs(lines: list[str]) -> str:
    """A page's lines joined into paragraphs: a line that does not end a sentence runs on into
    the next (PDF text breaks lines where the page did); list items stay lines, and a table's
    rows stay together, one per line."""
    blocks: list[str] = []
    open_ = False
    for line in lines:
        if not line:
            open_ = False
            continue
        if line.startswith("|") and blocks and blocks[-1].startswith("|"):
            blocks[-1] += "\n" + line
        elif open_ and blocks and not _LIST_OR_TABLE.match(line):
            last = blocks[-1]
            blocks[-1] = last[:-1] + line if last.endswith("-") else f"{last} {line}"
        else:
            blocks.append(line)
        open_ = not _SENTENCE_END.search(line) and not _LIST_OR_TABLE.match(line)
    return "\n\n".join(blocks)


def _without_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop running headers and footers: a line among the first or last few of a page that
    recurs, its digits aside ('Page 3 of 40'), at the edge of at least half the pages (two or
    more)."""
    if len(pages) < 2:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip().lower())

    def edges(page: list[str]) -> set[int]:
        filled = [i for i, line in enumerate(page) if line.strip()]
        return set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:])

    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({key(page[i]) for i in edges(page)})
    running = {k for k, n in seen.items() if n >= max(2, len(pages) / 2) and len(k) < 120}
    return [
        [line for i, line in enumerate(page) if i not in edges(page) or key(line) not in running]
        for page in pages
    ]


def _pdf_meta(info: dict[str, str]) -> dict[str, str | dt.date | None]:
    return {"title": (info.get("Title") or "").strip() or None,
            "date": _pdf_date(info.get("CreationDate") or info.get("ModDate") or ""),
            "source": (info.get("Author") or "").strip() or None}  # fmt: skip


def _pdf_date(value: str) -> dt.date | None:
    found = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value)
    try:
        return dt.date(*map(int, found.groups())) if found else None
    except ValueError:
        return None


# Word


def read_docx(raw: bytes, name: str) -> Extracted:
    if raw[:4] != b"PK\x03\x04":
        raise BadDocument(f"{name} is not a Word .docx file (not a zip archive)")
    _refuse_zip_bomb(raw, name)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises a zoo of KeyError/ValueError on broken parts
        raise BadDocument(f"{name} cannot be read as a Word document ({exc})") from exc
    parts = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph) and block.text.strip():
            level = _heading_level(block.style.name if block.style is not None else "")
            parts.append(("#" * level + " " if level else "") + " ".join(block.text.split()))
        elif isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            if rows:
                parts.append(markdown_table(rows))
    props = document.core_properties
    meta = {"title": (props.title or "").strip() or None,
            "date": props.created.date() if props.created else None,
            "source": (props.author or "").strip() or None}  # fmt: skip
    return Extracted(("\n\n".join(parts),), meta=meta)


def _heading_level(style: str) -> int:
    found = re.match(r"Heading (\d)", style)
    return int(found.group(1)) if found else 1 if style == "Title" else 0


def _refuse_zip_bomb(raw: bytes, name: str) -> None:
    try:
        members = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except zipfile.BadZipFile as exc:
        raise BadDocument(f"{name} is not a Word .docx file (a broken zip archive)") from exc
    unpacked = sum(m.file_size for m in members)
    worst = max((m.file_size / max(m.compress_size, 1) for m in members), default=0)
    if unpacked > MAX_UNZIPPED_BYTES or worst > MAX_ZIP_RATIO:
        raise BadDocument(f"{name} unpacks to {unpacked:,} bytes ({worst:.0f}x packed): refused "
                          "as a zip bomb")  # fmt: skip


# HTML


def read_html(raw: bytes, name: str) -> Extracted:
    import trafilatura

    refuse_disguised(raw, name, ".html")
    html = _CAPTION.sub(r"<p>\2</p>\1", raw.decode("utf-8-sig", errors="replace"))
    text = trafilatura.extract(html, output_format="markdown", include_tables=True,
                               include_comments=False, favor_precision=True)  # fmt: skip
    if not text or len(text.split()) < _MIN_MAIN_WORDS:
        raise BadDocument(f"{name} has no main text (a page of navigation, or an empty page)")
    found = trafilatura.extract_metadata(html)
    meta: dict[str, str | dt.date | None] = {}
    if found is not None:
        meta = {"title": found.title or None, "date": _iso_date(found.date),
                "source": found.sitename or None}  # fmt: skip
    return Extracted((text,), meta=meta)


def _iso_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None
