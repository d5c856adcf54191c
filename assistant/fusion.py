"""Fusing a dense and a keyword ranking of the same candidates into one score in 0..1."""

from __future__ import annotations

import numpy as np

RRF_K = 60


def min_max(scores: np.ndarray) -> np.ndarray:
    """Scale to 0..1 over the candidates; a flat list (e.g. no keyword hit at all) becomes 0."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.zeros_like(scores) if high <= 0 else np.ones_like(scores)
    return (scores - low) / (high - low)


def weighted_fusion(dense: np.ndarray, keyword: np.ndarray, dense_weight: float) -> np.ndarray:
    """Convex combination of min-max normalized scores (Bruch et al., 2023)."""
    return dense_weight * min_max(dense) + (1.0 - dense_weight) * min_max(keyword)


def rrf_fusion(dense: np.ndarray, keyword: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion, scaled so that first in both lists scores 1."""
    fused = 1.0 / (k + 1 + _ranks(dense)) + 1.0 / (k + 1 + _ranks(keyword))
    return fused / (2.0 / (k + 1))


def _ranks(scores: np.ndarray) -> np.ndarray:
    """0-based rank of each score, highest first."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(len(scores))
    return ranks
