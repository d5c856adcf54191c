"""Read corpus files (.txt/.md, optional YAML front matter) into cleaned Documents."""

from __future__ import annotations

import hashlib
from pathlib import Path

from index.clean import clean_text
from index.errors import BadDocument, EmptyCorpus
from index.front_matter import FIELD_MAX_CHARS, date_field, split_front_matter, text_field
from index.types import Document

DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown")


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
        title=text_field(meta, "title", name) or _title_from(cleaned),
        date=date_field(meta, name),
        source=text_field(meta, "source", name),
        url=text_field(meta, "url", name),
        language=text_field(meta, "language", name),
        text=cleaned,
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


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
