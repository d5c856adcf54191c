"""The BM25 side of the index (bm25s), with its own tokenizer and plain-array storage."""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Sequence
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


@lru_cache(maxsize=1 << 14)
def tokenize(text: str) -> tuple[str, ...]:
    """Lower-cased word and number tokens, English stopwords dropped, words stemmed. Cached:
    answering tokenizes the same sentences and figure contexts for question after question."""
    return _tokens(text)


def _tokens(text: str) -> tuple[str, ...]:
    return tuple(term for word in _TOKEN.findall(text.lower()) if (term := _term(word)))


@lru_cache(maxsize=1 << 18)
def _term(word: str) -> str:
    """The stem of a word, "" for a stopword: cached, as a corpus repeats its words."""
    return "" if word in _stopwords() else _stemmer().stemWord(word)


class KeywordIndex:
    """`scores(query)` gives the BM25 score of every indexed row."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25

    @classmethod
    def build(cls, texts: Iterable[str]) -> KeywordIndex:
        """Texts are tokenized one at a time into packed integer ids: a million chunks take
        a few hundred MB rather than a Python list of strings per chunk."""
        import bm25s
        from bm25s.tokenization import Tokenized

        vocab: dict[str, int] = {}
        ids, ends = array("i"), array("q", [0])
        for text in texts:
            ids.extend(vocab.setdefault(t, len(vocab)) for t in _tokens(text) or [""])
            ends.append(len(ids))
        bm25 = bm25s.BM25()
        bm25.index(Tokenized(ids=_PackedIds(ids, ends), vocab=vocab), show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        """Memory-mapped: opening copies nothing, pages are read as queries touch them."""
        import bm25s

        bm25 = bm25s.BM25.load(str(folder), mmap=True)
        for name in ("data", "indices", "indptr"):  # plain views of the same mapping: indexing
            bm25.scores[name] = np.asarray(bm25.scores[name])  # a np.memmap costs per call
        return cls(bm25)

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


class _PackedIds(Sequence):
    """Each text's token ids as a list, read from one flat array (what bm25s iterates over)."""

    def __init__(self, ids: array, ends: array):
        self._ids = np.frombuffer(ids, dtype=np.int32)
        self._ends = np.frombuffer(ends, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._ends) - 1

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._ids[self._ends[i] : self._ends[i + 1]].tolist()
