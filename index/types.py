"""Shared records: every layer (index, assistant, API, UI, eval) speaks these."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """A calendar date as the schema says (YYYY-MM-DD): not a timestamp, not a date-time."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]


class Document(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "land_registry",
                    "title": "Land registry goes online",
                    "date": "2023-09-01",
                    "source": "Example Land Agency",
                    "url": None,
                    "language": "en",
                    "text": "",
                    "path": "land_registry.txt",
                    "sha256": "9f2c...",
                    "chunks": 2,
                    "figures": 5,
                }
            ]
        }
    )

    id: str = Field(description="Stable id: the file name without its extension")
    title: str
    date: dt.date | None = Field(None, description="Meeting or publication date")
    source: str | None = Field(None, description="Publisher")
    url: str | None = None
    language: str | None = None
    text: str = Field(description="Cleaned body text; chunk spans index into it")
    path: str | None = None
    sha256: str = ""
    chunks: int | None = Field(None, description="Number of chunks in the index")
    figures: int | None = Field(None, description="Number of figures stored with its chunks")
    pages: list[int] | None = Field(
        None, description="For a PDF: where each page starts in `text` (page n at pages[n-1])"
    )


class Figure(BaseModel):
    """A number as written in a sentence, typed at ingest (index.figures)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "value": 76000000,
                    "text": "more than 76 million",
                    "qualifier": "more_than",
                    "unit": "cards",
                    "of_total": None,
                    "value_max": None,
                    "change": None,
                    "subject": "electronic chip-embedded citizen identification cards",
                    "as_of": "2023-02-03",
                    "sentence": "To date, more than 76 million electronic chip-embedded "
                    "citizen identification cards have been issued to citizens.",
                    "span": [56, 76],
                    "doc_id": "000_09fe290d33704444",
                    "chunk_id": "000_09fe290d33704444#0004",
                }
            ]
        }
    )

    value: float = Field(description="Scaled: '76 million' -> 76000000, '52.8%' -> 52.8")
    text: str = Field(description="As written, qualifier and scale included")
    qualifier: str = Field(
        "exact",
        description="exact, more_than, over, nearly, about, up_to, at_least, less_than, range",
    )
    unit: str | None = Field(
        None,
        description="%, points, rank, an ISO 4217 currency code (VND, USD, DKK, ...), or the "
        "counted noun",
    )
    of_total: float | None = Field(None, description="63 for '53/63 localities'")
    value_max: float | None = Field(None, description="High end of a range ('10-15%' -> 15)")
    change: str | None = Field(None, description="'increase' or 'decrease' for 'up 12%' and such")
    subject: str | None = None
    row: str | None = Field(None, description="For a table cell: its row's label ('Ward 7')")
    column: str | None = Field(
        None, description="For a table cell: its column's header ('Appointments booked')"
    )
    as_of: dt.date | None = None
    sentence: str = ""
    span: tuple[int, int] = (0, 0)
    doc_id: str = ""
    chunk_id: str = ""


class Chunk(BaseModel):
    id: str
    doc_id: str
    position: int = Field(description="0-based order of the chunk in its document")
    start: int = Field(description="Character offset in the cleaned document text")
    end: int
    text: str
    n_tokens: int = Field(description="Length in the embedding model's tokens, specials included")
    table_header: str | None = Field(
        None, description="Caption and header row of a table whose rows the chunk holds without it"
    )

    @property
    def search_text(self) -> str:
        return search_text(self.text, self.table_header)


def search_text(text: str, table_header: str | None) -> str:
    """What a chunk is embedded and keyword-indexed as: its text, under the table header its
    rows lack."""
    return f"{table_header}\n\n{text}" if table_header else text


class Passage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "000_09fe290d33704444#0004",
                    "doc_id": "000_09fe290d33704444",
                    "title": "Prime Minister Pham Minh Chinh: Promoting the spirit of...",
                    "source": "Nghe An Newspaper (Baonghean.vn)",
                    "url": None,
                    "date": "2023-02-03",
                    "text": "To date, more than 76 million electronic chip-embedded citizen "
                    "identification cards have been issued to citizens...",
                    "score": 0.93,
                    "span": [4120, 4980],
                    "figures": [],
                }
            ]
        }
    )

    id: str
    doc_id: str
    title: str
    source: str | None = None
    url: str | None = None
    date: dt.date | None = None
    text: str
    score: float = Field(description="Fused relevance, 0..1, higher is better")
    span: tuple[int, int] = Field(description="Character offsets in the cleaned document")
    page_start: int | None = Field(None, description="For a PDF: the page the passage starts on")
    page_end: int | None = Field(None, description="For a PDF: the page it ends on")
    table_header: str | None = Field(
        None,
        description="When the passage starts inside a table: the table's caption and header row "
        "(cells joined by ' | '), which the passage's text does not hold; shown above it",
    )
    figures: list[Figure] = Field(default_factory=list)

    def page_label(self) -> str:
        """'p. 2', 'pp. 2-3' for a passage of a PDF; '' for a document without pages."""
        if self.page_start is None:
            return ""
        if self.page_end in (None, self.page_start):
            return f"p. {self.page_start}"
        return f"pp. {self.page_start}-{self.page_end}"


class Filters(BaseModel):
    """Restrict a search. Unknown fields are refused, so a typo never silently widens a search."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "doc_ids": ["000_09fe290d33704444"],
                    "date_from": "2023-01-01",
                    "date_to": "2023-12-31",
                }
            ]
        },
    )

    doc_ids: list[str] | None = Field(None, description="Only these documents")
    date_from: IsoDate | None = Field(None, description="Documents dated on or after (inclusive)")
    date_to: IsoDate | None = Field(None, description="Documents dated on or before (inclusive)")
    language: str | None = Field(None, description="Only documents in this language (e.g. 'en')")

    @model_validator(mode="after")
    def _check_range(self) -> Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from must not be after date_to")
        return self

    def is_empty(self) -> bool:
        return not (self.doc_ids is not None or self.date_from or self.date_to or self.language)


class Quote(BaseModel):
    """A sentence an answer quotes, verbatim, with where it stands."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "To date, more than 76 million electronic chip-embedded citizen "
                    "identification cards have been issued to citizens.",
                    "passage_id": "000_09fe290d33704444#0004",
                    "span": [0, 121],
                }
            ]
        }
    )

    text: str = Field(description="The sentence as written in the passage")
    passage_id: str = Field(description="The passage it is quoted from; also in `citations`")
    span: tuple[int, int] = Field(description="Its characters in that passage's `text`")


class Answer(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "**more than 76 million** electronic chip-embedded citizen "
                    "identification cards (as of 2023-02-03) [1].",
                    "abstained": False,
                    "confidence": 0.97,
                    "figures": [],
                    "conflicts": [],
                    "citations": ["000_09fe290d33704444#0004"],
                }
            ]
        }
    )

    text: str = Field(description="Short answer; [n] cites passages[n-1]; quotes are verbatim")
    abstained: bool = Field(description="True when the documents do not answer the question")
    confidence: float = Field(
        ge=0.0,
        le=1.0,
        description="For a figure answer: the calibrated chance that the figure is right (of the "
        "figures given at 0.8, about 8 in 10 were right on the eval's dev split). For a decline: "
        "the chance the closest figure would have been right. For a quoted sentence: the share "
        "of quoted sentences with its support that answered the question on the dev split.",
    )
    figures: list[Figure] = Field(
        default_factory=list, description="The figures stated, best first (conflicts included)"
    )
    conflicts: list[Figure] = Field(
        default_factory=list, description="Figures for the same thing that disagree with the first"
    )
    citations: list[str] = Field(default_factory=list, description="Ids of the cited passages")
    closest: Figure | None = Field(
        None,
        description="For a decline: the closest figure found, which is NOT the answer (another "
        "place, time or quantity, or too unlikely); its passage is cited",
    )
    quotes: list[Quote] = Field(
        default_factory=list,
        description="The sentences the answer quotes, in the order of the text (empty for a "
        "decline)",
    )
    reason: str | None = Field(
        None, description="For a decline: why, in words ('no document mentions Hanoi')"
    )
