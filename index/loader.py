"""Read corpus files (.txt/.md, optional YAML front matter) into cleaned Documents."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import yaml

from index.clean import clean_text
from index.errors import BadDocument, EmptyCorpus
from index.types import Document

DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown")
_FRONT_MATTER_FENCE = "---"


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
        raise EmptyCorpus(f"no .txt or .md documents in {corpus_dir}")
    return files


def corpus_hash(files: list[Path], corpus_dir: Path) -> str:
    """Content hash of a corpus: changes when any file is added, removed, renamed or edited."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(corpus_dir).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Every document, its `path` relative to the corpus folder (the folder may move)."""
    docs = [
        load_document(path).model_copy(update={"path": path.relative_to(corpus_dir).as_posix()})
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


def load_document(path: Path) -> Document:
    raw = path.read_bytes()
    return parse_document(raw, doc_id=path.stem, path=str(path))


def parse_document(raw: bytes, doc_id: str, path: str | None = None) -> Document:
    name = path or doc_id
    text = decode_text(raw, name)
    meta, body = split_front_matter(text, name)
    cleaned = clean_text(body)
    if not cleaned.strip():
        raise BadDocument(f"{name} has no text after cleaning")
    return Document(
        id=doc_id,
        title=_text_field(meta, "title", name) or _first_line(cleaned),
        date=_date_field(meta.get("date"), name),
        source=_text_field(meta, "source", name),
        url=_text_field(meta, "url", name),
        language=_text_field(meta, "language", name),
        text=cleaned,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """YAML between two '---' lines at the very top, as Jekyll and Hugo write it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FRONT_MATTER_FENCE:
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == _FRONT_MATTER_FENCE:
            break
    else:
        raise BadDocument(f"{name}: front matter starts with '---' but never closes")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise BadDocument(
            f"{name}: front matter is not valid YAML ({_first_line(str(exc))})"
        ) from exc
    if not isinstance(meta, dict):
        raise BadDocument(f"{name}: front matter must be a mapping of fields")
    return meta, "\n".join(lines[end + 1 :])


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


def _text_field(meta: dict[str, Any], key: str, name: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BadDocument(f"{name}: front matter field {key!r} must be text")
    return str(value).strip() or None


def _date_field(value: Any, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise BadDocument(f"{name}: date {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
