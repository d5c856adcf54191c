"""The bulk encode path: token-budget batches in length order, vectors back in input order and
equal to `SentenceTransformer.encode`'s on CPU."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from index.batching import pack, pad, prefetched, token_batches
from index.embedder import Embedder


def _mixed_texts(n: int) -> list[str]:
    """Lengths from one word to past the model's limit, in no particular order."""
    words = ["the", "committee", "reviewed", "2,358", "decisions", "on", "administrative",
             "procedures", "in", "2022"]  # fmt: skip
    return [" ".join(words[: 1 + (i * 7) % len(words)] * (1 + (i * 13) % 40)) for i in range(n)]


def _toy_tokenize(texts: list[str]) -> dict[str, list[list[int]]]:
    ids = [[len(word) for word in text.split()] for text in texts]
    return {"input_ids": ids, "attention_mask": [[1] * len(row) for row in ids]}


def test_pack_keeps_each_batch_within_the_budget():
    lengths = np.array([50, 40, 40, 30, 10, 10, 10, 2])
    slices = list(pack(lengths, budget=100))
    assert [(s.start, s.stop) for s in slices] == [(0, 2), (2, 4), (4, 8)]
    assert list(pack(np.array([300, 5]), budget=100)) == [slice(0, 1), slice(1, 2)]  # alone


def test_batches_cover_every_text_once_longest_first_within_the_budget():
    texts = [" ".join(["w"] * n) for n in (3, 9, 1, 7, 7, 2, 5, 8, 4, 6)]
    batches = list(token_batches(texts, _toy_tokenize, {"input_ids": 0, "attention_mask": 0},
                                 budget=16, window=6))  # fmt: skip
    rows = np.concatenate([b.rows for b in batches])
    assert sorted(rows.tolist()) == list(range(len(texts)))
    for batch in batches:
        lengths = batch.features["attention_mask"].sum(axis=1)
        assert list(lengths) == sorted(lengths, reverse=True)
        assert batch.padded_tokens <= 16 or len(batch.rows) == 1
        assert [len(texts[r].split()) for r in batch.rows] == lengths.tolist()


def test_an_unknown_tokenizer_output_is_refused():
    def tokenize(texts):
        return {**_toy_tokenize(texts), "pixel_values": [[0]] * len(texts)}

    with pytest.raises(ValueError, match="pixel_values"):
        list(token_batches(["a b"], tokenize, {"input_ids": 0, "attention_mask": 0}, 8))


def test_padding_on_either_side():
    sequences, lengths = [[1, 2, 3], [4]], np.array([3, 1])
    assert pad(sequences, lengths, 0, left=False).tolist() == [[1, 2, 3], [4, 0, 0]]
    assert pad(sequences, lengths, 9, left=True).tolist() == [[1, 2, 3], [9, 9, 4]]


def test_prefetched_passes_items_and_errors_through_and_stops_with_its_consumer():
    assert list(prefetched(iter(range(10)), depth=2)) == list(range(10))

    def failing():
        yield 1
        raise RuntimeError("tokenizer broke")

    with pytest.raises(RuntimeError, match="tokenizer broke"):
        list(prefetched(failing()))
    made = []

    def endless():
        while True:
            made.append(1)
            yield len(made)

    for item in prefetched(endless(), depth=2):
        if item == 3:
            break
    assert len(made) <= 3 + 2 + 1  # it stopped: at most depth ahead of the consumer
    assert not [t for t in threading.enumerate() if t.name == "encoder-batches"]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    """The path that runs on a GPU too, here on CPU (fp32)."""
    return Embedder(backend="torch", device="cpu")


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_an_empty_list_gives_an_empty_matrix(backend, torch_embedder, embedder):
    encoder = torch_embedder if backend == "torch" else embedder
    vectors = encoder.encode([])
    assert vectors.shape == (0, encoder.dimension)
    assert vectors.dtype == np.float32


def test_the_batched_path_equals_sentence_transformers_in_input_order(torch_embedder):
    texts = [*_mixed_texts(90), "", "ID cards"]  # > 64 texts: batches come from the thread
    small_batches = Embedder(backend="torch", batch_tokens=1024)
    small_batches.__dict__["model"] = torch_embedder.model  # the same loaded model
    ours = small_batches.encode(texts)
    naive = torch_embedder.model.encode(texts, batch_size=32, normalize_embeddings=True)
    assert ours.shape == naive.shape and ours.dtype == np.float32
    assert np.abs(ours - naive).max() < 1e-5
    single = torch_embedder.encode([texts[5]])[0]  # one query, no thread, no padding
    assert np.abs(single - naive[5]).max() < 1e-5
