"""The BM25 side of the index (bm25s), with its own tokenizer and plain-array storage."""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable
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
        a few hundred MB rather than a Python list of strings per chunk. The score matrix is
        bm25s's, built a block of texts at a time (`_score_matrix`)."""
        import bm25s

        vocab: dict[str, int] = {}
        ids, ends = array("i"), array("q", [0])
        for text in texts:
            ids.extend(vocab.setdefault(t, len(vocab)) for t in _tokens(text) or [""])
            ends.append(len(ids))
        bm25 = bm25s.BM25()
        bm25.scores = _score_matrix(
            np.frombuffer(ids, dtype=np.int32), np.frombuffer(ends, dtype=np.int64), len(vocab),
            bm25.k1, bm25.b,
        )  # fmt: skip
        if "" not in vocab:  # as bm25s.index does: the empty token scores texts with no words
            vocab[""] = len(vocab)
        bm25.vocab_dict = vocab
        bm25.unique_token_ids_set = set(vocab.values())
        bm25.nonoccurrence_array = None  # only BM25L and BM25+ have one
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


BLOCK_TEXTS = 50_000  # texts whose (text, term) pairs are counted at once


def _score_matrix(ids: np.ndarray, ends: np.ndarray, n_vocab: int, k1: float, b: float) -> dict:
    """The BM25 (Lucene) score of every term in every text, as bm25s.BM25.index builds it (its
    CSC arrays, bit for bit), a block of texts at a time. bm25s collects every (text, term,
    score) triple of the corpus and sorts them: about five arrays the size of the non-zeros at
    once, 3.7 GB at a million chunks. Here a first pass counts each term's texts, which sizes
    the two output arrays; a second writes each block's scores into place, in text order."""
    n_docs = len(ends) - 1
    lengths = np.diff(ends)
    average = lengths.mean()  # bm25s: np.array([len(doc) for doc in corpus]).mean()
    doc_freq = np.zeros(n_vocab, dtype=np.int64)
    for _doc, term, _count in _term_counts(ids, ends, n_vocab):
        doc_freq += np.bincount(term, minlength=n_vocab)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    idf = np.array(
        [math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) if df else 0.0 for df in doc_freq.tolist()],
        dtype=np.float32,
    )  # bm25s computes each with math.log, then stores it as float32
    wide = (np.float64(1.0) + np.zeros(1, dtype=np.float32)).dtype  # bm25s's arithmetic type
    filled = indptr[:-1].copy()
    for doc, term, count in _term_counts(ids, ends, n_vocab):
        # bm25s, per text: tf / (k1 * ((1 - b) + b * len / average) + tf), times the idf
        tf = count.astype(np.float32)
        norm = k1 * ((1 - b) + b * lengths[doc].astype(np.float64) / average)
        score = idf[term] * (tf / (norm.astype(wide) + tf))
        order = np.argsort(term, kind="stable")  # pairs come sorted by text, then by term
        term, doc, score = term[order], doc[order], score[order]
        first = np.searchsorted(term, term)  # each term's first pair in this block
        place = filled[term] + (np.arange(len(term)) - first)
        data[place], indices[place] = score.astype(np.float32), doc
        filled += np.bincount(term, minlength=n_vocab)
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}


def _term_counts(ids: np.ndarray, ends: np.ndarray, n_vocab: int):
    """Per block of texts: (text, term, count) arrays, one entry per distinct pair, sorted by
    text then term."""
    for start in range(0, len(ends) - 1, BLOCK_TEXTS):
        stop = min(start + BLOCK_TEXTS, len(ends) - 1)
        lengths = np.diff(ends[start : stop + 1])
        doc = np.repeat(np.arange(start, stop, dtype=np.int64), lengths)
        keys = doc * n_vocab + ids[ends[start] : ends[stop]]
        pairs, count = np.unique(keys, return_counts=True)
        yield (pairs // n_vocab).astype(np.int32), (pairs % n_vocab).astype(np.int64), count
