"""The BM25 side: texts packed into integer ids score exactly as bm25s scores token lists."""

import bm25s
import numpy as np

from index.keyword import KeywordIndex, tokenize

TEXTS = [
    "More than 76 million ID cards were issued to citizens by 2023.",
    "",  # a text with no words still takes a row
    "Online public services: 4,400 of them at full level.",
    "Cards, cards and more cards issued; the cards were issued again.",
    "the of and",  # stopwords only
]


def test_packed_build_scores_like_bm25s_over_token_lists(tmp_path):
    reference = bm25s.BM25()
    reference.index([tokenize(t) or [""] for t in TEXTS], show_progress=False)
    ours = KeywordIndex.build(iter(TEXTS))  # any iterable: texts are streamed, not held
    ours.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path)
    for query in ("cards issued", "online services", "76 million citizens", "unknownword"):
        tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
        expected = reference.get_scores(tokens) if tokens else np.zeros(len(TEXTS))
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-6)
        np.testing.assert_allclose(loaded.scores(query), expected, rtol=1e-6)
    assert loaded.size == len(TEXTS)
    assert loaded.scores("cards issued").argmax() == 3
    assert loaded.knows("citizens") and not loaded.knows("submarines")


def test_the_block_build_is_bm25s_s_own_matrix_bit_for_bit(monkeypatch):
    """index.keyword builds the score matrix a block of texts at a time (peak memory at 1M
    chunks); its arrays must be the ones bm25s.BM25.index builds from the same token ids."""
    import random

    from bm25s.tokenization import Tokenized

    from index import keyword

    rng = random.Random(0)
    words = [f"w{i}" for i in range(2000)]
    zipf = [1 / (i + 1) for i in range(2000)]
    texts = [" ".join(rng.choices(words, weights=zipf, k=rng.randint(0, 90))) for _ in range(3000)]
    texts += TEXTS
    monkeypatch.setattr(keyword, "BLOCK_TEXTS", 457)  # several blocks, one cut mid-way
    ours = KeywordIndex.build(texts)._bm25
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in tokenize(text) or [""]] for text in texts]
    reference = bm25s.BM25()
    reference.index(Tokenized(ids=ids, vocab=dict(vocab)), show_progress=False)
    for name in ("data", "indices", "indptr"):
        assert ours.scores[name].dtype == reference.scores[name].dtype
        assert np.array_equal(ours.scores[name], reference.scores[name]), name
    assert ours.scores["num_docs"] == reference.scores["num_docs"] == len(texts)
    assert ours.vocab_dict == reference.vocab_dict
