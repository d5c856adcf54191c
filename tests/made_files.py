"""Documents the tests make for themselves: PDFs (fpdf2), Word memos (python-docx), web pages."""

from __future__ import annotations

import datetime as dt
import io

PARAGRAPHS_PAGE_1 = [
    "The provincial steering committee on administrative reform met on 5 March 2024 to review "
    "the results of the one-stop-shop programme across all districts of the province.",
    "By the end of 2023, 1,250 administrative procedures had been cut or simplified, 18% more "
    "than a year earlier, and the share of files settled on time reached 96.4%.",
    "The committee asked every ward to publish its appointment figures each quarter.",
]
PARAGRAPHS_PAGE_2 = [
    "Appointments booked online rose in every ward, as the table below shows.",
]
TABLE = [
    ["Ward", "Appointments booked", "Share online"],
    ["Ward 7", "4,120", "63%"],
    ["Ward 9", "2,310", "41%"],
]
CAPTION = "Table 3. Results by ward, 2023"
AFTER_TABLE = "Wards with fewer than 2,000 bookings will receive extra staff from April 2024."


def two_page_pdf(title: str = "Ward results 2023", header: bool = True) -> bytes:
    """Page 1: paragraphs; page 2: a paragraph, a captioned ruled table, a paragraph. A running
    header and a 'Page n of 2' footer on both pages."""
    from fpdf import FPDF

    class Bulletin(FPDF):
        def header(self):
            if header:
                self.cell(0, 8, "Provincial Reform Bulletin", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            if header:
                self.set_y(-15)
                self.cell(0, 8, f"Page {self.page_no()} of 2", align="C")

    pdf = Bulletin()
    pdf.set_title(title)
    pdf.set_author("Provincial Steering Committee")
    pdf.set_creation_date(dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
    pdf.set_font("Helvetica", size=11)
    for page, paragraphs in ((1, PARAGRAPHS_PAGE_1), (2, PARAGRAPHS_PAGE_2)):
        pdf.add_page()
        for text in paragraphs:
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if page == 2:
            pdf.cell(0, 8, CAPTION, new_x="LMARGIN", new_y="NEXT")
            _draw_table(pdf, TABLE)
            pdf.ln(3)
            pdf.multi_cell(0, 6, AFTER_TABLE, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def long_pdf(pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for n in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, f"Page {n + 1}: {PARAGRAPHS_PAGE_1[1]}")
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """A page with a drawing and no text layer, as a scanner makes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, "Secret figures: 42 procedures.")
    return bytes(pdf.output())


def word_memo(title: str = "Memo on ward appointments") -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "Office of the People's Committee"
    document.core_properties.created = dt.datetime(2024, 4, 2)
    document.add_heading("Ward appointments", level=1)
    document.add_paragraph(PARAGRAPHS_PAGE_2[0])
    document.add_paragraph(CAPTION)
    table = document.add_table(rows=len(TABLE), cols=len(TABLE[0]))
    for r, row in enumerate(TABLE):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph(AFTER_TABLE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def news_page() -> bytes:
    """An article wrapped in navigation, a cookie banner, a 'Most read' sidebar and a footer."""
    article = "".join(f"<p>{p}</p>" for p in PARAGRAPHS_PAGE_1 + PARAGRAPHS_PAGE_2)
    rows = "".join(
        "<tr>" + "".join(f"<{'th' if i == 0 else 'td'}>{v}</{'th' if i == 0 else 'td'}>"
                         for v in row) + "</tr>"
        for i, row in enumerate(TABLE)
    )  # fmt: skip
    return f"""<!doctype html><html><head><title>Wards book more appointments online</title>
<meta property="article:published_time" content="2024-03-05T08:00:00+07:00">
<meta property="og:site_name" content="Provincial News"></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/politics">Politics</a></li>
<li><a href="/economy">Economy: 12 stories</a></li></ul></nav>
<div class="cookie-banner">We use 3 kinds of cookies. Accept all cookies?</div>
<article><h1>Wards book more appointments online</h1>{article}
<table><caption>{CAPTION}</caption>{rows}</table><p>{AFTER_TABLE}</p></article>
<aside><h3>Most read</h3><ul><li><a href="/a">Province plants 5,000 trees</a></li>
<li><a href="/b">Festival draws 80,000 visitors</a></li></ul></aside>
<footer>Copyright 2024 Provincial News. Hotline 1900 1234. All rights reserved.</footer>
</body></html>""".encode()


def table_pdf(borders: str = "ALL", rows: int = 6) -> bytes:
    """One page: a paragraph, then a table of `rows` body rows drawn with fpdf2's `borders`
    layout (ALL, INTERNAL, MINIMAL, HORIZONTAL_LINES, NO_HORIZONTAL_LINES, ...), with a
    two-line header cell, then a paragraph."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, PARAGRAPHS_PAGE_1[0], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    header = ["Province", "Dossiers filed online in the year", "Share online", "Rank"]
    body = [[f"Province {n}", f"{1000 + 37 * n:,}", f"{40 + n}.5%", str(n + 1)]
            for n in range(rows)]  # fmt: skip
    _draw_table(pdf, [header, *body], borders_layout=borders, col_widths=(50, 30, 30, 30))
    pdf.ln(3)
    pdf.multi_cell(0, 6, AFTER_TABLE, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _draw_table(pdf, rows: list[list[str]], **options) -> None:
    """Rows as an fpdf2 table (the first is its header), drawn at the cursor."""
    with pdf.table(**options) as table:
        for values in rows:
            cells = table.row()
            for value in values:
                cells.cell(value)
