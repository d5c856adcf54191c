"""Sentence-aware splitting, bounded in the embedding model's own tokens, with overlap."""

from __future__ import annotations

from typing import Any

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.sentences import SENTENCE_END
from index.tables import missing_header, table_rows
from index.types import Chunk, Document

# Sentence ends and paragraph breaks first, so chunks are whole sentences and the overlap is
# whole sentences too; then lines, clauses and words; characters only as a last resort.
SEPARATORS = [
    rf"\n\s*\n|{SENTENCE_END}",
    "\n",
    r"(?<=[;:])\s+",
    r"(?<=,)\s+",
    r"\s+",
    "",
]


def chunk_id(doc_id: str, position: int) -> str:
    return f"{doc_id}#{position:04d}"


class Splitter:
    """`split(doc)` cuts a document into chunks that the model reads whole."""

    def __init__(self, tokenizer: Any, max_tokens: int, chunk_tokens: int, chunk_overlap: int):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        budget = max_tokens - self._special_tokens()
        if chunk_tokens > budget:
            raise ValueError(
                f"chunk size {chunk_tokens} tokens is over the model's limit of {budget} "
                f"content tokens ({max_tokens} with special tokens); lower REFORMQA_CHUNK_TOKENS"
            )
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=chunk_tokens,
            chunk_overlap=chunk_overlap,
            length_function=self._content_tokens,
            strip_whitespace=True,
        )

    def split(self, doc: Document) -> list[Chunk]:
        pieces = [
            p for text in self._splitter.split_text(doc.text) for p in self._enforce_limit(text)
        ]
        chunks: list[Chunk] = []
        cursor = 0
        rows = table_rows(doc.text)
        for position, piece in enumerate(pieces):
            start = doc.text.find(piece, cursor)
            if start < 0:  # pieces are substrings in order; anything else is a splitter bug
                raise RuntimeError(f"chunk {position} of {doc.id} is not found in its document")
            chunks.append(
                Chunk(
                    id=chunk_id(doc.id, position),
                    doc_id=doc.id,
                    position=position,
                    start=start,
                    end=start + len(piece),
                    text=piece,
                    n_tokens=self.count_tokens(piece),
                    table_header=missing_header(piece, rows),
                )
            )
            cursor = start + 1
        return chunks

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def _content_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def _special_tokens(self) -> int:
        return self.count_tokens("") - self._content_tokens("")

    def _enforce_limit(self, text: str) -> list[str]:
        """Token counts of merged pieces can drift by a token or two; cut at token offsets."""
        if self.count_tokens(text) <= self.max_tokens:
            return [text]
        budget = self.max_tokens - self._special_tokens()
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        pieces = []
        for i in range(0, len(offsets), budget):
            window = offsets[i : i + budget]
            pieces.append(text[window[0][0] : window[-1][1]].strip())
        return [p for p in pieces if p]
