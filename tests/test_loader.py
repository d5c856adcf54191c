import datetime as dt
import re

import pytest

from index.errors import BadDocument, EmptyCorpus
from index.loader import corpus_files, load_corpus, parse_document
from tests.conftest import DOCS_CORPUS, FIXTURE_CORPUS


def test_front_matter_gives_metadata_and_is_not_in_the_text():
    doc = parse_document(
        b"---\ntitle: A title\ndate: 2024-03-12\nsource: Gazette\nlanguage: en\n---\nBody.\n", "d1"
    )
    assert (doc.title, doc.date, doc.source, doc.language) == (
        "A title", dt.date(2024, 3, 12), "Gazette", "en",
    )  # fmt: skip
    assert doc.text == "Body."


def test_a_file_without_front_matter_takes_its_title_from_the_first_line():
    doc = parse_document(b"Steering group notes\n\nThe group met twice.", "notes")
    assert doc.title == "Steering group notes"
    assert doc.date is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"Caf\xe9 prices rose.", "not UTF-8 text (byte 0xe9 at offset 3)"),
        (b"---\ntitle: x\nBody without a closing fence", "never closes"),
        (b"---\ndate: 12 March\n---\nBody.", "not an ISO date"),
        (b"---\ntitle: [unclosed\n---\nBody.", "not valid YAML"),
        (b"---\n- a list\n---\nBody.", "mapping"),
        (b"![]() |\n\n", "no text"),
    ],
)
def test_bad_files_are_refused_with_a_reason(raw, message):
    with pytest.raises(BadDocument, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_document(raw, "bad", path="corpus/bad.txt")


def test_an_empty_or_missing_corpus_is_refused(tmp_path):
    with pytest.raises(EmptyCorpus, match=r"no documents \(\.txt, \.md, "):
        corpus_files(tmp_path)
    with pytest.raises(EmptyCorpus, match="does not exist"):
        corpus_files(tmp_path / "missing")


def test_hidden_and_other_files_are_skipped(tmp_path):
    (tmp_path / ".draft.txt").write_text("Hidden draft.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "doc.md").write_text("A document.")
    assert [p.name for p in corpus_files(tmp_path)] == ["doc.md"]


def test_fixture_corpus_loads_with_and_without_front_matter():
    docs = {d.id: d for d in load_corpus(FIXTURE_CORPUS)}
    assert docs["budget_2024"].date == dt.date(2024, 3, 12)
    assert "Related articles" not in docs["budget_2024"].text
    assert docs["notes_without_front_matter"].title == "Steering group notes on digital signatures"
    assert docs["vi_summary"].language == "vi"


def test_seed_corpus_has_full_metadata():
    docs = load_corpus(DOCS_CORPUS)
    assert len(docs) == 5
    for doc in docs:
        assert doc.title and doc.date and doc.source and doc.language == "en", doc.id
        assert dt.date(2023, 1, 1) <= doc.date <= dt.date(2025, 12, 31)
        assert "DNUM_" not in doc.text and "![]()" not in doc.text


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        ("date: 2024-02-30", "field 'date' '2024-02-30' cannot be read (day is out of range"),
        ("date: 2024-13-01", "field 'date' '2024-13-01' cannot be read (month must be in 1..12"),
        ('date: "2024-02-30"', "field 'date' '2024-02-30' is not an ISO date"),
        ('date: !!int "abc"', "field 'date' 'abc' cannot be read (invalid literal for int()"),
        ('date: !!timestamp "garbage"', "field 'date' 'garbage' cannot be read (not a valid"),
        ('title: !!float "x"', "field 'title' 'x' cannot be read (could not convert"),
        ("source: !!python/name:os.system", "field 'source' '' cannot be read (could not"),
    ],
)
def test_an_impossible_front_matter_value_names_the_file_and_the_field(front_matter, message):
    raw = f"---\n{front_matter}\n---\nBody.".encode()
    with pytest.raises(BadDocument, match=re.escape(f"corpus/bad.md: front matter {message}")):
        parse_document(raw, "bad", path="corpus/bad.md")


def test_a_front_matter_title_over_the_cap_is_refused_and_a_first_line_title_is_cut():
    with pytest.raises(BadDocument, match="field 'title' is 900,000 characters; the limit is 500"):
        parse_document(b"---\ntitle: " + b"x" * 900_000 + b"\n---\nBody.", "long")
    doc = parse_document(("A long opening paragraph " * 100).encode(), "no_title")
    assert len(doc.title) <= 500 and doc.title.endswith("…")
    assert doc.text.startswith(doc.title[:-1] + " ")  # cut between words


def test_a_readme_describes_the_corpus_folder_and_is_not_a_document(tmp_path):
    (tmp_path / "README.md").write_text("# About these files\n\nMade for tests.")
    (tmp_path / "a.md").write_text("The office opened 3 counters.")
    assert [p.name for p in corpus_files(tmp_path)] == ["a.md"]
