"""The BM25 side of the index: its tokenizer, each segment's postings, and Lucene's BM25 (as
bm25s computes it) over the live rows of all segments at query time."""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
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


K1, B = 1.5, 0.75  # bm25s's defaults (its "lucene" variant), as the index always used
_FILES = ("indptr", "indices", "tf", "lengths")


class KeywordIndex:
    """One segment's postings: for each term, the rows holding it and how often (CSC arrays),
    and each row's length in tokens. Scores are not stored: they depend on the statistics of
    every segment together, so `KeywordSearch` computes them at query time."""

    def __init__(self, vocab: dict[str, int], arrays: dict[str, np.ndarray]) -> None:
        self.vocab = vocab
        self.indptr, self.indices = arrays["indptr"], arrays["indices"]
        self.tf, self.lengths = arrays["tf"], arrays["lengths"]

    @classmethod
    def build(cls, texts: Iterable[str]) -> KeywordIndex:
        """Texts are tokenized one at a time into packed integer ids: a million chunks take
        a few hundred MB rather than a Python list of strings per chunk. The postings are
        built a block of texts at a time (`_postings`)."""
        vocab: dict[str, int] = {}
        ids, ends = array("i"), array("q", [0])
        for text in texts:  # a text with no words holds the empty token, as in bm25s
            ids.extend(vocab.setdefault(t, len(vocab)) for t in _tokens(text) or [""])
            ends.append(len(ids))
        ids_array = np.frombuffer(ids, dtype=np.int32)
        ends_array = np.frombuffer(ends, dtype=np.int64)
        return cls(vocab, _postings(ids_array, ends_array, len(vocab)))

    def save(self, folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")
        for name in _FILES:
            np.save(folder / f"{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        """Memory-mapped: opening copies nothing, pages are read as queries touch them."""
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in _FILES}
        # plain views of the same mapping: indexing a np.memmap costs per call
        return cls(vocab, {name: np.asarray(a) for name, a in arrays.items()})

    @property
    def size(self) -> int:
        return len(self.lengths)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, term frequencies) of the rows holding `term`; None for an unknown term."""
        column = self.vocab.get(term)
        if column is None:
            return None
        start, end = self.indptr[column], self.indptr[column + 1]
        return self.indices[start:end], self.tf[start:end]


@dataclass(frozen=True)
class KeywordPart:
    """A segment's postings, where its rows start among all rows, and its deleted rows."""

    index: KeywordIndex
    offset: int
    dead: np.ndarray | None = None  # a boolean mask over the segment's rows


class KeywordSearch:
    """BM25 over one or more segments, with statistics (document count, average length,
    document frequencies) over their live rows only: the scores of one index built from those
    rows, bit for bit the ones bm25s computes."""

    def __init__(self, parts: list[KeywordPart]) -> None:
        self.parts = parts
        self.size = sum(p.index.size for p in parts)
        lengths = [p.index.lengths for p in parts]
        alive = [p.index.lengths[~p.dead] if p.dead is not None else p.index.lengths for p in parts]
        self.live_rows = sum(len(a) for a in alive)
        total = sum(int(a.sum(dtype=np.int64)) for a in alive)
        average = np.float64(total) / max(self.live_rows, 1)  # bm25s: lengths.mean()
        # each row's length normalization, k1 * (1 - b + b * length / average), as bm25s has it
        norms = [K1 * ((1 - B) + B * ln.astype(np.float64) / average) for ln in lengths]
        self._norm = np.concatenate(norms) if norms else np.zeros(0)

    @classmethod
    def of(cls, index: KeywordIndex) -> KeywordSearch:
        return cls([KeywordPart(index, 0)])

    def knows(self, word: str) -> bool:
        """Does any live text contain this word (after stemming)?"""
        stems = tokenize(word)
        return bool(stems) and all(self._live_postings(t) for t in stems)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every row (0 for a deleted one), summed term by term in float32
        as bm25s sums them."""
        scores = np.zeros(self.size, dtype=np.float32)
        for term in tokenize(query):
            postings = self._live_postings(term)
            frequency = sum(len(rows) for rows, _ in postings)
            if not frequency:
                continue
            idf = np.float32(math.log(1 + (self.live_rows - frequency + 0.5) / (frequency + 0.5)))
            for rows, tf in postings:  # idf * tf / (norm + tf), in place: one gathered copy
                part = self._norm[rows]
                part += tf
                np.divide(tf, part, out=part)
                part *= idf
                scores[rows] += part.astype(np.float32)
        return scores

    def _live_postings(self, term: str) -> list[tuple[np.ndarray, np.ndarray]]:
        """(global rows, term frequencies) per segment, deleted rows left out."""
        found = []
        for part in self.parts:
            postings = part.index.postings(term)
            if postings is None:
                continue
            rows, tf = postings
            if part.dead is not None:
                keep = ~part.dead[rows]
                rows, tf = rows[keep], tf[keep]
            if len(rows):
                found.append((rows.astype(np.int64) + part.offset, tf))
        return found


BLOCK_TEXTS = 50_000  # texts whose (text, term) pairs are counted at once


def _postings(ids: np.ndarray, ends: np.ndarray, n_vocab: int) -> dict[str, np.ndarray]:
    """Each term's rows and term frequencies in CSC arrays (rows ascending within a term), a
    block of texts at a time: a first pass counts each term's texts, which sizes the arrays; a
    second writes each block's pairs into place. Collecting every pair of the corpus at once
    and sorting them took 3.7 GB at a million chunks."""
    doc_freq = np.zeros(n_vocab, dtype=np.int64)
    for _doc, term, _count in _term_counts(ids, ends, n_vocab):
        doc_freq += np.bincount(term, minlength=n_vocab)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])
    tf = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    filled = indptr[:-1].copy()
    for doc, term, count in _term_counts(ids, ends, n_vocab):
        order = np.argsort(term, kind="stable")  # pairs come sorted by text, then by term
        term, doc, count = term[order], doc[order], count[order]
        first = np.searchsorted(term, term)  # each term's first pair in this block
        place = filled[term] + (np.arange(len(term)) - first)
        tf[place], indices[place] = count.astype(np.float32), doc
        filled += np.bincount(term, minlength=n_vocab)
    lengths = np.diff(ends).astype(np.int32)
    return {"indptr": indptr, "indices": indices, "tf": tf, "lengths": lengths}


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
