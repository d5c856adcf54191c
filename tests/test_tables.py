"""Tables in cleaned text: a row's figures take their column header and row label."""

import datetime as dt

from index.clean import clean_text
from index.figures import extract_figures
from index.tables import embedding_text, table_rows

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
