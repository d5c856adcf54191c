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
    """The document files of a corpus folder, in a stable order (pathlib's: part by part).
    Walked with os.walk rather than pathlib: a corpus of 50,000 files is listed in a fraction
    of a second (`reformqa index status` and `index build --if-stale` list it)."""
    if not corpus_dir.is_dir():
        raise EmptyCorpus(f"corpus folder {corpus_dir} does not exist")
    found = []
    for folder, subfolders, names in os.walk(corpus_dir):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_"))]
        for name in names:
            stem, suffix = os.path.splitext(name)
            if (
                suffix.lower() in DOCUMENT_SUFFIXES
                and not name.startswith((".", "_"))
                and stem.lower() != "readme"
                and os.path.isfile(os.path.join(folder, name))
            ):
                found.append(os.path.relpath(os.path.join(folder, name), corpus_dir))
    if not found:
        raise EmptyCorpus(f"no documents ({', '.join(DOCUMENT_SUFFIXES)}) in {corpus_dir}")
    return [corpus_dir / rel for rel in sorted(found, key=lambda rel: rel.split(os.sep))]


def corpus_hash(files: list[Path], corpus_dir: Path, cache_dir: Path | None = None) -> str:
    """Content hash of a corpus: changes when any file is added, removed, renamed or edited.
    It is the sum (mod 2^256) of one hash per file, so an add or a delete moves it by its own
    file's term (`moved_corpus_hash`) without reading the others. With `cache_dir`, a file whose
    size and modification time are those recorded there is not read again (as git's index
    does)."""
    cache = _DigestCache(cache_dir)
    total = 0
    prefix = str(corpus_dir) + os.sep
    for path in files:
        name = str(path)
        inside = (
            name[len(prefix) :] if name.startswith(prefix) else os.path.relpath(name, corpus_dir)
        )
        sidecar = name + SIDECAR
        extra = cache.digest(sidecar) if os.path.isfile(sidecar) else b""
        total += _file_term(inside.replace(os.sep, "/"), cache.digest(name), extra)
    cache.save()
    return f"{total % _MODULUS:064x}"


def moved_corpus_hash(
    digest: str, name: str, content: bytes, sidecar: bytes | None, added: bool
) -> str:
    """The corpus hash after the file `name` (relative to the corpus folder, with this content
    and sidecar) is added to the corpus or removed from it. An index that was behind its corpus
    before the change stays behind after it."""
    extra = hashlib.sha256(sidecar).digest() if sidecar is not None else b""
    term = _file_term(name, hashlib.sha256(content).digest(), extra)
    return f"{(int(digest, 16) + (term if added else -term)) % _MODULUS:064x}"


_MODULUS = 2**256


def _file_term(name: str, digest: bytes, sidecar_digest: bytes) -> int:
    return int.from_bytes(hashlib.sha256(name.encode() + b"\0" + digest + sidecar_digest).digest())


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

    def digest(self, name: str) -> bytes:
        stat = os.stat(name)
        key = os.path.abspath(name)
        entry = self.known.get(key)
        if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            self.seen[key] = entry
            return bytes.fromhex(entry[2])
        with open(name, "rb") as handle:
            digest = hashlib.sha256(handle.read()).digest()
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
