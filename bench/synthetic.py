"""Synthetic corpora for bench/scale.py, where embedding a million real chunks would take hours.

Vectors: not uniform random (in 384 dimensions uniform points have no near neighbours, and
any index looks either perfect or useless on them) but points on a low-rank manifold with
topics, like sentence embeddings: x = normalize(0.35·m + 0.9·normalize(A·z) + noise), with m a
shared direction (real embeddings are anisotropic), A a random 384x48 basis with a decaying
spectrum, and z a topic centre plus Gaussian spread. Queries come from the same process with
more noise. Calibrated against the real index: a query's best match scores ~0.65 and the
median pair ~0.10 (real corpus: 0.63 and, being a single topic, 0.25); the 10th match sits
closer to the first than in real data, which makes recall harder, not easier.

Texts: words drawn from a Zipf law over a vocabulary made of the real corpus's words (most
frequent first) followed by made-up rare words, 150 words a chunk (about a 200-token chunk).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

DIMENSION = 384
_RANK = 48
_BLOCK = 50_000
ROOT = Path(__file__).resolve().parent.parent


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


class VectorSource:
    """Clustered unit vectors on a low-rank manifold; one source per corpus size."""

    def __init__(self, n: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.shared = _unit(rng.standard_normal(DIMENSION)).astype(np.float32)
        basis = np.linalg.qr(rng.standard_normal((DIMENSION, _RANK)))[0]
        self.basis = (basis / np.sqrt(np.arange(1, _RANK + 1))).astype(np.float32)
        self.centres = rng.standard_normal((max(50, int(np.sqrt(n))), _RANK)).astype(np.float32)

    def points(self, n: int, seed: int, noise: float = 0.4) -> np.ndarray:
        rng = np.random.default_rng(seed)
        topic = self.centres[rng.integers(0, len(self.centres), n)]
        z = topic + rng.standard_normal((n, _RANK), dtype=np.float32)
        spread = _unit(rng.standard_normal((n, DIMENSION), dtype=np.float32))
        x = 0.35 * self.shared + 0.9 * _unit(z @ self.basis.T) + noise * spread
        return _unit(x).astype(np.float32)

    def write(self, path: Path, n: int, seed: int) -> np.ndarray:
        """n points written block by block into a .npy file (never all in memory twice)."""
        out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, DIMENSION))
        for start in range(0, n, _BLOCK):
            size = min(_BLOCK, n - start)
            out[start : start + size] = self.points(size, seed * 1_000_003 + start)
        out.flush()
        return np.load(path, mmap_mode="r")

    def queries(self, n: int, seed: int) -> np.ndarray:
        return self.points(n, seed, noise=0.6)


class TextSource:
    """Chunk texts and short questions over one Zipf-ranked vocabulary."""

    def __init__(self, corpus_dir: Path = ROOT / "docs_corpus", vocabulary: int = 60_000):
        words = Counter()
        for path in sorted(p for p in corpus_dir.iterdir() if p.suffix in (".md", ".txt")):
            words.update(re.findall(r"[a-z]{3,}", path.read_text(encoding="utf-8").lower()))
        real = [w for w, _ in words.most_common()]
        made_up = [_made_up_word(i) for i in range(max(0, vocabulary - len(real)))]
        self.vocabulary = np.array(real + made_up, dtype=object)
        ranks = np.arange(1, len(self.vocabulary) + 1, dtype=np.float64)
        weights = ranks**-1.07
        self.probabilities = weights / weights.sum()

    def texts(self, n: int, seed: int, words: int = 150) -> Iterator[str]:
        rng = np.random.default_rng(seed)
        for start in range(0, n, 10_000):
            size = min(10_000, n - start)
            drawn = rng.choice(len(self.vocabulary), size=(size, words), p=self.probabilities)
            for row in self.vocabulary[drawn]:
                yield " ".join(row)

    def questions(self, n: int, seed: int, words: int = 6) -> list[str]:
        """Content words of middling frequency, as questions use (no stopword-only ones)."""
        rng = np.random.default_rng(seed)
        pool = self.vocabulary[50:20_000]
        return [" ".join(rng.choice(pool, size=words)) for _ in range(n)]


def _made_up_word(i: int) -> str:
    letters = "bcdfghjklmnpqrstvwxz"
    word = ""
    i += 1
    while i:
        i, r = divmod(i, len(letters))
        word += letters[r] + "aeiou"[r % 5]
    return word + "ion"
