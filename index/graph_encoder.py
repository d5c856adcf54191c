"""Sentence vectors with no torch: the exported ONNX graph (onnxruntime), the model folder's own
`tokenizer.json` (tokenizers) and the model's pooling and normalization in numpy.

Importing torch, transformers and sentence-transformers is most of a server's start-up, and a
question needs none of them once the graph is exported (index/onnx_export.py). This path opens the
graph only when its export record names the digest of the weights file the model folder holds now,
and only for a model made of a transformer, a pooling and an optional normalization (its
modules.json); anything else is left to the full model. Vectors equal the full model's within
float rounding (tests/test_encoder_backends.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_POOLING_MODES = ("mean_tokens", "cls_token", "max_tokens")


def weights_file_digest(load_path: str | Path) -> str | None:
    """A digest of the model folder's weights file; None when it has none this path knows."""
    for name in WEIGHT_FILES:
        path = Path(load_path) / name
        if path.is_file():
            digest = hashlib.blake2b(digest_size=16)
            with path.open("rb") as f:
                while block := f.read(1 << 22):
                    digest.update(block)
            return digest.hexdigest()
    return None


class TextTokenizer:
    """The calls the splitter makes of a transformers tokenizer (`tokenizer(text,
    add_special_tokens=..., return_offsets_mapping=...)["input_ids"]`), answered by the same
    tokenizer.json through `tokenizers`, never truncating: the same ids and offsets."""

    def __init__(self, tokenizer: Any):
        self._tokenizer = tokenizer

    def __call__(
        self,
        text: str,
        add_special_tokens: bool = True,
        truncation: bool = False,
        return_offsets_mapping: bool = False,
    ) -> dict[str, list]:
        encoded = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
        found: dict[str, list] = {"input_ids": encoded.ids}
        if return_offsets_mapping:
            found["offset_mapping"] = encoded.offsets
        return found


@dataclass(frozen=True)
class GraphEncoder:
    tokenizer: Any  # tokenizers.Tokenizer, truncating at max_tokens, not padding
    session: Any  # onnxruntime.InferenceSession of the transformer
    pooling: str  # one of _POOLING_MODES
    normalize: bool
    dimension: int
    max_tokens: int
    pad_values: dict[str, int]
    text_tokenizer: TextTokenizer  # for counting a text's tokens, whatever its length

    def tokenize(self, texts: list[str]) -> dict[str, list[list[int]]]:
        encoded = self.tokenizer.encode_batch(texts)
        return {
            "input_ids": [e.ids for e in encoded],
            "attention_mask": [e.attention_mask for e in encoded],
            "token_type_ids": [e.type_ids for e in encoded],
        }

    def run(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """Vectors of one padded batch."""
        return self.pool(self.token_states(features), features["attention_mask"])

    def token_states(self, features: dict[str, np.ndarray]) -> np.ndarray:
        """The transformer's output of one padded batch: (texts, tokens, dimension)."""
        inputs = {i.name: features[i.name] for i in self.session.get_inputs()}
        (hidden,) = self.session.run(None, inputs)
        return hidden.astype(np.float32, copy=False)

    def pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The model's pooling and normalization of token states, one vector per row."""
        return self._normalized(_pool(hidden, mask, self.pooling))

    def _normalized(self, vectors: np.ndarray) -> np.ndarray:
        if self.normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    @property
    def pools_spans(self) -> bool:
        """Whether a span of a text has a vector of its own here: not with [CLS] pooling."""
        return self.pooling != "cls_token"

    def token_windows(
        self, texts: list[str], spans: list[tuple[int, int, int]]
    ) -> list[tuple[int, int] | None]:
        """For each (text, start, end) character span: its tokens [first, stop) in the text's
        pass, or None when they are not all inside the model's window (a truncated text)."""
        encodings = self.tokenizer.encode_batch(texts)
        tokens: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for text in {text for text, _, _ in spans}:
            tokens[text] = _content_tokens(encodings[text])
        return [_token_window(*tokens[text], start, end) for text, start, end in spans]

    def pool_spans(self, hidden: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
        """Each token window of one text's states pooled as the model pools a whole text.
        The window holds the span's own tokens only, no [CLS] or [SEP]: over 15 documents of
        eval/corpus that came closer to the span encoded alone (mean cosine 0.68, not 0.66)."""
        mask = np.zeros((len(windows), hidden.shape[0]), dtype=np.float32)
        for row, (first, stop) in enumerate(windows):
            mask[row, first:stop] = 1.0
        if self.pooling == "mean_tokens":  # one product, not a copy of the states per span
            return self._normalized(mask @ hidden / mask.sum(axis=1, keepdims=True))
        states = np.broadcast_to(hidden, (len(windows), *hidden.shape))
        return self._normalized(_pool(states, mask, self.pooling))


def open_graph_encoder(
    load_path: str, model_name: str, variant: str, cache_dir: Path, threads: int
) -> GraphEncoder | None:
    """The torch-free encoder of an exported model; None when the export is missing, was made
    from other weights, or the model has modules this path does not run."""
    from index.onnx_export import GRAPH, RECORD, export_folder, open_session

    folder, model = export_folder(cache_dir, model_name, variant), Path(load_path)
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        modules = json.loads((model / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((model / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    types = [m.get("type") for m in modules]
    if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
        return None
    pooling = _pooling_of(model / modules[1].get("path", ""))
    if pooling is None or not (model / "tokenizer.json").is_file():
        return None
    if record.get("weights_digest") is None or not (folder / GRAPH).is_file():
        return None
    if record["weights_digest"] != weights_file_digest(model):
        return None
    from tokenizers import Tokenizer

    max_tokens = int(config["max_seq_length"])
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_padding()
    untruncated = Tokenizer.from_str(tokenizer.to_str())
    untruncated.no_truncation()
    tokenizer.enable_truncation(max_length=max_tokens)
    mode, dimension = pooling
    return GraphEncoder(
        tokenizer, open_session(folder / GRAPH, threads), mode, _NORMALIZE in types, dimension,
        max_tokens, {"input_ids": _pad_id(tokenizer), "attention_mask": 0, "token_type_ids": 0},
        TextTokenizer(untruncated),
    )  # fmt: skip


def _pooling_of(folder: Path) -> tuple[str, int] | None:
    """(mode, dimension) of a pooling module that uses exactly one mode this path runs."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    used = [mode for mode in _POOLING_MODES if config.get(f"pooling_mode_{mode}")]
    others = [k for k, on in config.items() if k.startswith("pooling_mode_") and on]
    if len(used) != 1 or len(others) != 1 or config.get("include_prompt") is False:
        return None
    return used[0], int(config["word_embedding_dimension"])


def _content_tokens(encoding: Any) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the tokens that are not special, and their character offsets."""
    content = np.flatnonzero(np.asarray(encoding.special_tokens_mask) == 0)
    return content, np.asarray(encoding.offsets, dtype=np.int64).reshape(-1, 2)[content]


def _token_window(
    content: np.ndarray, offsets: np.ndarray, start: int, end: int
) -> tuple[int, int] | None:
    if not len(content) or offsets[-1, 1] < end:
        return None
    first = int(np.searchsorted(offsets[:, 0], start))
    stop = int(np.searchsorted(offsets[:, 1], end, side="right"))
    return (int(content[first]), int(content[stop - 1]) + 1) if first < stop else None


def _pad_id(tokenizer: Any) -> int:
    token = tokenizer.token_to_id("[PAD]")
    return 0 if token is None else int(token)


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls_token":
        return hidden[:, 0].copy()
    weights = mask[..., None].astype(np.float32)
    if mode == "max_tokens":
        return np.where(weights > 0, hidden, -1e9).max(axis=1)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
