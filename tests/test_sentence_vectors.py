"""Sentence vectors pooled from their chunk's pass (REFORMQA_SENTENCE_VECTORS=pooled) against
sentences encoded alone: what is pooled, what is encoded, and that both paths of ingest use it."""

from __future__ import annotations

import numpy as np
import pytest

from index.builder import build_index
from index.embedder import Embedder
from index.embedding import distinct_sentences, embed_chunks_and_sentences
from index.loader import load_corpus
from index.snapshot import Snapshot
from index.splitter import Splitter
from index.store import DataDir, read_manifest
from index.tables import embedding_text, table_rows
from index.updater import add_document

FIRST = "Hanoi opened 42 new one-stop shops for business licences in 2024."
SECOND = "Waiting times for a licence fell by 30% compared with the year before."
TABLE = (
    "---\ntitle: Wards\n---\n\nTable 1. Online services by ward, 2023\n\n"
    "Ward | Services online | Share online (%)\n\nBa Dinh | 412 | 61%\n\nHoan Kiem | 388 | 57%\n\n"
    "The share rose in every ward.\n"
)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_a_text_that_is_one_sentence_pools_close_to_it_encoded(embedder):
    vectors, pooled, found = embedder.encode_with_spans([FIRST], [(0, 0, len(FIRST))])
    assert found.tolist() == [True]
    assert _cosine(pooled[0], embedder.encode([FIRST])[0]) > 0.98  # [CLS] and [SEP] left out
    np.testing.assert_allclose(vectors, embedder.encode([FIRST]), atol=1e-5)


def test_each_sentence_of_a_text_gets_its_own_unit_vector_from_the_one_pass(embedder):
    text = f"{FIRST} {SECOND}"
    spans = [(0, 0, len(FIRST)), (0, len(FIRST) + 1, len(text)), (1, 0, len(SECOND))]
    vectors, pooled, found = embedder.encode_with_spans([text, SECOND], spans)
    assert found.all()
    np.testing.assert_allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors, embedder.encode([text, SECOND]), atol=1e-5)
    assert _cosine(pooled[0], pooled[1]) < 0.95  # not the passage's vector twice
    alone = embedder.encode([FIRST, SECOND])
    assert _cosine(pooled[0], alone[0]) > _cosine(pooled[0], alone[1])  # each is its own sentence


def test_a_sentence_past_the_models_window_is_not_pooled(embedder):
    text = " ".join(["The committee reviewed the procedures."] * 80) + " " + SECOND
    spans = [(0, 0, 38), (0, len(text) - len(SECOND), len(text))]
    _, pooled, found = embedder.encode_with_spans([text], spans)
    assert found.tolist() == [True, False]
    assert not pooled[1].any()


def test_a_backend_without_token_states_pools_nothing():
    assert Embedder(backend="torch").encode_with_spans([FIRST], [(0, 0, 5)]) is None


@pytest.fixture(scope="module")
def wards(tmp_path_factory, embedder):
    """A document with a table, split: (documents, chunks, sentences)."""
    corpus = tmp_path_factory.mktemp("wards")
    (corpus / "wards.md").write_text(TABLE + "\n" + f"{FIRST} {SECOND}\n" * 30, encoding="utf-8")
    documents = load_corpus(corpus)
    splitter = Splitter(embedder.tokenizer, embedder.max_tokens, 200, 50)
    chunks = [c for d in documents for c in splitter.split(d)]
    return documents, chunks, distinct_sentences(chunks)


def test_pooled_mode_pools_sentences_and_encodes_table_rows_under_their_header(embedder, wards):
    documents, chunks, sentences = wards
    encoded = embed_chunks_and_sentences(chunks, sentences, documents, embedder, "encoded")
    pooled = embed_chunks_and_sentences(chunks, sentences, documents, embedder, "pooled")
    np.testing.assert_allclose(pooled[0], encoded[0], atol=1e-5)  # the chunks' vectors
    assert pooled[1].shape == encoded[1].shape == (len(sentences), embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(pooled[1], axis=1), 1.0, atol=1e-5)
    rows = table_rows(documents[0].text)
    same = np.isclose(np.sum(pooled[1] * encoded[1], axis=1), 1.0, atol=1e-5)
    for (_, text), alone in zip(sentences, same, strict=True):
        assert alone == (embedding_text(text, rows) != text), text  # only table rows alone
    assert sum(same) == 2 and len(sentences) > 4


def test_pooled_mode_encodes_every_sentence_where_nothing_can_be_pooled(
    embedder, wards, monkeypatch
):
    documents, chunks, sentences = wards
    encoded = embed_chunks_and_sentences(chunks, sentences, documents, embedder, "encoded")
    monkeypatch.setattr(embedder, "encode_with_spans", lambda *args, **kwargs: None)
    fallback = embed_chunks_and_sentences(chunks, sentences, documents, embedder, "pooled")
    np.testing.assert_allclose(fallback[1], encoded[1], atol=1e-5)


@pytest.mark.parametrize("mode", ["encoded", "pooled"])
def test_a_build_and_an_upload_store_one_unit_vector_per_distinct_sentence(
    writable_index, embedder, mode
):
    settings = writable_index.with_overrides(sentence_vectors=mode)
    build_index(settings, embedder=embedder)
    text = f"{FIRST}\n\n{SECOND}\n"
    add_document(settings, embedder, text.encode(), {"title": "Hanoi"}, "hanoi")
    version = DataDir(settings.data_dir).require_current()
    snapshot = Snapshot.read_version(version, read_manifest(version))
    assert len(snapshot.sentences) == len(set(snapshot.sentences)) == len(snapshot.sentence_vectors)
    assert {("hanoi", FIRST), ("hanoi", SECOND)} <= set(snapshot.sentences)
    np.testing.assert_allclose(np.linalg.norm(snapshot.sentence_vectors, axis=1), 1.0, atol=1e-5)
    first = snapshot.sentences.index(("hanoi", FIRST))
    alone = _cosine(snapshot.sentence_vectors[first], embedder.encode([FIRST])[0])
    assert alone > 0.9999 if mode == "encoded" else 0.9 < alone < 0.9999
