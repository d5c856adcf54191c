"""Document readers: which library to read PDF, Word and web pages with, measured side by side.

Generates its own test files in a temporary directory (nothing is downloaded, nothing is kept):

- a PDF of N pages (fpdf2) of news-like paragraphs about administrative reform, full of figures,
  with a running header and a "Page i of N" footer on every page, a title and creation date in
  its metadata, and on page 2 a ruled table (every cell bordered) under a caption;
- a Word memo (python-docx): heading, paragraphs, the same table between two paragraphs, and a
  title and creation date in its core properties;
- a news web page: <nav> menu, cookie banner, the <article> (title, paragraphs, the table), an
  <aside> "Most read" list and a <footer>, with <title> and article:published_time.

Then measures, for each format:

- PDF, with pypdf, pypdfium2 and pdfplumber (plain text, and pypdf's and pdfplumber's layout
  modes too): text extraction speed over the whole file (open + every page, best of 3, pages/s);
  whether page 1's sentences come out in reading order; whether each table row's cells come out
  on one line, in order, and with a visible boundary between cells (2+ spaces, a tab or "|");
  on how many pages the running header and the footer come out (none strips them); the metadata
  title and creation date each library returns; and, for pdfplumber, whether `extract_tables()`
  returns the table with its header row and rows intact, and what table finding costs per page;
- DOCX, with python-docx: paragraphs and tables read in document order through
  `Document.iter_inner_content()` (against `doc.paragraphs` + `doc.tables`, which loses where
  the table was), speed per document, and the core properties title/created;
- HTML, with trafilatura and readability-lxml: whether the main text keeps every article
  paragraph and the table (rows on one line), whether it drops the nav, cookie banner, "Most
  read" sidebar and footer, the title and date found, and speed per page.

Also prints each library's licence as its installed package metadata states it, next to the
licence known for it. Prints a Markdown report to stdout. Reports; never asserts. Takes about a
minute for the default 40 pages on 2 cores (pdfplumber, at ~80 ms/page, is most of it).

    .venv/bin/python bench/readers.py [--pages 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path

import docx
import lxml.html
import pdfplumber
import pypdf
import pypdfium2
import trafilatura
from docx.table import Table as DocxTable
from fpdf import FPDF
from readability import Document as ReadabilityDocument

REPEATS = 3  # timings are the best of this many runs
SMALL_DOC_LOOPS = 20  # a DOCX / HTML read is timed as the mean over this many reads

TITLE = "Administrative Reform Monitor: Quarterly Review"
RUNNING_HEADER = "Administrative Reform Monitor - Quarterly Review"
CREATED = dt.datetime(2024, 3, 5, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))

TABLE_HEADER = ("Ward", "Appointments booked", "Share online")
TABLE_ROWS = (
    ("Ward 7", "4,120", "63%"),
    ("Ward 9", "2,310", "41%"),
    ("Ward 12", "1,875", "57%"),
)
TABLE_CAPTION = "Table 3. Results by ward, 2023"

# Page 1 of the PDF, the Word memo's paragraphs and the web article all use these, in this order.
KNOWN_SENTENCES = (
    "By March 2024, 1,250 procedures had been cut, 18% more than in 2023.",
    "The city expects to save 2.4 million working hours a year once the online portal is complete.",
    "Officials said 74% of business licences were now issued within five working days.",
    "Complaints about paperwork fell to 3,480 in the fourth quarter, down from 5,120 a year "
    "earlier.",
    "A further 310 procedures are scheduled for review before the end of 2025.",
)
ARTICLE_TAIL = (
    "Ward 7 recorded the highest share of appointments booked online, at 63%.",
    "The ministry will publish the next quarterly figures on 15 June 2024.",
)

# Web page boilerplate: each phrase appears only in its block, so finding it means it leaked.
BOILERPLATE = {
    "nav": "Economy Desk",
    "cookie banner": "We use cookies to improve your experience",
    '"Most read" aside': "Flood warnings issued for the Mekong delta",
    "footer": "All rights reserved by Daily Reform News",
}

LICENCES_KNOWN = {
    "pypdf": "BSD-3-Clause",
    "pypdfium2": "Apache-2.0 or BSD-3-Clause (PDFium itself BSD-3-Clause / Apache-2.0)",
    "pdfplumber": "MIT",
    "pdfminer.six": "MIT",
    "python-docx": "MIT",
    "trafilatura": "Apache-2.0 (since 1.8)",
    "readability-lxml": "Apache-2.0",
}

# ---------------------------------------------------------------------------- test documents

SUBJECTS = (
    "the one-stop shop in District 3",
    "the provincial public service portal",
    "the land registration office",
    "the business licensing department",
    "the ward people's committees",
    "the tax administration",
)
SENTENCE_TEMPLATES = (
    "By {month} {year}, {n:,} procedures at {subject} had been simplified, {pct}% more than "
    "in {prev}.",
    "Staff at {subject} handled {n:,} applications in the quarter, {pct}% of them online.",
    "Processing times at {subject} fell from {a} to {b} working days between {prev} and {year}.",
    "Inspectors found that {pct}% of files at {subject} were returned for missing documents.",
    "The budget for {subject} rose to {money:.1f} billion dong in {year}, up {pct}% on {prev}.",
    "Surveys put citizen satisfaction with {subject} at {pct}% in {month} {year}.",
)
MONTHS = ("January", "March", "June", "September", "December")


def news_paragraph(rng: random.Random, sentences: int = 4) -> str:
    """A paragraph of made-up reform news with figures in every sentence."""
    parts = []
    for _ in range(sentences):
        year = rng.randint(2019, 2025)
        parts.append(
            rng.choice(SENTENCE_TEMPLATES).format(
                month=rng.choice(MONTHS),
                year=year,
                prev=year - 1,
                n=rng.randint(120, 9800),
                pct=rng.randint(3, 95),
                a=rng.randint(8, 30),
                b=rng.randint(2, 7),
                money=rng.uniform(1.5, 90),
                subject=rng.choice(SUBJECTS),
            )
        )
    return " ".join(parts)


class ReportPDF(FPDF):
    """An FPDF with the running header and the page-number footer."""

    def header(self) -> None:
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 8, RUNNING_HEADER, align="C")
        self.ln(12)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def write_pdf_table(pdf: FPDF) -> None:
    """The ruled table (every cell bordered) with its caption above it."""
    pdf.set_font("Helvetica", "B", 10)
    pdf.multi_cell(0, 6, TABLE_CAPTION)
    pdf.ln(2)
    pdf.set_font("Helvetica", size=10)
    with pdf.table(col_widths=(30, 40, 30), width=150, text_align="LEFT") as table:
        for cells in (TABLE_HEADER, *TABLE_ROWS):
            table.row(cells)
    pdf.ln(4)


def build_pdf(path: Path, pages: int, rng: random.Random) -> None:
    """N pages: page 1 holds KNOWN_SENTENCES, page 2 the table, the rest reform news."""
    pdf = ReportPDF(format="A4")
    pdf.set_title(TITLE)
    pdf.set_author("Reform Monitoring Unit")
    pdf.set_creation_date(CREATED)
    pdf.set_auto_page_break(auto=True, margin=20)
    body = dict(w=0, h=5.5, new_x="LMARGIN", new_y="NEXT")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        if number == 1:
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(text=TITLE, **body | {"h": 8})
            pdf.ln(3)
            pdf.set_font("Helvetica", size=11)
            pdf.multi_cell(text=" ".join(KNOWN_SENTENCES[:3]), **body)
            pdf.ln(3)
            pdf.multi_cell(text=" ".join(KNOWN_SENTENCES[3:]), **body)
            pdf.ln(3)
        if number == 2:
            pdf.multi_cell(text=news_paragraph(rng, 3), **body)
            pdf.ln(3)
            write_pdf_table(pdf)
            pdf.set_font("Helvetica", size=11)
        for _ in range(2 if number <= 2 else 5):
            pdf.multi_cell(text=news_paragraph(rng), **body)
            pdf.ln(3)
    if pdf.pages_count != pages:
        raise RuntimeError(f"the PDF came out at {pdf.pages_count} pages, not {pages}")
    pdf.output(str(path))


def build_docx(path: Path) -> None:
    """A memo: heading, paragraphs, the table between two paragraphs, core properties set."""
    document = docx.Document()
    document.core_properties.title = TITLE
    document.core_properties.created = CREATED.astimezone(dt.UTC).replace(tzinfo=None)
    document.add_heading("Memo: progress on administrative reform", level=1)
    for sentence in KNOWN_SENTENCES:
        document.add_paragraph(sentence)
    document.add_paragraph(TABLE_CAPTION)
    table = document.add_table(rows=0, cols=len(TABLE_HEADER))
    table.style = "Table Grid"
    for cells in (TABLE_HEADER, *TABLE_ROWS):
        row = table.add_row()
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    for sentence in ARTICLE_TAIL:
        document.add_paragraph(sentence)
    document.save(str(path))


def html_table() -> str:
    head = "".join(f"<th>{cell}</th>" for cell in TABLE_HEADER)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>" for cells in TABLE_ROWS
    )
    return (
        f"<table><caption>{TABLE_CAPTION}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


NAV_SECTIONS = ("Home", "Politics", BOILERPLATE["nav"], "World", "Sport", "Opinion", "Travel")
NAV_TOPICS = ("Ha Noi", "Ho Chi Minh City", "Da Nang", "Can Tho", "Hai Phong", "Hue", "Nghe An")


def mega_menu() -> str:
    """A news site's menu: every section with a submenu of local topics (about 60 links)."""
    items = []
    for section in NAV_SECTIONS:
        slug = section.lower().replace(" ", "-")
        links = "".join(
            f'<li><a href="/{slug}/{topic.lower().replace(" ", "-")}">{topic}</a></li>'
            for topic in NAV_TOPICS
        )
        items.append(f'<li><a href="/{slug}">{section}</a><ul class="submenu">{links}</ul></li>')
    return f'<nav class="main-menu"><ul>{"".join(items)}</ul></nav>'


def page_scripts() -> str:
    """Inline style and script, as real pages carry (tens of KiB no reader should keep)."""
    rules = "".join(f".teaser-{i}{{margin:{i % 7}px;color:#{i:06x}}}" for i in range(300))
    config = ",".join(f'"slot{i}":{{"size":[300,250],"refresh":{i % 30}}}' for i in range(300))
    return (
        f"<style>{rules}</style>\n"
        f"<script>window.__ADS__={{{config}}};window.dataLayer=window.dataLayer||[];</script>"
    )


def build_html() -> str:
    """A news page: the article among a nav, a cookie banner, a "Most read" aside, a footer."""
    body = "\n".join(f"<p>{sentence}</p>" for sentence in KNOWN_SENTENCES)
    tail = "\n".join(f"<p>{sentence}</p>" for sentence in ARTICLE_TAIL)
    most_read = (
        BOILERPLATE['"Most read" aside'],
        "Petrol prices cut for the third week running",
        "New metro line opens to passengers on Saturday",
    )
    aside = "".join(f'<li><a href="/story/{i}">{item}</a></li>' for i, item in enumerate(most_read))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{TITLE} | Daily Reform News</title>
<meta property="og:title" content="{TITLE}">
<meta property="article:published_time" content="2024-03-05T08:00:00+07:00">
{page_scripts()}
</head><body>
<header><a href="/" class="logo">Daily Reform News</a>{mega_menu()}</header>
<div class="cookie-banner" id="cookie-consent"><p>{BOILERPLATE["cookie banner"]}. By continuing
to browse you agree to our use of cookies.</p><button>Accept all</button></div>
<main><article>
<h1>{TITLE}</h1>
<p class="byline">By Staff Reporter, 5 March 2024</p>
{body}
{html_table()}
{tail}
</article>
<aside class="sidebar"><h2>Most read</h2><ol>{aside}</ol></aside>
</main>
<footer><p>{BOILERPLATE["footer"]}, 2024.</p><a href="/contact">Contact us</a></footer>
</body></html>"""


# ---------------------------------------------------------------------------- text checks


def squash(text: str) -> str:
    """Every run of whitespace as one space, so wrapped lines compare as sentences."""
    return re.sub(r"\s+", " ", text).strip()


def in_order(text: str, parts: Sequence[str]) -> bool:
    """Every part is in the text, whole, each after the one before."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def in_reading_order(text: str, sentences: Sequence[str]) -> bool:
    """Every sentence is there, whole, each after the one before (wrapped lines squashed)."""
    return in_order(squash(text), sentences)


def cells_on_one_line(line: str, cells: Sequence[str]) -> bool:
    return in_order(line, cells)


def rows_on_one_line(text: str, rows: Sequence[Sequence[str]]) -> int:
    """How many rows have all their cells on one line of the text, in order."""
    lines = text.splitlines()
    return sum(any(cells_on_one_line(line, cells) for line in lines) for cells in rows)


def rows_with_cells_apart(text: str, rows: Sequence[Sequence[str]]) -> int:
    """Rows on one line with a visible cell boundary (2+ spaces, a tab or a "|") between cells,
    so that "Appointments booked" can be told from two cells "Appointments" and "booked"."""
    gap = r"(?:\s*\|\s*|\t\s*| {2,})"
    patterns = [re.compile(gap.join(re.escape(cell) for cell in cells)) for cells in rows]
    return sum(any(p.search(line) for line in text.splitlines()) for p in patterns)


def all_rows() -> tuple[tuple[str, ...], ...]:
    return (TABLE_HEADER, *TABLE_ROWS)


def yes_no(flag: bool) -> str:
    return "yes" if flag else "**no**"


def best_of(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """The fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


# ---------------------------------------------------------------------------- PDF readers


def pypdf_pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(path)
    return [page.extract_text() for page in reader.pages]


def pypdfium2_pages(path: Path) -> list[str]:
    pdf = pypdfium2.PdfDocument(path)
    try:
        return [page.get_textpage().get_text_bounded() for page in pdf]
    finally:
        pdf.close()


def pypdf_layout_pages(path: Path) -> list[str]:
    reader = pypdf.PdfReader(path)
    return [page.extract_text(extraction_mode="layout") for page in reader.pages]


def pdfplumber_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() for page in pdf.pages]


def pdfplumber_layout_pages(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text(layout=True) for page in pdf.pages]


# each library's plain text call first, then the layout modes (pypdfium2 has none)
PDF_READERS: dict[str, Callable[[Path], list[str]]] = {
    "pypdf `extract_text()`": pypdf_pages,
    "pypdfium2 `get_text_bounded()`": pypdfium2_pages,
    "pdfplumber `extract_text()`": pdfplumber_pages,
    'pypdf `extract_text(extraction_mode="layout")`': pypdf_layout_pages,
    "pdfplumber `extract_text(layout=True)`": pdfplumber_layout_pages,
}


def pages_with_header_and_footer(pages: Sequence[str]) -> int:
    """Pages whose text holds the running header and their own "Page i of N" footer."""
    total = len(pages)
    return sum(
        RUNNING_HEADER in text and f"Page {number} of {total}" in squash(text)
        for number, text in enumerate(pages, start=1)
    )


def pypdf_metadata(path: Path) -> tuple[str, str]:
    info = pypdf.PdfReader(path).metadata
    if info is None:
        return "(none)", "(none)"
    return str(info.title), repr(info.creation_date)


def pypdfium2_metadata(path: Path) -> tuple[str, str]:
    pdf = pypdfium2.PdfDocument(path)
    try:
        info = pdf.get_metadata_dict()
    finally:
        pdf.close()
    return info["Title"], repr(info["CreationDate"])


def pdfplumber_metadata(path: Path) -> tuple[str, str]:
    with pdfplumber.open(path) as pdf:
        info = pdf.metadata
    return str(info.get("Title")), repr(info.get("CreationDate"))


PDF_METADATA: dict[str, Callable[[Path], tuple[str, str]]] = {
    "pypdf": pypdf_metadata,
    "pypdfium2": pypdfium2_metadata,
    "pdfplumber": pdfplumber_metadata,
}


def measure_pdf_reader(name: str, path: Path) -> list[str]:
    """One report row: speed and the checks on the text one way of reading extracts."""
    read = PDF_READERS[name]
    pages = read(path)
    seconds = best_of(lambda: read(path))
    text = "\n".join(pages)
    rows_ok = rows_on_one_line(text, all_rows())
    apart = rows_with_cells_apart(text, all_rows())
    return [
        name,
        f"{len(pages) / seconds:,.0f}",
        f"{1000 * seconds / len(pages):.1f}",
        yes_no(in_reading_order(pages[0], KNOWN_SENTENCES)),
        f"{yes_no(rows_ok == len(all_rows()))} ({rows_ok}/{len(all_rows())})",
        f"{yes_no(apart == len(all_rows()))} ({apart}/{len(all_rows())})",
        f"{pages_with_header_and_footer(pages)}/{len(pages)}",
    ]


def pdf_metadata_row(library: str, path: Path) -> list[str]:
    title, created = PDF_METADATA[library](path)
    return [library, yes_no(title == TITLE) + f": `{title}`", f"`{created}`"]


def clean_cell(cell: str | None) -> str:
    return squash(cell or "")


def pdfplumber_table_check(path: Path) -> tuple[str, str]:
    """What `extract_tables()` gives on page 2: (verdict, the table as found)."""
    with pdfplumber.open(path) as pdf:
        tables = pdf.pages[1].extract_tables()
    if not tables:
        return "**no**: no table found", "(none)"
    found = [tuple(clean_cell(cell) for cell in row) for row in tables[0]]
    header_ok = bool(found) and found[0] == TABLE_HEADER
    rows_ok = tuple(found[1:]) == TABLE_ROWS
    verdict = (
        f"{len(tables)} table(s); header row {yes_no(header_ok)}, "
        f"rows intact {yes_no(rows_ok)} ({len(found) - 1} data rows)"
    )
    shown = " / ".join(" | ".join(row) for row in found)
    return verdict, shown


def pdfplumber_table_finding_ms(path: Path) -> tuple[float, float]:
    """ms per page for `find_tables()` on freshly opened pages, and for extract_text() alone."""

    def find_all() -> None:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.find_tables()

    def text_all() -> None:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()

    with pdfplumber.open(path) as pdf:
        count = len(pdf.pages)
    return 1000 * best_of(find_all) / count, 1000 * best_of(text_all) / count


# ---------------------------------------------------------------------------- DOCX


def docx_blocks_in_order(path: Path) -> list[str]:
    """The body as lines: each paragraph, then each table row as cells joined by " | "."""
    lines = []
    for block in docx.Document(str(path)).iter_inner_content():
        if isinstance(block, DocxTable):
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
        elif block.text.strip():
            lines.append(block.text)
    return lines


def docx_paragraphs_then_tables(path: Path) -> list[str]:
    """The common shortcut: all paragraphs, then all tables (where the table was is lost)."""
    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        lines.extend(" | ".join(cell.text for cell in row.cells) for row in table.rows)
    return lines


def table_between_right_paragraphs(lines: Sequence[str]) -> bool:
    """The header row comes right after the caption and the last row right before the tail."""
    try:
        header = lines.index(" | ".join(TABLE_HEADER))
        last = lines.index(" | ".join(TABLE_ROWS[-1]))
    except ValueError:
        return False
    return (
        lines[header - 1] == TABLE_CAPTION
        and last + 1 < len(lines)
        and lines[last + 1] == ARTICLE_TAIL[0]
    )


def measure_docx_reader(name: str, read: Callable[[Path], list[str]], path: Path) -> list[str]:
    lines = read(path)
    seconds = best_of(lambda: [read(path) for _ in range(SMALL_DOC_LOOPS)]) / SMALL_DOC_LOOPS
    paragraphs_ok = in_reading_order("\n".join(lines), KNOWN_SENTENCES + ARTICLE_TAIL)
    rows_ok = rows_on_one_line("\n".join(lines), all_rows())
    return [
        name,
        f"{1000 * seconds:.2f}",
        yes_no(paragraphs_ok),
        f"{yes_no(rows_ok == len(all_rows()))} ({rows_ok}/{len(all_rows())})",
        yes_no(table_between_right_paragraphs(lines)),
    ]


def docx_properties(path: Path) -> tuple[str, str]:
    props = docx.Document(str(path)).core_properties
    return props.title, repr(props.created)


# ---------------------------------------------------------------------------- HTML

BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "li", "tr", "caption", "table", "article"}


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment: a line per block element and per table row, cells " | "."""
    root = lxml.html.fromstring(fragment)
    for cell in root.iter("td", "th"):
        cell.tail = " | " + (cell.tail or "")
    for element in root.iter(*BLOCK_TAGS):
        element.tail = "\n" + (element.tail or "")
    return root.text_content()


def trafilatura_text(html: str) -> str:
    return trafilatura.extract(html, include_tables=True, output_format="txt") or ""


def trafilatura_markdown(html: str) -> str:
    return trafilatura.extract(html, include_tables=True, output_format="markdown") or ""


def readability_text(html: str) -> str:
    return html_to_text(ReadabilityDocument(html).summary(html_partial=True))


HTML_READERS: dict[str, Callable[[str], str]] = {
    'trafilatura (`output_format="txt"`)': trafilatura_text,
    'trafilatura (`output_format="markdown"`)': trafilatura_markdown,
    "readability-lxml (`summary()` → text)": readability_text,
}


def trafilatura_title_date(html: str) -> tuple[str, str]:
    found = trafilatura.extract_metadata(html)
    return str(found.title), str(found.date)


def readability_title_date(html: str) -> tuple[str, str]:
    document = ReadabilityDocument(html)
    return f"{document.title()} (short_title: {document.short_title()})", "(not extracted)"


def leaked_boilerplate(text: str) -> list[str]:
    return [block for block, phrase in BOILERPLATE.items() if phrase in text]


def measure_html_reader(name: str, read: Callable[[str], str], html: str) -> list[str]:
    text = read(html)
    seconds = best_of(lambda: [read(html) for _ in range(SMALL_DOC_LOOPS)]) / SMALL_DOC_LOOPS
    flat = squash(text)
    kept = sum(sentence in flat for sentence in KNOWN_SENTENCES + ARTICLE_TAIL)
    wanted = len(KNOWN_SENTENCES) + len(ARTICLE_TAIL)
    cells_kept = all(cell in text for row in all_rows() for cell in row)
    rows_ok = rows_on_one_line(text, all_rows())
    leaked = leaked_boilerplate(text)
    return [
        name,
        f"{1000 * seconds:.2f}",
        f"{yes_no(kept == wanted)} ({kept}/{wanted})",
        yes_no(in_reading_order(text, KNOWN_SENTENCES + ARTICLE_TAIL)),
        yes_no(cells_kept),
        f"{yes_no(rows_ok == len(all_rows()))} ({rows_ok}/{len(all_rows())})",
        yes_no(TABLE_CAPTION in text),
        "yes" if not leaked else "**no**: kept " + ", ".join(leaked),
    ]


# ---------------------------------------------------------------------------- report


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def licence_from_metadata(distribution: str) -> str:
    """What the installed package's metadata says about its licence."""
    try:
        meta = metadata.metadata(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"
    stated = [
        meta.get("License-Expression"),
        (meta.get("License") or "").splitlines()[0] if meta.get("License") else None,
        *[
            c.removeprefix("License :: ")
            for c in meta.get_all("Classifier") or []
            if c.startswith("License ::")
        ],
    ]
    stated = [s for s in stated if s]
    return "; ".join(dict.fromkeys(stated)) if stated else "(no licence field)"


def version_of(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def pdf_section(path: Path, pages: int) -> str:
    rows = [measure_pdf_reader(name, path) for name in PDF_READERS]
    meta_rows = [pdf_metadata_row(library, path) for library in PDF_METADATA]
    verdict, found = pdfplumber_table_check(path)
    find_ms, text_ms = pdfplumber_table_finding_ms(path)
    size_kib = path.stat().st_size / 1024
    return "\n".join(
        [
            f"## PDF ({pages} pages, {size_kib:,.0f} KiB, made by fpdf2)",
            "",
            markdown_table(
                [
                    "reader",
                    "pages/s (open + text, best of 3)",
                    "ms/page",
                    "page 1 in reading order",
                    "table rows on one line",
                    "cells kept apart (2+ spaces)",
                    "pages with header + footer in text",
                ],
                rows,
            ),
            "",
            markdown_table(["metadata", "title (`set_title`)", "creation date"], meta_rows),
            "",
            f"pdfplumber `page.extract_tables()` on page 2: {verdict}  ",
            f"table as returned: `{found}`",
            "",
            f"pdfplumber `page.find_tables()` on every page: **{find_ms:.1f} ms/page** "
            f"(freshly opened pages; `extract_text()` alone: {text_ms:.1f} ms/page).",
        ]
    )


def docx_section(path: Path) -> str:
    rows = [
        measure_docx_reader("python-docx `iter_inner_content()`", docx_blocks_in_order, path),
        measure_docx_reader(
            "python-docx `paragraphs` then `tables`", docx_paragraphs_then_tables, path
        ),
    ]
    title, created = docx_properties(path)
    return "\n".join(
        [
            f"## DOCX (memo: heading, {len(KNOWN_SENTENCES) + len(ARTICLE_TAIL) + 1} paragraphs, "
            f"one table; {path.stat().st_size / 1024:,.0f} KiB)",
            "",
            markdown_table(
                [
                    "reader",
                    f"ms/document (open + read, mean of {SMALL_DOC_LOOPS}, best of 3)",
                    "all paragraphs, in order",
                    "table rows on one line",
                    "table between the right paragraphs",
                ],
                rows,
            ),
            "",
            f"Core properties: title {yes_no(title == TITLE)} `{title}`, created `{created}` "
            f"(set to {CREATED.isoformat()}, stored in UTC).",
        ]
    )


def html_section(html: str) -> str:
    rows = [measure_html_reader(name, read, html) for name, read in HTML_READERS.items()]
    meta_rows = [
        ["trafilatura `extract_metadata()`", *trafilatura_title_date(html)],
        ["readability-lxml `title()`", *readability_title_date(html)],
    ]
    return "\n".join(
        [
            f"## HTML (news page, {len(html.encode()) / 1024:,.1f} KiB)",
            "",
            markdown_table(
                [
                    "reader",
                    f"ms/page (mean of {SMALL_DOC_LOOPS}, best of 3)",
                    "all article paragraphs",
                    "in order",
                    "table cells kept",
                    "table rows on one line",
                    "table caption kept",
                    "drops nav, cookies, Most read, footer",
                ],
                rows,
            ),
            "",
            markdown_table(["metadata", "title", "date"], meta_rows),
            "",
            "Expected: title `" + TITLE + "`, date 2024-03-05.",
        ]
    )


def environment_section() -> str:
    rows = [
        [name, version_of(name), LICENCES_KNOWN[name], licence_from_metadata(name)]
        for name in LICENCES_KNOWN
    ]
    for name, known, note in (
        ("fpdf2", "LGPL-3.0", " (makes the test PDF only)"),
        ("lxml", "BSD-3-Clause", ""),
    ):
        rows.append([name + note, version_of(name), known, licence_from_metadata(name)])
    return "\n".join(
        [
            "## Machine and libraries",
            "",
            f"- CPUs (os.cpu_count()): {os.cpu_count()}",
            f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}",
            "",
            markdown_table(
                ["library", "version", "licence (known)", "licence (installed metadata)"], rows
            ),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="pages in the test PDF (>= 2)")
    args = parser.parse_args(argv)
    if args.pages < 2:
        parser.error("--pages must be at least 2 (the table is on page 2)")
    rng = random.Random(20240305)
    with tempfile.TemporaryDirectory(prefix="bench-readers-") as folder:
        pdf_path, docx_path = Path(folder) / "report.pdf", Path(folder) / "memo.docx"
        build_pdf(pdf_path, args.pages, rng)
        build_docx(docx_path)
        html = build_html()
        started = time.perf_counter()
        sections = [
            "# Document readers benchmark",
            pdf_section(pdf_path, args.pages),
            docx_section(docx_path),
            html_section(html),
            environment_section(),
        ]
        sections.append(f"_Measured in {time.perf_counter() - started:.1f} s._")
    print("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
