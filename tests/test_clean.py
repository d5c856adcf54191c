import re

from index.clean import clean_text
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
