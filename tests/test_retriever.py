import datetime as dt

import pytest

from assistant.retriever import Retriever
from index.errors import BadQuery
from index.types import Filters


@pytest.fixture(scope="module")
def retriever(fixture_settings, embedder):
    from index.reader import IndexReader

    reader = IndexReader.open(fixture_settings.data_dir, embedder.name)
    return Retriever(reader, embedder, fixture_settings)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_the_relevant_document_comes_first(retriever, mode):
    passages = retriever.search("land-use certificates stored electronically", k=3, mode=mode)
    assert passages[0].doc_id == "land_registry"


def test_paraphrase_is_found_by_the_dense_side(retriever):
    passages = retriever.search("money for building schools and clinics", k=1, mode="dense")
    assert passages[0].doc_id == "budget_2024"


def test_passages_carry_metadata_span_and_a_score_in_unit_range(retriever, fixture_settings):
    passage = retriever.search("public investment spending", k=1)[0]
    assert passage.title == "Provincial budget review 2024"
    assert passage.date == dt.date(2024, 3, 12)
    assert passage.source == "Example Provincial Gazette"
    assert passage.url == "https://gazette.example.org/budget-2024"
    doc = next(d for d in retriever.reader.documents() if d.id == passage.doc_id)
    assert doc.text[passage.span[0] : passage.span[1]] == passage.text
    assert 0.0 <= passage.score <= 1.0


def test_results_are_sorted_and_k_bounds_the_count(retriever):
    passages = retriever.search("online", k=3)
    assert len(passages) == 3
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
def test_both_fusions_rank_the_obvious_answer_first(retriever, fusion):
    passages = retriever.search("digital certificates issued to officials", k=2, fusion=fusion)
    assert passages[0].doc_id == "notes_without_front_matter"


def test_filter_by_document_ids(retriever):
    passages = retriever.search("online", k=10, filters=Filters(doc_ids=["budget_2024"]))
    assert passages and {p.doc_id for p in passages} == {"budget_2024"}


def test_filter_by_date_range_is_inclusive_and_drops_undated_documents(retriever):
    window = Filters(date_from="2023-09-01", date_to="2024-03-12")
    passages = retriever.search("online records", k=10, filters=window)
    assert {p.doc_id for p in passages} == {"land_registry", "budget_2024"}
    assert retriever.search("online", k=10, filters=Filters(date_from="2030-01-01")) == []


def test_filter_by_language(retriever):
    passages = retriever.search("quy định kinh doanh", k=10, filters=Filters(language="vi"))
    assert [p.doc_id for p in passages] == ["vi_summary"]


def test_unknown_document_ids_in_filters_are_named(retriever):
    with pytest.raises(BadQuery, match=r"unknown document id.*nope"):
        retriever.search("online", k=3, filters=Filters(doc_ids=["budget_2024", "nope"]))


@pytest.mark.parametrize(
    ("query", "k", "message"),
    [("", 3, "empty"), ("   \n\t", 3, "empty"), ("x" * 2001, 3, "2001 characters"),
     ("ok", 0, "between 1 and 100"), ("ok", 101, "between 1 and 100")],
)  # fmt: skip
def test_bad_queries_are_refused(retriever, query, k, message):
    with pytest.raises(BadQuery, match=message):
        retriever.search(query, k=k)


def test_a_query_with_no_known_words_still_returns_dense_results(retriever):
    assert retriever.search("zzzqqq xyzzy", k=2)


def test_bad_filters_are_refused_by_the_schema():
    with pytest.raises(ValueError, match="date_from must not be after date_to"):
        Filters(date_from="2024-01-02", date_to="2024-01-01")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        Filters.model_validate({"author": "x"})
