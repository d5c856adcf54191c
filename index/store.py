"""The index on disk: a data directory of immutable versions, one of them current.

    data/
      current -> versions/v-...        (a symlink, replaced atomically on publish)
      versions/v-.../manifest.json     (format, model, chunker, corpus hash, and its segments:
                                        each one's counts, dense layout and deleted documents)
      versions/v-.../s-.../            (a segment: documents written together, never changed)
        vectors.faiss                  (inner product over normalized vectors, ids = the
                                        segment's chunk rowids; exact or IVF by size)
        vectors.npy                    (the exact float32 vectors, memory-mapped when read)
        store.sqlite                   (documents, chunks and the figures in them)
        bm25/                          (postings and row lengths; no pickle)
        sentences.npy                  (one vector per distinct sentence, for answer selection)

A build writes one segment. Adding a document writes a new version whose folder hard-links the
current segments' files and holds one new segment; deleting one writes a version that lists the
document as deleted (a tombstone, applied at query time). Either costs what the document costs,
not what the corpus does. `index.updater.compact` merges the segments into one. Every change
writes a new version beside the current one and then swaps the link, so a change that crashes
or is killed leaves the previous index exactly as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, computed_field

from index.errors import Busy, IndexMismatch, IndexNotFound
from index.settings import Settings

FORMAT_VERSION = 6  # 2: figures and sentence vectors; 3: vectors.npy, index type by size; 4: pages;
# 5: chunks.table_header; 6: segments, BM25 postings scored at query time
MANIFEST = "manifest.json"
DATABASE = "store.sqlite"
KEYWORDS = "bm25"
SENTENCE_VECTORS = "sentences.npy"
_STAGING_PREFIX = ".staging-"
RETIRED_GRACE_SECONDS = 60.0

SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, date TEXT, source TEXT, url TEXT,
    language TEXT, path TEXT, sha256 TEXT NOT NULL, text TEXT NOT NULL,
    pages TEXT  -- JSON: where each page starts in text (PDF); NULL for a document without pages
);
CREATE INDEX documents_path ON documents(path);  -- an add checks its file name is free
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL REFERENCES documents(id), position INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, n_tokens INTEGER NOT NULL,
    table_header TEXT  -- caption and header row of a table whose rows the chunk holds without it
);
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE figures (
    chunk_row INTEGER NOT NULL REFERENCES chunks(rowid), doc_id TEXT NOT NULL,
    position INTEGER NOT NULL, value REAL NOT NULL, unit TEXT, as_of TEXT,
    record TEXT NOT NULL  -- the whole Figure as JSON
);
CREATE INDEX figures_chunk ON figures(chunk_row);
CREATE TABLE sentences (  -- rowid = row of sentences.npy
    rowid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, text TEXT NOT NULL, UNIQUE (doc_id, text)
);
"""


class Segment(BaseModel):
    """What a version's manifest records about one of its segments."""

    name: str  # its folder in the version
    documents: int  # written into it, deleted ones included
    chunks: int  # rows in it, deleted ones included
    faiss_index: str  # the FAISS index_factory string: "Flat", or "IVF<nlist>,SQ8" when large
    nprobe: int | None = None  # IVF lists searched per query, tuned at build time
    ann_recall_at_10: float | None = None  # of the IVF index against exact search, at build
    deleted: list[str] = []  # ids of its documents deleted since it was written


class Manifest(BaseModel):
    format_version: int
    model: str
    dimension: int
    max_tokens: int
    normalized: bool = True
    metric: str = "inner_product"
    chunker: dict
    corpus_hash: str
    corpus_dir: str
    documents: int
    chunks: int
    built_at: str
    build_seconds: float
    segments: list[Segment]

    # The first segment's dense layout (a build's, or a compaction's: the largest), shown at the
    # top of the manifest as before segments, and what `index build --if-stale` checks
    @computed_field
    @property
    def faiss_index(self) -> str:
        return self.segments[0].faiss_index

    @computed_field
    @property
    def nprobe(self) -> int | None:
        return self.segments[0].nprobe

    @computed_field
    @property
    def ann_recall_at_10(self) -> float | None:
        return self.segments[0].ann_recall_at_10

    def check_compatible(self, model: str) -> None:
        """Refuse an index this code or this model cannot read correctly."""
        rebuild = "run `reformqa index build` (or `make index`) to rebuild it"
        if self.format_version != FORMAT_VERSION:
            raise IndexMismatch(
                f"the index has format version {self.format_version}, this program reads "
                f"version {FORMAT_VERSION}; {rebuild}"
            )
        if self.model != model:
            raise IndexMismatch(
                f"the index was built with model {self.model!r} but the configured model is "
                f"{model!r}; {rebuild}, or set REFORMQA_MODEL back"
            )


class DataDir:
    """Where versions live, which one is current, and the lock that serializes builds."""

    def __init__(self, root: Path, keep_versions: int = Settings.keep_versions):
        self.root = Path(root)
        self.keep_versions = keep_versions
        self.versions = self.root / "versions"
        self.current_link = self.root / "current"

    def current(self) -> Path | None:
        if not self.current_link.is_symlink() and not self.current_link.is_dir():
            return None
        target = self.current_link.resolve()
        return target if (target / MANIFEST).is_file() else None

    def require_current(self) -> Path:
        version = self.current()
        if version is None:
            raise IndexNotFound(
                f"no index in {self.root}; run `reformqa index build` (or `make index`) first"
            )
        return version

    def read_manifest(self) -> Manifest | None:
        version = self.current()
        return read_manifest(version) if version else None

    @contextlib.contextmanager
    def build_lock(self, wait: float = 0.0) -> Iterator[None]:
        """One writer at a time across processes; waits up to `wait` seconds for another."""
        with self._lock(".build.lock", wait, "another change to the index is still running"):
            yield

    @contextlib.contextmanager
    def compaction_lock(self) -> Iterator[None]:
        """One compaction at a time; it holds the build lock only while it publishes."""
        with self._lock(".compact.lock", 0.0, "a compaction of the index is already running"):
            yield

    @contextlib.contextmanager
    def _lock(self, name: str, wait: float, busy: str) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        with open(self.root / name, "w") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError as exc:
                    if time.monotonic() >= deadline:
                        waited = f" after waiting {wait:g} s" if wait else ""
                        raise Busy(f"{busy}{waited}; retry later") from exc
                    time.sleep(0.05)
            yield

    @contextlib.contextmanager
    def staging(self, prefix: str = _STAGING_PREFIX) -> Iterator[Path]:
        """A fresh folder to build into (under the lock its prefix belongs to: the build lock,
        or the compaction lock); removed if the build fails. Leftovers of the same kind, from a
        build that was killed, are removed first."""
        self.versions.mkdir(parents=True, exist_ok=True)
        for leftover in self.versions.glob(f"{prefix}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        staging = self.versions / f"{prefix}{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        try:
            yield staging
        finally:
            if staging.exists():  # published folders have been renamed away
                shutil.rmtree(staging, ignore_errors=True)

    def publish(self, staging: Path) -> Path:
        """Make a finished staging folder the current version, atomically."""
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        final = self.versions / f"v-{stamp}-{staging.name.rsplit('-', 1)[-1]}"
        _fsync_tree(staging)
        os.rename(staging, final)
        tmp_link = self.root / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(final.relative_to(self.root), tmp_link)
        os.replace(tmp_link, self.current_link)
        fsync_dir(self.root)
        self._remove_retired_versions()
        return final

    def _remove_retired_versions(self) -> None:
        """Remove versions replaced more than RETIRED_GRACE_SECONDS ago. Requests that began on
        a version finish on it, so a version stays a while after the next one is published; the
        one before the current always stays. Past `keep_versions` (the current one included),
        the oldest go at once even within the grace, so a burst of writes cannot pile versions
        up: a request still reading one keeps the files it has open (they are unlinked, not
        truncated), and a version not yet opened is skipped by the server (app.py)."""
        current = self.require_current().resolve()
        older = [v for v in self.versions.glob("v-*") if v.resolve() != current]
        versions = [*sorted(older, key=lambda v: v.stat().st_mtime), current]
        surplus = max(0, len(versions) - self.keep_versions)
        for old in versions[:surplus]:
            shutil.rmtree(old, ignore_errors=True)
        now = time.time()
        for old, successor in itertools.pairwise(versions[surplus:-1]):
            if now - successor.stat().st_mtime > RETIRED_GRACE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)


def new_segment_name() -> str:
    return f"s-{uuid.uuid4().hex[:12]}"


def link_segment(version: Path, name: str, staging: Path) -> None:
    """Put a published segment into a staging version by hard links: no byte is copied, and
    removing the old version later leaves the files to the new one."""
    source = version / name
    for path in source.rglob("*"):
        target = staging / name / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)


def read_manifest(version: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((version / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatch(
            f"{version / MANIFEST} is unreadable ({type(exc).__name__}); "
            "run `reformqa index build` to rebuild the index"
        ) from exc


def write_manifest(version: Path, manifest: Manifest) -> None:
    (version / MANIFEST).write_text(json.dumps(manifest.model_dump(), indent=2), encoding="utf-8")


def create_database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    return conn


def open_database(path: Path) -> sqlite3.Connection:
    """Read-only: a reader can never change a published version."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
