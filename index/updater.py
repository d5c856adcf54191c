"""Add or remove one document without a rebuild, and merge segments: what a change costs grows
with the document, not with the corpus.

An add encodes the document alone and writes it as a new segment beside hard links to the
current ones; a delete lists the document as deleted in its segment (a tombstone applied at
query time). `compact` merges every segment into one, without holding up other writes until
it publishes.

The writes come in an order that leaves a consistent state wherever a crash stops them:
  1. the corpus file: an add writes it (to a hidden temp file, then renamed); a delete renames
     it to a hidden `.<name>.reformqa-deleting`, out of the corpus but not gone;
  2. a new version in staging: the current segments (linked) plus the new one, or with the
     document listed as deleted;
  3. the atomic publish (the `current` symlink swap); then a delete removes the hidden file.
Killed before 3, the index is exactly the old one. After an add the corpus is then ahead of it,
which `reformqa index status` reports and `reformqa index build --if-stale` catches up. After a
delete, `finish_interrupted_deletes` (run when a server starts and by `reformqa index build`)
puts the hidden file back while the index still holds its document, and removes it otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.embedder import Embedder
from index.embedding import distinct_sentences, embed_chunks_and_sentences, stage
from index.errors import BadDocument, Busy, Conflict, DocumentNotFound
from index.figures import distinct_figures
from index.front_matter import FIELD_MAX_CHARS, split_front_matter, text_field
from index.loader import (
    DOCUMENT_SUFFIXES,
    TEXT_SUFFIXES,
    decode_text,
    moved_corpus_hash,
    parse_document,
    sidecar_fields,
    sidecar_of,
)
from index.settings import Settings
from index.snapshot import Snapshot
from index.store import (
    DATABASE,
    DataDir,
    Manifest,
    Segment,
    fsync_dir,
    link_segment,
    open_database,
    read_manifest,
    write_manifest,
)
from index.types import Document, Figure

DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
METADATA_FIELDS = ("title", "date", "source", "url", "language")
_DELETING = ".reformqa-deleting"  # a deleted document's file, set aside until the publish
_COMPACTING = ".compacting-"  # a compaction's staging folder: other writes leave it alone


@dataclass(frozen=True)
class Change:
    document: Document
    figures: list[Figure]
    version: Path
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)  # seconds each part took


def add_document(
    settings: Settings,
    embedder: Embedder,
    raw: bytes,
    metadata: dict[str, Any] | None = None,
    doc_id: str | None = None,
    suffix: str = ".md",
) -> Change:
    """Index `raw` (text, optionally with front matter; `metadata` wins over it) as one more
    document, and keep it in the corpus folder so a rebuild finds it."""
    started = time.perf_counter()
    if suffix.lower() in TEXT_SUFFIXES:
        content, sidecar = merge_front_matter(raw, metadata or {}), None
        parsed = parse_document(content, doc_id or "new", path="the document")
    else:  # the file is kept as it came; the metadata given with it goes beside it
        content, sidecar = raw, sidecar_text(metadata or {})
        given = sidecar_fields(sidecar, "the upload's metadata") if sidecar else None
        parsed = parse_document(raw, doc_id or "new", "the document", suffix, given,
                                settings.max_pdf_pages)  # fmt: skip
    doc_id = check_doc_id(doc_id or _derived_id(parsed.title))
    data_dir = DataDir(settings.data_dir, settings.keep_versions)
    stages: dict[str, float] = {"read": round(time.perf_counter() - started, 3)}
    with data_dir.build_lock(wait=settings.write_wait_seconds), data_dir.staging() as staging:
        with stage(stages, "look up"):
            version, manifest = _current(settings, embedder)
            if _documents_where(version, manifest, "d.id = ?", doc_id):
                raise Conflict(f"a document with id {doc_id!r} exists; delete it first")
            name = _corpus_name(version, manifest, doc_id, suffix)
        document = parsed.model_copy(update={"id": doc_id, "path": name})
        with stage(stages, "split, encode, figures"):
            added = _snapshot_of(document, settings, embedder)
        with stage(stages, "link segments"):
            for segment in manifest.segments:
                link_segment(version, segment.name, staging)
        with stage(stages, "write segment"):
            segment = added.write_segment(staging, **settings.vector_config())
            if sidecar is not None:
                _write_atomically(sidecar_of(settings.corpus_dir / name), sidecar)
            _write_atomically(settings.corpus_dir / name, content)
        counts = (manifest.documents + 1, manifest.chunks + len(added.chunks))
        digest = moved_corpus_hash(manifest.corpus_hash, name, content, sidecar, added=True)
        with stage(stages, "publish"):
            _publish(data_dir, staging, manifest, [*manifest.segments, segment], counts, digest)
    figures = distinct_figures(Figure.model_validate_json(row[-1]) for row in added.figures)
    document = document.model_copy(update={"chunks": len(added.chunks), "figures": len(figures)})
    return Change(
        document, figures, data_dir.require_current(), time.perf_counter() - started, stages
    )


def remove_document(settings: Settings, embedder: Embedder, doc_id: str) -> Change:
    """Drop a document from the index and its file from the corpus folder."""
    started = time.perf_counter()
    data_dir = DataDir(settings.data_dir, settings.keep_versions)
    with data_dir.build_lock(wait=settings.write_wait_seconds), data_dir.staging() as staging:
        version, manifest = _current(settings, embedder)
        found = _documents_where(version, manifest, "d.id = ?", doc_id)
        if not found:
            raise DocumentNotFound(f"no document with id {doc_id!r}")
        if manifest.documents == 1:
            raise Conflict("this is the index's only document; add another before removing it")
        row = found[doc_id]
        digest = _without_file(settings, manifest.corpus_hash, row.path)
        segments = _with_deleted(manifest.segments, row.segment, doc_id)
        for segment in segments:
            link_segment(version, segment.name, staging)
        aside = _set_aside(settings, row.path)
        sidecar = _set_aside(settings, sidecar_of(Path(row.path)).as_posix() if row.path else None)
        counts = (manifest.documents - 1, manifest.chunks - row.chunks)
        _publish(data_dir, staging, manifest, segments, counts, digest)
        for path in (aside, sidecar):
            if path is not None:
                path.unlink(missing_ok=True)
                fsync_dir(path.parent)
    document = Document(
        id=doc_id, title=row.title, date=row.date, source=row.source, url=row.url,
        language=row.language, text="", path=row.path, sha256=row.sha256,
    )  # fmt: skip
    return Change(document, [], data_dir.require_current(), time.perf_counter() - started)


def compact(settings: Settings) -> Path | None:
    """Merge the current version's segments into one, its deleted documents dropped, and publish
    it; None when there is nothing to merge. The merge runs without the build lock, so adds and
    deletes go on meanwhile: at the publish, under the lock, documents deleted since are listed
    as deleted in the merged segment and segments added since are kept after it. Killed at any
    point, the current version stays as it was; its leftovers go at the next compaction."""
    data_dir = DataDir(settings.data_dir, settings.keep_versions)
    with data_dir.compaction_lock(), data_dir.staging(_COMPACTING) as staging:
        version = data_dir.require_current()
        manifest = read_manifest(version)
        if len(manifest.segments) == 1 and not manifest.segments[0].deleted:
            return None
        started = time.perf_counter()
        held = _documents_where(version, manifest)
        merged = Snapshot.read_version(version, manifest).write_segment(
            staging, **settings.vector_config()
        )
        with data_dir.build_lock(wait=settings.write_wait_seconds):
            latest = data_dir.require_current()
            now = read_manifest(latest)
            gone = _deleted_since(manifest, now, held)
            later = [s for s in now.segments if s.name not in {m.name for m in manifest.segments}]
            for segment in later:
                link_segment(latest, segment.name, staging)
            segments = [merged.model_copy(update={"deleted": gone}), *later]
            counts = (now.documents, now.chunks)  # a merge changes no live document
            _write_manifest(staging, now, segments, counts, now.corpus_hash, started)
            return data_dir.publish(staging)


def merge_front_matter(raw: bytes, metadata: dict[str, Any]) -> bytes:
    """The file as it will be stored: its own front matter, overridden by `metadata`."""
    meta, body = split_front_matter(decode_text(raw, "the upload"), "the upload")
    meta.update(_given(metadata))
    body = body if body.endswith("\n") else body + "\n"
    if not meta:
        return body.encode("utf-8")
    return (_front_matter(meta) + body.lstrip(chr(10))).encode()


def sidecar_text(metadata: dict[str, Any]) -> bytes | None:
    """The metadata given with a PDF, Word or HTML file, as front matter for its sidecar; None
    when none was given."""
    meta = _given(metadata)
    return _front_matter(meta).encode() if meta else None


def _given(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: _yaml_value(v) for k, v in metadata.items() if v not in (None, "")}


def _front_matter(meta: dict[str, Any]) -> str:
    """The fields as a YAML front matter block, each capped as in a corpus file, whoever gave
    the value."""
    for key in FIELD_MAX_CHARS:
        text_field(meta, key, "the upload")
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{header}\n---\n"


def check_doc_id(doc_id: str) -> str:
    if not DOC_ID.match(doc_id):
        raise BadDocument(
            f"document id {doc_id!r} must be 1-100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if doc_id.lower() == "readme":  # a corpus folder's README describes it and is not indexed
        raise BadDocument("document id 'readme' is kept for the corpus folder's own README")
    return doc_id


def _current(settings: Settings, embedder: Embedder) -> tuple[Path, Manifest]:
    version = DataDir(settings.data_dir).require_current()
    manifest = read_manifest(version)
    manifest.check_compatible(embedder.name)
    built_from = Path(manifest.corpus_dir).resolve()
    if built_from != settings.corpus_dir.resolve():
        raise Conflict(
            f"the index was built from {manifest.corpus_dir}, but this server's corpus folder "
            f"is {settings.corpus_dir}; start it with --corpus {manifest.corpus_dir}"
        )
    return version, manifest


def _snapshot_of(document: Document, settings: Settings, embedder: Embedder) -> Snapshot:
    from index.splitter import Splitter

    splitter = Splitter(
        embedder.tokenizer, embedder.max_tokens, settings.chunk_tokens, settings.chunk_overlap
    )
    chunks = splitter.split(document)
    sentences = distinct_sentences(chunks)
    vectors, sentence_vectors = embed_chunks_and_sentences(
        chunks, sentences, [document], embedder, settings.sentence_vectors
    )
    return Snapshot.of([document], chunks, vectors, sentences, sentence_vectors)


@dataclass(frozen=True)
class LiveDocument:
    segment: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    language: str | None
    path: str | None
    sha256: str
    chunks: int


def _documents_where(
    version: Path, manifest: Manifest, where: str = "1", *params: Any
) -> dict[str, LiveDocument]:
    """The live documents (deleted ones left out) that match an SQL condition, by id, read from
    each segment's store without their texts."""
    sql = (
        "SELECT d.id, d.title, d.date, d.source, d.url, d.language, d.path, d.sha256, "
        f"(SELECT count(*) FROM chunks c WHERE c.doc_id = d.id) FROM documents d WHERE {where}"
    )
    found = {}
    for segment in manifest.segments:
        with contextlib.closing(open_database(version / segment.name / DATABASE)) as db:
            for doc_id, *fields in db.execute(sql, params):
                if doc_id not in segment.deleted:
                    found[doc_id] = LiveDocument(segment.name, *fields)
    return found


def _with_deleted(segments: list[Segment], holder: str, doc_id: str) -> list[Segment]:
    """The segments with `doc_id` listed as deleted in `holder`; a segment left with no live
    document is dropped."""
    kept = []
    for segment in segments:
        if segment.name == holder:
            segment = segment.model_copy(update={"deleted": [*segment.deleted, doc_id]})
            if len(segment.deleted) == segment.documents:
                continue
        kept.append(segment)
    return kept


def _deleted_since(before: Manifest, now: Manifest, held: dict[str, LiveDocument]) -> list[str]:
    """Documents live in `before` (`held`) and deleted by `now`: listed in their segment's
    tombstones, or gone with the whole segment."""
    now_deleted = {s.name: set(s.deleted) for s in now.segments}
    return sorted(
        doc_id
        for doc_id, document in held.items()
        if document.segment not in now_deleted or doc_id in now_deleted[document.segment]
    )


def _publish(
    data_dir: DataDir,
    staging: Path,
    manifest: Manifest,
    segments: list[Segment],
    counts: tuple[int, int],
    digest: str,
) -> None:
    _write_manifest(staging, manifest, segments, counts, digest, time.perf_counter())
    data_dir.publish(staging)


def _write_manifest(
    staging: Path,
    manifest: Manifest,
    segments: list[Segment],
    counts: tuple[int, int],
    digest: str,
    started: float,
) -> None:
    """The manifest of a version made of `segments` holding `counts` (live documents, live
    chunks)."""
    write_manifest(
        staging,
        manifest.model_copy(
            update={
                "corpus_hash": digest,
                "documents": counts[0],
                "chunks": counts[1],
                "segments": segments,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
        ),
    )


def _without_file(settings: Settings, digest: str, name: str | None) -> str:
    """The corpus hash once a document's file (and its sidecar) leaves the corpus folder."""
    path = (settings.corpus_dir / name).resolve() if name else None
    if path is None or settings.corpus_dir.resolve() not in path.parents or not path.is_file():
        return digest  # no file of its own in the corpus: the corpus does not change
    sidecar = sidecar_of(path)
    extra = sidecar.read_bytes() if sidecar.is_file() else None
    return moved_corpus_hash(digest, name, path.read_bytes(), extra, added=False)


def _corpus_name(version: Path, manifest: Manifest, doc_id: str, suffix: str) -> str:
    """The new document's file, relative to the corpus folder: `<id><suffix>`, unless an
    indexed document already lives there."""
    suffix = suffix.lower() if suffix.lower() in DOCUMENT_SUFFIXES else ".md"
    name = f"{doc_id}{suffix}"
    if _documents_where(version, manifest, "d.path = ?", name):
        raise Conflict(f"the corpus already has a file {name!r} for another document")
    return name


def _derived_id(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "document"
    return f"{slug}-{uuid.uuid4().hex[:8]}"


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"  # hidden from corpus_files
    with open(temp, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    fsync_dir(path.parent)


def _set_aside(settings: Settings, name: str | None) -> Path | None:
    """Move a document's file out of the corpus under a hidden name; None if there is none."""
    if not name:
        return None
    path = (settings.corpus_dir / name).resolve()
    if settings.corpus_dir.resolve() not in path.parents or not path.is_file():
        return None  # never touch anything outside the corpus folder
    aside = path.with_name(f".{path.name}{_DELETING}")
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def finish_interrupted_deletes(settings: Settings) -> list[str]:
    """Put right the corpus files that deletes killed half-way set aside: back in place while the
    current index still holds their document (the kill came before the publish), removed
    otherwise. Returns the corpus paths put back. Skipped while another write runs."""
    corpus = settings.corpus_dir
    data_dir = DataDir(settings.data_dir)
    if not corpus.is_dir() or not any(corpus.rglob(f".*{_DELETING}")):
        return []
    try:
        with data_dir.build_lock():  # not waiting: a write still running finishes its own
            version = data_dir.current()
            return [] if version is None else _put_aside_files_right(corpus, version)
    except Busy:
        return []


def _put_aside_files_right(corpus: Path, version: Path) -> list[str]:
    indexed = {d.path for d in _documents_where(version, read_manifest(version)).values()}
    restored = []
    for aside in corpus.rglob(f".*{_DELETING}"):
        original = aside.with_name(aside.name[1 : -len(_DELETING)])
        name = original.relative_to(corpus).as_posix()
        if name in indexed and not original.exists():
            os.replace(aside, original)
            restored.append(name)
        else:
            aside.unlink()
        fsync_dir(aside.parent)
    return restored


def _yaml_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
