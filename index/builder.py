"""The ingest pipeline: corpus folder -> cleaned documents -> chunks -> vectors -> a new version."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embedder import Embedder, recorded_name
from index.embedding import (
    NoProgress,
    distinct_sentences,
    embed_chunks_and_sentences,
    sentence_texts,
    stage,
)
from index.loader import corpus_files, corpus_hash, load_corpus
from index.settings import Settings
from index.snapshot import Snapshot
from index.store import FORMAT_VERSION, DataDir, Manifest, write_manifest
from index.types import Chunk, Document
from index.vectors import choose_factory

ENGINES = ("local", "ray")  # what encodes the texts: this process, or Ray Data actors
# Bump when cleaning or splitting changes what chunks a corpus yields, so indexes get rebuilt.
PIPELINE_VERSION = 13  # 2: figures at ingest; 3, 4: as_of; 6: corpus-relative paths; 7: cleaning;
# 8: ranks ('ranked 7th', '11th of 63') are figures; 9: any ISO currency is money, '+2.8' an
# increase, '2024: 80%' no clock time, ordinals after 'to' or in a sentence about ranks; 10: a table
# cell's figure takes its column header and row label as subject, a row is encoded under its header;
# 11: a table row without a date of its own is dated by its caption or header; 12: a chunk that
# starts mid-table is embedded and keyword-indexed under its table's caption and header row;
# 13: 'no more than 1,000' is up to 1,000 (it was read as 'more than')
# (how sentence vectors are made, REFORMQA_SENTENCE_VECTORS, is in the chunker record itself)


@dataclass(frozen=True)
class BuildReport:
    version: Path | None
    documents: int
    chunks: int
    seconds: float
    encode_seconds: float
    skipped: bool = False
    reason: str = ""
    engine: str = "local"
    stages: dict[str, float] = field(default_factory=dict)  # seconds per step, in order

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


def index_status(settings: Settings) -> tuple[bool, str]:
    """(is the current index up to date with the corpus and settings?, why not)."""
    if DataDir(settings.data_dir).read_manifest() is None:
        return False, "no index yet"
    files = corpus_files(settings.corpus_dir)
    return _freshness(settings, corpus_hash(files, settings.corpus_dir, settings.data_dir))


def _freshness(settings: Settings, digest: str) -> tuple[bool, str]:
    manifest = DataDir(settings.data_dir).read_manifest()
    if manifest is None:
        return False, "no index yet"
    expected = {
        "format version": (manifest.format_version, FORMAT_VERSION),
        "model": (manifest.model, recorded_name(settings.model, settings.embed_backend)),
        "chunker settings": (manifest.chunker, _chunker_record(settings)),
        "vector index type": (
            manifest.faiss_index,
            choose_factory(manifest.chunks, settings.exact_max_chunks),
        ),
        "corpus": (manifest.corpus_hash, digest),
    }
    changed = [name for name, (built, now) in expected.items() if built != now]
    return (not changed), ("changed: " + ", ".join(changed)) if changed else "up to date"


def build_index(
    settings: Settings,
    embedder: Embedder | None = None,
    progress: bool = False,
    if_stale: bool = False,
    engine: str = "local",
) -> BuildReport:
    """Build the corpus into a new version and publish it; the old one stays until the swap.

    `engine="ray"` encodes with Ray Data actors (index.ray_engine); the index is the same."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    files = corpus_files(settings.corpus_dir)
    # hashed once, for the check and the manifest
    digest = corpus_hash(files, settings.corpus_dir, settings.data_dir)
    if if_stale:
        fresh, reason = _freshness(settings, digest)
        if fresh:
            current = DataDir(settings.data_dir).current()
            return BuildReport(current, 0, 0, 0.0, 0.0, True, reason, engine)
    stages: dict[str, float] = {}
    with stage(stages, "load"):
        # all read before anything is written
        documents = load_corpus(settings.corpus_dir, settings.max_pdf_pages)
    embedder = embedder or Embedder.from_settings(settings)
    data_dir = DataDir(settings.data_dir, settings.keep_versions)
    from index.splitter import Splitter  # langchain is slow to import; `--if-stale` skips it

    with data_dir.build_lock(), _progress(progress) as bar, data_dir.staging() as staging:
        with stage(stages, "model"):
            splitter = Splitter(
                embedder.tokenizer, embedder.max_tokens, settings.chunk_tokens,
                settings.chunk_overlap,
            )  # fmt: skip
        with stage(stages, "split"):
            chunks = _split_all(documents, splitter, bar)
            sentences = distinct_sentences(chunks)
        if engine == "ray":
            with stage(stages, "encode (ray)"):
                vectors, sentence_vectors = _encode_with_ray(
                    chunks, sentences, documents, embedder, settings, bar
                )
        else:
            vectors, sentence_vectors = embed_chunks_and_sentences(
                chunks, sentences, documents, embedder, settings.sentence_vectors, bar, stages
            )
        with stage(stages, "figures"):
            content = Snapshot.of(documents, chunks, vectors, sentences, sentence_vectors)
        with stage(stages, "write"):
            segment = content.write_segment(staging, **settings.vector_config())
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=embedder.name,
            dimension=embedder.dimension,
            max_tokens=embedder.max_tokens,
            chunker=_chunker_record(settings),
            corpus_hash=digest,
            corpus_dir=str(settings.corpus_dir),
            documents=len(documents),
            chunks=len(chunks),
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
            segments=[segment],
        )
        write_manifest(staging, manifest)
        with stage(stages, "publish"):
            version = data_dir.publish(staging)
    seconds = time.perf_counter() - started
    encode_seconds = sum(t for name, t in stages.items() if name.startswith("encode"))
    return BuildReport(
        version, len(documents), len(chunks), seconds, encode_seconds, engine=engine, stages=stages
    )


def _chunker_record(settings: Settings) -> dict:
    return {**settings.chunker_config(), "pipeline": PIPELINE_VERSION}


def _split_all(documents: list[Document], splitter, bar) -> list[Chunk]:
    task = bar.add_task("splitting", total=len(documents))
    chunks: list[Chunk] = []
    for doc in documents:
        chunks.extend(splitter.split(doc))
        bar.advance(task)
    return chunks


def _encode_with_ray(
    chunks: list[Chunk], sentences: list[tuple[str, str]], documents: list[Document],
    embedder: Embedder, settings: Settings, bar,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One Ray job, so Ray starts once and each actor loads once: the chunks' pass with their
    sentences pooled from it, or (encoded, or torch actors, which keep no token states) the
    chunks and the sentences. Pooled leaves few sentences to encode alone: done here."""
    from index.ray_engine import RayEncoder, encode_with_ray

    if embedder.name != recorded_name(settings.model, settings.embed_backend):  # actors load it
        raise ValueError(f"the ray engine encodes with {settings.model!r}, not {embedder.name!r}")
    if settings.sentence_vectors == "pooled" and settings.embed_backend != "torch":
        ray = RayEncoder(settings, embedder)
        return embed_chunks_and_sentences(chunks, sentences, documents, ray, "pooled", bar)
    texts = [c.search_text for c in chunks] + sentence_texts(sentences, documents)
    task = bar.add_task("embedding chunks and sentences (ray)", total=len(texts))
    vectors = encode_with_ray(texts, settings)
    bar.advance(task, len(texts))
    return vectors[: len(chunks)], vectors[len(chunks) :]


def _progress(enabled: bool):
    if not enabled:
        return contextlib.nullcontext(NoProgress())
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=Console(stderr=True),
    )  # fmt: skip
