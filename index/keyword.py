"""The BM25 side of the index (bm25s), with its own tokenizer and plain-array storage."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+", re.UNICODE)
_QUESTION_WORDS = {
    "how", "many", "much", "what", "which", "who", "whom", "whose", "when", "where", "why",
    "did", "does", "do", "was", "were", "has", "have", "had", "is", "are", "been",
}  # fmt: skip


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased word and number tokens, English stopwords dropped, words stemmed."""
    stop = _stopwords()
    words = [t for t in _TOKEN.findall(text.lower()) if t not in stop]
    return _stemmer().stemWords(words)


class KeywordIndex:
    """`scores(query)` gives the BM25 score of every indexed row."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=False))

    @property
    def size(self) -> int:
        return int(self._bm25.scores["num_docs"])

    def knows(self, word: str) -> bool:
        """Does any indexed text contain this word (after stemming)?"""
        stems = tokenize(word)
        return bool(stems) and all(t in self._bm25.vocab_dict for t in stems)

    def scores(self, query: str) -> np.ndarray:
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
