import re
from collections import Counter

import pytest

from index.clean import clean_text
from index.figures import extract_figures
from index.loader import DOCUMENT_SUFFIXES as SUFFIXES
from index.loader import split_front_matter
from tests.conftest import DOCS_CORPUS


def test_removes_image_tokens_cms_ids_and_table_pipes():
    raw = (
        "Pham Bang DNUM_BEZBBZCACD 18:34\n![]() |\nView of the hall. Photo: VGP |\nBody text here."
    )
    assert clean_text(raw) == "View of the hall. Photo: VGP\n\nBody text here."


def test_removes_banners_datelines_image_files_and_widgets():
    raw = "\n".join([
        "Example.vn - The portal of examples",
        "14:44, October 16, 2023",
        "04/02/2023 07:10 AM",
        "photo-123abc.jpg",
        "Comment (0)",
        "The council met on October 16, 2023 and approved 12 projects.",
    ])  # fmt: skip
    assert clean_text(raw) == "The council met on October 16, 2023 and approved 12 projects."


def test_drops_link_lists_after_the_last_sentence_but_keeps_headings_inside():
    raw = (
        "Results\nThe rate reached 52.8%.\nRelated news\nSame tag\nVisit a fishing village\nTravel"
    )
    assert clean_text(raw) == "Results\n\nThe rate reached 52.8%."


def test_collapses_a_caption_printed_twice():
    raw = "Delegates at the venue.\nDelegates at the venue.\nThe meeting closed."
    assert clean_text(raw) == "Delegates at the venue.\n\nThe meeting closed."


def test_never_touches_a_sentence_of_the_seed_corpus():
    """Every line of the corpus that reads as a sentence survives cleaning word for word."""
    for path in sorted(DOCS_CORPUS.glob("*.txt")):
        raw = path.read_text(encoding="utf-8").split("---", 2)[2]
        cleaned = clean_text(raw)
        for line in raw.splitlines():
            line = line.strip()
            if re.search(r"[.!?]$", line) and len(line.split()) > 5 and "|" not in line:
                assert line in cleaned, f"{path.name}: lost {line[:60]!r}"


def test_a_markdown_file_ending_in_a_bullet_list_keeps_every_item():
    raw = (
        "# One-stop shops\n\nThe province reported on its one-stop shops.\n\n## By district\n"
        "- Province A: 17 one-stop shops opened\n- Province B: 9 one-stop shops opened\n"
        "* Simplified procedures\n1. Fewer visits"
    )
    cleaned = clean_text(raw)
    for item in ("## By district", "- Province A: 17 one-stop shops opened",
                 "- Province B: 9 one-stop shops opened", "* Simplified procedures",
                 "1. Fewer visits"):  # fmt: skip
        assert item in cleaned


def test_table_rows_keep_their_cells_even_when_they_hold_dates():
    raw = (
        "The table gives the results.\n| Province | Shops | Reported |\n|---|---|---|\n"
        "| A | 17 | 2023-01-05 |\n| B | 9 | 05/01/2023 |\n| B | 9 | 05/01/2023 |"
    )
    rows = clean_text(raw).split("\n\n")
    assert rows == [
        "The table gives the results.", "Province | Shops | Reported",
        "A | 17 | 2023-01-05", "B | 9 | 05/01/2023", "B | 9 | 05/01/2023",
    ]  # fmt: skip


def test_short_lines_that_state_a_number_are_content_wherever_they_stand():
    raw = (
        "Online services\nThe ministry published its figures.\nFigure 2: Online files, 2023\n"
        "Hanoi 12:30 | 48 counters\nTotal 4,400 procedures\nOverall 63 provinces joined"
    )
    assert clean_text(raw).split("\n\n") == [
        "Online services", "The ministry published its figures.", "Figure 2: Online files, 2023",
        "Hanoi 12:30 | 48 counters", "Total 4,400 procedures", "Overall 63 provinces joined",
    ]  # fmt: skip


def test_a_long_run_of_short_lines_is_the_document_not_furniture():
    raw = "\n".join(["alpha", "beta"] * 50_000)
    assert clean_text(raw).count("\n\n") == 99_999


def test_a_short_document_of_labels_is_kept_whole():
    raw = "Results\nProvince A\nProvince B\nProvince C"
    assert clean_text(raw).split("\n\n") == ["Results", "Province A", "Province B", "Province C"]


_FILE_OR_URL = re.compile(r"^\S+\.(?:jpe?g|png|gif|webp)$|^(?:https?://|www\.)\S+$", re.I)


def _corpus_files():
    eval_corpus = DOCS_CORPUS.parent / "eval" / "corpus"
    folders = [DOCS_CORPUS, *([eval_corpus] if eval_corpus.is_dir() else [])]
    return [p for folder in folders for p in sorted(folder.rglob("*")) if p.suffix in SUFFIXES]


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: p.name)
def test_no_figure_of_a_corpus_document_is_lost_in_cleaning(path):
    """Figures read line by line from the file as written (bar image file names and bare links,
    the only furniture with digits) all come back from the cleaned text."""
    _, body = split_front_matter(path.read_text(encoding="utf-8"), path.name)
    written = Counter(
        (f.text, f.value)
        for line in body.splitlines()
        if not _FILE_OR_URL.match(line.strip(" |"))
        for f in extract_figures(line)
    )
    kept = Counter((f.text, f.value) for f in extract_figures(clean_text(body)))
    assert written - kept == Counter()
