"""Tables in cleaned text: a row's figures take their column header and row label."""

import datetime as dt

from index.clean import clean_text
from index.figures import extract_figures
from index.tables import embedding_text, missing_header, table_rows

from .conftest import run_cli

MARKDOWN = """The table below shows mobile ID uptake by province.

| Province | Active mobile IDs | Share of adults | Change |
|---|---|---|---|
| Jeju | 39,600 | 6.9% | up 71% |
| Gangwon | 88,100 | 6.1% | up 40% |

Uptake rose everywhere | though unevenly.
"""


def test_each_body_row_is_found_with_its_header_and_nothing_else_is():
    text = clean_text(MARKDOWN)
    rows = table_rows(text)
    assert set(rows) == {"Jeju | 39,600 | 6.9% | up 71%", "Gangwon | 88,100 | 6.1% | up 40%"}
    jeju = rows["Jeju | 39,600 | 6.9% | up 71%"]
    assert jeju.header == ("Province", "Active mobile IDs", "Share of adults", "Change")
    assert jeju.subject_at(2) == "Share of adults, Jeju" and jeju.subject_at(0) is None


RANKED = (
    "Table 2. Benchmark ranking, 2025\n\nRank | Country | Score | Share online (%) | Change\n\n"
    "11 | Austria | 82.7 | 45.5 | +2\n\n13 | Portugal | 81.4 | 40 | 1\n\n"
    "Both countries gained places."
)


def test_a_cell_is_read_by_its_row_label_and_its_column_header_with_the_header_s_unit():
    rows = table_rows(RANKED)
    austria = rows["11 | Austria | 82.7 | 45.5 | +2"]
    assert austria.label == "Austria"  # the first cell that is not a number names the row
    found = {f.text: f for f in extract_figures(RANKED, dt.date(2025, 6, 1), tables=rows)}
    assert (found["11"].row, found["11"].column, found["11"].unit) == ("Austria", "Rank", "rank")
    assert found["11"].subject == "Rank, Austria"
    assert (found["45.5"].column, found["45.5"].unit) == ("Share online (%)", "%")
    assert found["82.7"].unit is None and found["82.7"].row == "Austria"
    assert found["+2"].change == "increase" and found["+2"].unit is None
    prose = extract_figures("Austria gained 2 places.", dt.date(2025, 6, 1))
    assert prose[0].row is None and prose[0].column is None


def test_a_passage_that_starts_inside_a_table_gets_its_caption_and_header_row():
    rows = table_rows(RANKED)
    header = RANKED[: RANKED.index("\n\n11 |")]
    assert missing_header("13 | Portugal | 81.4 | 40 | 1\n\nBoth countries gained places.",
                          rows) == header  # fmt: skip
    assert missing_header(RANKED, rows) is None  # the passage holds its header
    assert missing_header("Both countries gained places.", rows) is None


def test_a_cells_figure_takes_its_column_header_and_row_label_as_subject():
    text = clean_text(MARKDOWN)
    figures = extract_figures(text, dt.date(2023, 1, 5), tables=table_rows(text))
    jeju = {f.text: f.subject for f in figures if f.sentence.startswith("Jeju")}
    assert jeju["6.9%"] == "Share of adults, Jeju"
    assert jeju["39,600"] == "Active mobile IDs, Jeju"
    assert all(f.subject == "Change, Jeju" for f in figures if f.sentence.startswith("Jeju")
               and f.change)  # fmt: skip
    # without the tables, the row alone does not say what 6.9% measures
    alone = extract_figures(text, dt.date(2023, 1, 5))
    assert [f.subject for f in alone if f.text == "6.9%"] != ["Share of adults, Jeju"]


def test_a_row_is_encoded_under_its_header():
    text = clean_text(MARKDOWN)
    rows = table_rows(text)
    row = "Jeju | 39,600 | 6.9% | up 71%"
    assert embedding_text(row, rows) == (
        "Province | Active mobile IDs | Share of adults | Change\n" + row
    )
    prose = "The table below shows mobile ID uptake by province."
    assert embedding_text(prose, rows) == prose


def test_a_table_row_without_a_date_takes_its_caption_s_year():
    text = (
        "Table 3. Results by ward, 2023\n\nWard | Appointments booked\n\nWard 7 | 4,120\n\n"
        "Appointments rose again in every ward over the whole of 2021 and 2022, the office said, "
        "and it expects the same of the wards that opened their counters late.\n\n"
        "Ward | Appointments booked\n\nWard 9 | 2,310"
    )
    found = {f.text: f for f in extract_figures(text, dt.date(2024, 3, 5), "d", "d#0",
                                                table_rows(text))}  # fmt: skip
    assert found["4,120"].as_of == dt.date(2023, 12, 31)
    assert found["4,120"].subject == "Appointments booked, Ward 7"
    # a long paragraph before a table is text about it, not its caption: the document's date
    assert found["2,310"].as_of == dt.date(2024, 3, 5)


PROVINCES = ["Lao Cai", "Yen Bai", "Thai Nguyen", "Bac Giang", "Phu Tho", "Hoa Binh", "Son La",
             "Dien Bien", "Lai Chau", "Ha Giang", "Cao Bang", "Lang Son", "Tuyen Quang",
             "Bac Kan", "Quang Ninh", "Hai Duong", "Hung Yen", "Thai Binh", "Nam Dinh",
             "Ninh Binh"]  # fmt: skip


def test_a_chunk_that_starts_mid_table_is_found_and_shown_under_its_header(tmp_path, embedder):
    from assistant.retriever import Retriever
    from index.builder import build_index
    from index.loader import load_corpus
    from index.reader import IndexReader
    from index.settings import Settings

    rows = "\n".join(f"| {name} | {1000 + 37 * i:,} | {50 + i}.5% |" for i, name in
                     enumerate(PROVINCES))  # fmt: skip
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "lines.md").write_text(
        "---\ntitle: Public service portal\ndate: 2024-02-01\n---\n"
        "The portal kept growing in the northern provinces.\n\n"
        "Table 4. Portal use by province, 2023\n\n"
        f"| Province | Dossiers filed online | Share of dossiers online |\n|---|---|---|\n{rows}\n"
    )
    settings = Settings.from_env(environ={}, corpus_dir=corpus, data_dir=tmp_path / "data",
                                 chunk_tokens=48, chunk_overlap=0)  # fmt: skip
    build_index(settings, embedder=embedder)
    every_row = table_rows(load_corpus(corpus)[0].text)
    [segment] = IndexReader.open(settings.data_dir, embedder.name).segments
    texts = [text for (text,) in segment.db.execute("SELECT text FROM chunks")]
    assert len(texts) > 3  # the table spans several chunks, none of them split mid-row
    for text in texts:
        rows = [p for p in text.split("\n\n") if "|" in p]
        assert all(row in every_row or row.startswith("Province |") for row in rows), text
    retriever = Retriever.load(settings)
    retriever.embedder = embedder
    header = "Table 4. Portal use by province, 2023\n\nProvince | Dossiers filed online | Share of "
    passages = retriever.search("Ninh Binh dossiers filed online", k=1)
    assert "Ninh Binh | 1,703 | 69.5%" in passages[0].text
    assert passages[0].table_header.startswith(header)  # the chunk does not hold its header
    assert "Province |" not in passages[0].text  # the passage's text is the document's own
    figure = next(f for f in passages[0].figures if f.text == "69.5%")
    assert (figure.row, figure.column) == ("Ninh Binh", "Share of dossiers online")
    first = retriever.search("The portal kept growing in the northern provinces", k=1)[0]
    assert first.table_header is None
    shown = run_cli("search", "Ninh Binh dossiers filed online", "-k", "1", "--data-dir",
                    str(settings.data_dir)).stdout  # fmt: skip
    assert shown.index("Province | Dossiers filed online") < shown.index("Ninh Binh | 1,703")


SCALED = """Table 4. Digital identity, 2022

| Country | Cards issued (million) | Budget (DKK billion) | Share (%) | Offices |
|---|---|---|---|---|
| Italy | 31.6 | 2.4 | 66.3 | 12 |
| MitID users (million) | 4.3 | 0.75 | 71.0 | 9 |
"""


def test_a_bare_cell_takes_the_scale_and_currency_its_header_or_row_label_gives():
    text = clean_text(SCALED)
    found = {(f.row, f.text): f for f in extract_figures(text, dt.date(2023, 1, 5),
                                                          tables=table_rows(text))}  # fmt: skip
    assert found[("Italy", "31.6")].value == 31_600_000  # the text stays as written
    assert (found[("Italy", "2.4")].value, found[("Italy", "2.4")].unit) == (2.4e9, "DKK")
    assert found[("Italy", "66.3")].value == 66.3 and found[("Italy", "12")].value == 12
    assert found[("MitID users (million)", "4.3")].value == 4_300_000
    assert found[("MitID users (million)", "0.75")].value == 750_000_000  # header's billions
