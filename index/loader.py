"""Read corpus files into cleaned Documents.

Text and Markdown carry their metadata in YAML front matter; PDF, Word and web pages are read by
index/formats.py, their title, date and source taken from the file's own metadata, overridden by
a sidecar `<file>.meta.yaml` (what an upload's form fields said) when there is one.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from index.clean import clean_text
from index.errors import BadDocument, EmptyCorpus
from index.formats import (
    DOCUMENT_SUFFIXES,
    MAX_PDF_PAGES,
    TEXT_SUFFIXES,
    read_file,
    refuse_disguised,
)
from index.front_matter import FIELD_MAX_CHARS, date_field, split_front_matter, text_field
from index.types import Document

SIDECAR = ".meta.yaml"  # beside a PDF, Word or HTML file: its metadata, as YAML front matter


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of a corpus folder, in a stable order."""
    if not corpus_dir.is_dir():
        raise EmptyCorpus(f"corpus folder {corpus_dir} does not exist")
    files = sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES and not _is_hidden(p, corpus_dir)
    )
    if not files:
        raise EmptyCorpus(f"no documents ({', '.join(DOCUMENT_SUFFIXES)}) in {corpus_dir}")
    return files


def corpus_hash(files: list[Path], corpus_dir: Path, cache_dir: Path | None = None) -> str:
    """Content hash of a corpus: changes when any file is added, removed, renamed or edited.
    With `cache_dir`, a file whose size and modification time are those recorded there is not
    read again (as git's index does), so an add to a large corpus stats it rather than reading
    it all."""
    cache = _DigestCache(cache_dir)
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(corpus_dir).as_posix().encode())
        digest.update(cache.digest(path))
        sidecar = sidecar_of(path)
        if sidecar.is_file():
            digest.update(cache.digest(sidecar))
    cache.save()
    return digest.hexdigest()


class _DigestCache:
    """sha256 digests of files by path, size and modification time, kept in a JSON file."""

    FILE = ".corpus-digests.json"
    RACY_SECONDS = 2.0  # a file changed this recently may change again within the same mtime

    def __init__(self, folder: Path | None):
        self.path = folder / self.FILE if folder is not None else None
        self.known: dict[str, list] = {}
        self.seen: dict[str, list] = {}
        if self.path is not None and self.path.is_file():
            with contextlib.suppress(OSError, ValueError):
                self.known = json.loads(self.path.read_text(encoding="utf-8"))

    def digest(self, path: Path) -> bytes:
        stat = path.stat()
        key = str(path.resolve())
        entry = self.known.get(key)
        if entry and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
            self.seen[key] = entry
            return bytes.fromhex(entry[2])
        digest = hashlib.sha256(path.read_bytes()).digest()
        if time.time() - stat.st_mtime > self.RACY_SECONDS:
            self.seen[key] = [stat.st_size, stat.st_mtime_ns, digest.hex()]
        return digest

    def save(self) -> None:
        if self.path is None or self.seen == self.known:
            return
        temp = self.path.with_name(f"{self.FILE}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):  # a cache: failing to write it costs only time
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps(self.seen), encoding="utf-8")
            os.replace(temp, self.path)


def sidecar_of(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR)


def sidecar_fields(raw: bytes, name: str) -> dict:
    """The metadata fields a sidecar holds (front matter and nothing after it)."""
    return split_front_matter(decode_text(raw, name), name)[0]


def load_corpus(corpus_dir: Path, max_pages: int = MAX_PDF_PAGES) -> list[Document]:
    """Every document, its `path` relative to the corpus folder (the folder may move)."""
    docs = [
        load_document(path, max_pages).model_copy(
            update={"path": path.relative_to(corpus_dir).as_posix()}
        )
        for path in corpus_files(corpus_dir)
    ]
    seen: dict[str, Document] = {}
    for doc in docs:
        if doc.id in seen:
            raise BadDocument(
                f"{doc.path} and {seen[doc.id].path} share the document id {doc.id!r}"
            )
        seen[doc.id] = doc
    return docs


def load_document(path: Path, max_pages: int = MAX_PDF_PAGES) -> Document:
    raw = path.read_bytes()
    sidecar = sidecar_of(path)
    metadata = None
    if sidecar.is_file() and path.suffix.lower() not in TEXT_SUFFIXES:
        metadata = sidecar_fields(sidecar.read_bytes(), str(sidecar))
    return parse_document(raw, path.stem, str(path), path.suffix, metadata, max_pages)


def parse_document(
    raw: bytes,
    doc_id: str,
    path: str | None = None,
    suffix: str = ".md",
    metadata: dict | None = None,
    max_pages: int = MAX_PDF_PAGES,
) -> Document:
    """A Document from a file's bytes. For PDF, Word and HTML, `metadata` (title, date, source,
    url, language) wins over the file's own; text files carry theirs in front matter."""
    name = path or doc_id
    pages = None
    if suffix.lower() in TEXT_SUFFIXES:
        refuse_disguised(raw, name, suffix.lower())
        meta, body = split_front_matter(decode_text(raw, name), name)
        cleaned = clean_text(body)
    else:
        extracted = read_file(raw, suffix, name, max_pages)
        own = {k: v for k, v in extracted.meta.items() if v not in (None, "")}
        meta = {**own, **{k: v for k, v in (metadata or {}).items() if v not in (None, "")}}
        cleaned, starts = _join_pages([clean_text(page) for page in extracted.pages])
        pages = starts if extracted.paged else None
    if not cleaned.strip():
        raise BadDocument(f"{name} has no text after cleaning")
    return Document(
        id=doc_id,
        title=text_field(meta, "title", name) or _title_from(cleaned),
        date=date_field(meta, name),
        source=text_field(meta, "source", name),
        url=text_field(meta, "url", name),
        language=text_field(meta, "language", name),
        text=cleaned,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        pages=pages,
    )


def _join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """The pages' text joined by blank lines, and where each page starts in it (an empty page
    starts where the next one does)."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        if page.strip():
            parts.append(page)
            offset += len(page) + 2
    return "\n\n".join(parts), starts


def page_of(pages: list[int] | None, offset: int) -> int | None:
    """The 1-based page holding a character offset of the text, for a paged document."""
    if not pages:
        return None
    return max(1, bisect.bisect_right(pages, offset))


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped); binary or other encodings are a BadDocument."""
    if b"\x00" in raw[:8192]:
        raise BadDocument(f"{name} is a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadDocument(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from exc


def _title_from(text: str) -> str:
    """The first line, cut at a word before the title cap: a first line may be a paragraph."""
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    limit = FIELD_MAX_CHARS["title"]
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip() + "…"


def _is_hidden(path: Path, root: Path) -> bool:
    """Dot and underscore names, and a README (it describes the folder, it is not a document)."""
    parts = path.relative_to(root).parts
    return any(part.startswith((".", "_")) for part in parts) or path.stem.lower() == "readme"
