import itertools

import pytest

from index.splitter import Splitter
from index.types import Document

SENTENCE = "The province issued {n} permits to small firms under Resolution No. 01 this quarter. "


@pytest.fixture(scope="module")
def splitter(embedder):
    return Splitter(embedder.tokenizer, embedder.max_tokens, chunk_tokens=60, chunk_overlap=20)


def _doc(text: str) -> Document:
    return Document(id="d", title="t", text=text)


def test_spans_point_at_the_chunk_text_in_order(splitter):
    doc = _doc("".join(SENTENCE.format(n=n) for n in range(30)).strip())
    chunks = splitter.split(doc)
    assert len(chunks) > 3
    for position, chunk in enumerate(chunks):
        assert chunk.position == position
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.id == f"d#{position:04d}"
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)


def test_chunks_end_at_sentence_ends_and_overlap_by_whole_sentences(splitter):
    doc = _doc("".join(SENTENCE.format(n=n) for n in range(30)).strip())
    chunks = splitter.split(doc)
    for chunk in chunks:
        assert chunk.text.endswith("this quarter."), chunk.text[-40:]
        assert chunk.n_tokens <= 60 + 2
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end, "consecutive chunks share a sentence"
    assert "No. 01 this quarter" in chunks[0].text  # "No. 01" is not a sentence end


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20000,
        "9,200/11,956 " * 400,
        "一二三四五六七八九十" * 300,
        ("word " * 3000).strip(),
        "Line without punctuation\n" * 400,
    ],
)
def test_no_chunk_is_ever_over_the_model_limit(embedder, text):
    splitter = Splitter(embedder.tokenizer, embedder.max_tokens, chunk_tokens=254, chunk_overlap=0)
    chunks = splitter.split(_doc(text))
    assert chunks
    for chunk in chunks:
        assert chunk.n_tokens <= embedder.max_tokens
        assert embedder.count_tokens(chunk.text) == chunk.n_tokens


def test_a_chunk_size_over_the_model_limit_is_refused(embedder):
    with pytest.raises(ValueError, match="over the model's limit"):
        Splitter(embedder.tokenizer, embedder.max_tokens, chunk_tokens=300, chunk_overlap=0)
