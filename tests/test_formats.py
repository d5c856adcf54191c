"""PDF, Word and web pages (index/formats.py, index/loader.py) on files the tests make: text in
reading order, tables kept as tables, pages, the file's own metadata, and each bad file refused
with one line. The last tests build a real index of such files and ask it."""

import datetime as dt
import io
import zipfile

import pytest

from assistant.answering import Assistant
from assistant.retriever import Retriever
from index.builder import build_index
from index.errors import BadDocument
from index.formats import read_file
from index.loader import load_corpus, page_of, parse_document
from index.pdf_tables import ruled_tables
from index.settings import Settings
from index.types import Filters

from . import made_files
from .conftest import run_cli

NAVIGATION_ONLY = (
    b"<html><head><title>Index</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
    b"<li><a href='/p'>Politics</a></li></ul></nav><footer>Copyright 2024</footer></body></html>"
)
TABLE_LINES = ["| Ward | Appointments booked | Share online |", "| Ward 7 | 4,120 | 63% |"]


def test_a_pdf_is_read_page_by_page_without_its_running_header_and_footer():
    found = read_file(made_files.two_page_pdf(), ".pdf", "bulletin.pdf")
    assert found.paged and len(found.pages) == 2
    first, second = found.pages
    # lines broken by the page are joined back into the paragraph
    assert made_files.PARAGRAPHS_PAGE_1[1] in first
    assert first.index("steering committee") < first.index("1,250") < first.index("every ward")
    assert "Provincial Reform Bulletin" not in first + second and "Page 1 of 2" not in first
    # the ruled table on page 2 is a Markdown table, between its caption and the paragraph after
    for line in TABLE_LINES:
        assert line in second.split("\n")
    assert second.index(made_files.CAPTION) < second.index("| Ward 7") < second.index("extra staff")
    assert found.meta == {"title": "Ward results 2023", "date": dt.date(2024, 3, 5),
                          "source": "Provincial Steering Committee"}  # fmt: skip


@pytest.mark.parametrize(
    "borders", ["ALL", "INTERNAL", "MINIMAL", "HORIZONTAL_LINES", "NO_HORIZONTAL_LINES"]
)
def test_ruled_tables_read_from_pdfium_are_the_tables_pdfplumber_reads(borders):
    import pdfplumber
    import pypdfium2 as pdfium

    raw = made_files.table_pdf(borders)
    page = pdfium.PdfDocument(raw)[0]
    ours = [t.rows for t in ruled_tables(page, page.get_textpage())]
    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        found = [t.extract() for t in pdf.pages[0].find_tables()]
    theirs = [[[c if c is None else " ".join(c.split()) for c in row] for row in table]
              for table in found if len(table) >= 2]  # fmt: skip
    assert ours == theirs
    if borders == "ALL":
        assert ours[0][0][1] == "Dossiers filed online in the year"  # a header on two lines
        assert ours[0][3] == ["Province 2", "1,074", "42.5%", "3"] and len(ours[0]) == 7


def test_a_pdf_document_knows_where_each_page_starts():
    doc = parse_document(made_files.two_page_pdf(), "bulletin", "bulletin.pdf", ".pdf")
    assert doc.pages is not None and len(doc.pages) == 2 and doc.pages[0] == 0
    assert doc.title == "Ward results 2023" and doc.date == dt.date(2024, 3, 5)
    assert page_of(doc.pages, doc.text.index("1,250")) == 1
    assert page_of(doc.pages, doc.text.index("4,120")) == 2
    assert doc.text[doc.pages[1] :].startswith("Appointments booked online")
    given = parse_document(made_files.two_page_pdf(), "b", "b.pdf", ".pdf",
                           {"title": "Given title", "date": "2024-06-01"})  # fmt: skip
    assert given.title == "Given title" and given.date == dt.date(2024, 6, 1)


def test_a_word_memo_keeps_its_table_in_place_and_its_core_properties():
    doc = parse_document(made_files.word_memo(), "memo", "memo.docx", ".docx")
    lines = doc.text.split("\n")
    assert all(line.strip("| ") in " ".join(lines) for line in TABLE_LINES)
    assert doc.text.index(made_files.CAPTION) < doc.text.index("Ward 7") < doc.text.index("staff")
    assert doc.title == "Memo on ward appointments" and doc.date == dt.date(2024, 4, 2)
    assert doc.source == "Office of the People's Committee" and doc.pages is None


def test_a_web_page_gives_its_article_and_none_of_the_page_around_it():
    doc = parse_document(made_files.news_page(), "news", "news.html", ".html")
    for paragraph in made_files.PARAGRAPHS_PAGE_1:
        assert paragraph in doc.text
    assert "4,120" in doc.text and made_files.AFTER_TABLE in doc.text
    for furniture in ("Most read", "cookies", "5,000 trees", "Hotline", "Politics", "Copyright"):
        assert furniture not in doc.text
    assert doc.title == "Wards book more appointments online"
    assert doc.date == dt.date(2024, 3, 5) and doc.source == "Provincial News"


def _docx_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * 50_000_000)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("locked.pdf", made_files.encrypted_pdf, "encrypted"),
        ("broken.pdf", lambda: made_files.two_page_pdf()[:900], "cannot be read"),
        ("scan.pdf", made_files.scanned_pdf, "no text to read: it is a scanned PDF"),
        ("long.pdf", lambda: made_files.long_pdf(4), "4 pages, over the 3-page limit"),
        ("memo.docx", lambda: b"just some text", "not a Word .docx file"),
        ("memo.docx", lambda: b"PK\x03\x04 broken", "broken zip"),
        ("bomb.docx", _docx_bomb, "zip bomb"),
        ("menu.html", lambda: b"<html><nav><a href='/'>Home</a></nav></html>", "no main text"),
        ("nav.html", lambda: NAVIGATION_ONLY, "no main text"),
        ("report.txt", made_files.two_page_pdf, "is a PDF, not .txt text"),
        ("report.pdf", lambda: b"Plain words, not a PDF.", "not a PDF"),
        ("slides.pptx", lambda: b"PK\x03\x04", "not a supported format"),
    ],
)
def test_a_bad_file_is_refused_with_one_line_naming_it(name, make, says):
    suffix = "." + name.rsplit(".", 1)[1]
    with pytest.raises(BadDocument, match=says) as caught:
        parse_document(make(), name.split(".")[0], name, suffix, max_pages=3)
    message = str(caught.value)
    assert name in message and "\n" not in message


@pytest.fixture(scope="module")
def formats_index(tmp_path_factory, embedder) -> Settings:
    corpus = tmp_path_factory.mktemp("formats-corpus")
    (corpus / "bulletin.pdf").write_bytes(made_files.two_page_pdf())
    (corpus / "memo.docx").write_bytes(made_files.word_memo())
    (corpus / "news.html").write_bytes(made_files.news_page())
    (corpus / "memo.docx.meta.yaml").write_text("---\nsource: Ward Office\n---\n")
    # small chunks, so that the PDF's pages fall in chunks of their own
    settings = Settings.from_env(environ={}, corpus_dir=corpus, chunk_tokens=64,
                                 data_dir=tmp_path_factory.mktemp("formats-data"))  # fmt: skip
    build_index(settings, embedder=embedder)
    return settings


def test_a_corpus_of_pdf_word_and_html_is_indexed_with_the_sidecar_metadata(formats_index):
    docs = {d.id: d for d in load_corpus(formats_index.corpus_dir)}
    assert set(docs) == {"bulletin", "memo", "news"}
    assert docs["memo"].source == "Ward Office"  # the sidecar wins over the file's own


def test_a_question_over_a_pdf_table_cell_is_answered_with_the_cell_and_its_page(
    formats_index, embedder
):
    retriever = Retriever.load(formats_index)
    retriever.embedder = embedder
    result = Assistant(retriever).ask(
        "How many appointments were booked in Ward 7?", filters=Filters(doc_ids=["bulletin"])
    )
    answer = result.answer
    assert not answer.abstained and answer.figures[0].value == 4120
    source = next(p for p in result.passages if "Ward 7 | 4,120" in p.text)
    assert source.page_start == 2 and source.page_end == 2
    assert all(p.page_start is not None for p in result.passages if p.doc_id == "bulletin")
    assert all(p.page_start is None for p in result.passages if p.doc_id != "bulletin")


CELL_QUESTIONS = {  # (row, column): how an official asks for the cell
    ("Appointments booked", "Ward 7"): "How many appointments were booked in Ward 7?",
    ("Appointments booked", "Ward 9"): "How many appointments did Ward 9 book?",
    ("Share online", "Ward 7"): "What share of Ward 7's appointments was booked online?",
    ("Share online", "Ward 9"): "What was the online share in Ward 9?",
}


@pytest.mark.parametrize("doc_id", ["bulletin", "memo", "news"])
def test_every_table_cell_asked_about_is_answered_with_its_row_and_column(
    formats_index, embedder, doc_id
):
    retriever = Retriever.load(formats_index)
    retriever.embedder = embedder
    assistant = Assistant(retriever)
    header = made_files.TABLE[0]
    for cells in made_files.TABLE[1:]:
        for c, column in enumerate(header[1:], 1):
            question = CELL_QUESTIONS[(column, cells[0])]
            result = assistant.ask(question, filters=Filters(doc_ids=[doc_id]))
            assert not result.answer.abstained, (doc_id, question, result.answer.text)
            figure = result.answer.figures[0]
            assert (figure.text, figure.row, figure.column) == (cells[c], cells[0], column), (
                doc_id, question, result.answer.text)  # fmt: skip


SIDEBAR_QUESTIONS = ["How many trees did the province plant?",
                     "How many visitors did the festival draw?"]  # fmt: skip


@pytest.mark.parametrize("question", SIDEBAR_QUESTIONS)
def test_the_page_around_a_web_article_answers_nothing(formats_index, embedder, question):
    retriever = Retriever.load(formats_index)
    retriever.embedder = embedder
    result = Assistant(retriever).ask(question, filters=Filters(doc_ids=["news"]))
    assert result.answer.abstained, result.answer.text  # "Most read" was left out of the text
    assert all(f.value not in (5000, 80000) for f in result.answer.figures)


def test_the_cli_cites_a_pdf_passage_with_its_page(formats_index):
    result = run_cli("search", "appointments booked in Ward 7", "-k", "3", "--data-dir",
                     str(formats_index.data_dir), "--doc-id", "bulletin")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Ward results 2023" in result.stdout and "; p. 2)" in result.stdout


def test_building_a_corpus_with_a_scanned_pdf_fails_in_one_line_and_writes_nothing(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    (corpus / "notes.md").write_text("# Notes\n\nThe ward booked 4,120 appointments.\n")
    (corpus / "scan.pdf").write_bytes(made_files.scanned_pdf())
    result = run_cli("index", "build", "--corpus", str(corpus), "--data-dir", str(data))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "scan.pdf has no text to read" in lines[0]
    assert not (data / "current").exists()
