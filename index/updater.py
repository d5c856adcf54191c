"""Add or remove one document without a rebuild: only the added document is encoded.

The writes come in an order that leaves a consistent state wherever a crash stops them:
  1. the corpus file: an add writes it (to a hidden temp file, then renamed); a delete renames
     it to a hidden `.<name>.reformqa-deleting`, out of the corpus but not gone;
  2. a new version in staging: the current version's content plus or minus the document;
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from index.embedder import Embedder
from index.embedding import distinct_sentences, embed_chunks_and_sentences
from index.errors import BadDocument, Busy, Conflict, DocumentNotFound
from index.figures import distinct_figures
from index.front_matter import FIELD_MAX_CHARS, split_front_matter, text_field
from index.loader import (
    DOCUMENT_SUFFIXES,
    TEXT_SUFFIXES,
    corpus_files,
    corpus_hash,
    decode_text,
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
    fsync_dir,
    open_database,
    read_manifest,
    write_manifest,
)
from index.types import Document, Figure

DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
METADATA_FIELDS = ("title", "date", "source", "url", "language")
_DELETING = ".reformqa-deleting"  # a deleted document's file, set aside until the publish


@dataclass(frozen=True)
class Change:
    document: Document
    figures: list[Figure]
    version: Path
    seconds: float


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
    with data_dir.build_lock(wait=settings.write_wait_seconds), data_dir.staging() as staging:
        version, manifest = _current(settings, embedder)
        current = Snapshot.read(version)
        if doc_id in current.doc_ids():
            raise Conflict(f"a document with id {doc_id!r} exists; delete it first")
        name = _corpus_name(settings, doc_id, suffix, current)
        document = parsed.model_copy(update={"id": doc_id, "path": name})
        added = _snapshot_of(document, settings, embedder)
        was_fresh = _corpus_matches(settings, manifest)
        if sidecar is not None:
            _write_atomically(sidecar_of(settings.corpus_dir / name), sidecar)
        _write_atomically(settings.corpus_dir / name, content)
        _publish(data_dir, staging, current.plus(added), manifest, settings, was_fresh)
    figures = distinct_figures(Figure.model_validate_json(row[-1]) for row in added.figures)
    document = document.model_copy(update={"chunks": len(added.chunks), "figures": len(figures)})
    return Change(document, figures, data_dir.require_current(), time.perf_counter() - started)


def remove_document(settings: Settings, embedder: Embedder, doc_id: str) -> Change:
    """Drop a document from the index and its file from the corpus folder."""
    started = time.perf_counter()
    data_dir = DataDir(settings.data_dir, settings.keep_versions)
    with data_dir.build_lock(wait=settings.write_wait_seconds), data_dir.staging() as staging:
        version, manifest = _current(settings, embedder)
        current = Snapshot.read(version)
        row = next((d for d in current.documents if d[0] == doc_id), None)
        if row is None:
            raise DocumentNotFound(f"no document with id {doc_id!r}")
        if len(current.documents) == 1:
            raise Conflict("this is the index's only document; add another before removing it")
        was_fresh = _corpus_matches(settings, manifest)
        aside = _set_aside(settings, row[6])
        sidecar = _set_aside(settings, sidecar_of(Path(row[6])).as_posix() if row[6] else None)
        _publish(data_dir, staging, current.without(doc_id), manifest, settings, was_fresh)
        for path in (aside, sidecar):
            if path is not None:
                path.unlink(missing_ok=True)
                fsync_dir(path.parent)
    document = Document(
        id=row[0], title=row[1], date=row[2], source=row[3], url=row[4], language=row[5],
        text="", path=row[6], sha256=row[7],
    )  # fmt: skip
    return Change(document, [], data_dir.require_current(), time.perf_counter() - started)


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


def _publish(
    data_dir: DataDir,
    staging: Path,
    content: Snapshot,
    manifest: Manifest,
    settings: Settings,
    was_fresh: bool,
) -> None:
    started = time.perf_counter()
    layout = content.write(staging, **settings.vector_config())
    # The corpus hash moves with the change only if index and corpus agreed before it: an
    # index that was already behind its corpus must stay marked stale.
    digest = _corpus_digest(settings) if was_fresh else manifest.corpus_hash
    write_manifest(
        staging,
        manifest.model_copy(
            update={
                "corpus_hash": digest,
                "documents": len(content.documents),
                "chunks": len(content.chunks),
                **layout.manifest_fields(),
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
        ),
    )
    data_dir.publish(staging)


def _corpus_matches(settings: Settings, manifest: Manifest) -> bool:
    return _corpus_digest(settings) == manifest.corpus_hash


def _corpus_digest(settings: Settings) -> str:
    return corpus_hash(corpus_files(settings.corpus_dir), settings.corpus_dir)


def _corpus_name(settings: Settings, doc_id: str, suffix: str, current: Snapshot) -> str:
    """The new document's file, relative to the corpus folder: `<id><suffix>`, unless an
    indexed document already lives there."""
    suffix = suffix.lower() if suffix.lower() in DOCUMENT_SUFFIXES else ".md"
    name = f"{doc_id}{suffix}"
    taken = {row[6] for row in current.documents}
    if name in taken:
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
    with contextlib.closing(open_database(version / DATABASE)) as db:
        indexed = {row[0] for row in db.execute("SELECT path FROM documents")}
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
