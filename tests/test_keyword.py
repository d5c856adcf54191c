"""The BM25 side: postings built a block at a time, scored at query time exactly as bm25s scores
the same token lists, over one segment or several with deleted rows."""

import itertools
import random

import bm25s
import numpy as np

from index.keyword import KeywordIndex, KeywordPart, KeywordSearch, tokenize

TEXTS = [
    "More than 76 million ID cards were issued to citizens by 2023.",
    "",  # a text with no words still takes a row
    "Online public services: 4,400 of them at full level.",
    "Cards, cards and more cards issued; the cards were issued again.",
    "the of and",  # stopwords only
]
QUERIES = ("cards issued", "online services", "76 million citizens", "unknownword", "cards cards")


def _bm25s_scores(texts: list[str], query: str) -> np.ndarray:
    reference = bm25s.BM25()
    reference.index([list(tokenize(t)) or [""] for t in texts], show_progress=False)
    tokens = [t for t in tokenize(query) if t in reference.vocab_dict]
    if not tokens:
        return np.zeros(len(texts), dtype=np.float32)
    return np.asarray(reference.get_scores(tokens), dtype=np.float32)


def _random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(2000)]
    zipf = [1 / (i + 1) for i in range(2000)]
    return [" ".join(rng.choices(words, weights=zipf, k=rng.randint(0, 90))) for _ in range(n)]


def test_scores_are_bm25s_s_own_bit_for_bit_after_a_save_and_load(tmp_path):
    index = KeywordIndex.build(iter(TEXTS))  # any iterable: texts are streamed, not held
    index.save(tmp_path)
    loaded = KeywordSearch.of(KeywordIndex.load(tmp_path))
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(query), _bm25s_scores(TEXTS, query))
    assert loaded.size == len(TEXTS)
    assert loaded.scores("cards issued").argmax() == 3
    assert loaded.knows("citizens") and not loaded.knows("submarines")


def test_the_block_build_scores_as_bm25s_bit_for_bit(monkeypatch):
    """Postings are built a block of texts at a time (peak memory at 1M chunks); the scores
    must be the ones bm25s computes over the whole corpus at once."""
    from index import keyword

    texts = _random_texts(3000) + TEXTS
    monkeypatch.setattr(keyword, "BLOCK_TEXTS", 457)  # several blocks, one cut mid-way
    search = KeywordSearch.of(KeywordIndex.build(texts))
    for query in ("w0 w1", "w5 w77 w1999", "w3 w3", "cards"):
        np.testing.assert_array_equal(search.scores(query), _bm25s_scores(texts, query))


def test_segments_with_deleted_rows_score_as_one_index_of_the_live_rows():
    """Statistics (row count, average length, document frequency) span every segment and leave
    deleted rows out, so a segmented index scores as a rebuild would."""
    texts = _random_texts(900, seed=1) + TEXTS
    texts[5] += " submarines"  # a word only a deleted row holds
    cuts = [0, 400, 650, len(texts)]
    dead = {5, 17, 401, 402, 700, len(texts) - 2}  # rows deleted, in three segments
    parts = []
    for start, stop in itertools.pairwise(cuts):
        mask = np.array([row in dead for row in range(start, stop)])
        parts.append(KeywordPart(KeywordIndex.build(texts[start:stop]), start, mask))
    segmented = KeywordSearch(parts)
    live = [row for row in range(len(texts)) if row not in dead]
    rebuilt = KeywordSearch.of(KeywordIndex.build([texts[row] for row in live]))
    for query in ("w0 w1", "w5 w77 w1999", "w3 w3", "cards issued", "unknownword"):
        scores = segmented.scores(query)
        np.testing.assert_array_equal(scores[live], rebuilt.scores(query))
        assert not scores[sorted(dead)].any()
    assert parts[0].index.postings("submarin") is not None
    assert not segmented.knows("submarines") and segmented.knows("cards")
