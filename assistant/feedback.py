"""Feedback on answers (thumbs up or down, an optional comment), kept in one SQLite file.

Several API worker processes may write at once: the file is in WAL mode and a writer waits for
another's lock (up to BUSY_TIMEOUT_SECONDS) instead of failing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from index.errors import Busy, StorageFull
from index.settings import Settings

BUSY_TIMEOUT_SECONDS = 10.0
MAX_COMMENT_CHARS = 2000
MAX_ANSWER_CHARS = 20_000
MAX_CITATIONS = 200
REQUEST_ID = r"^[A-Za-z0-9._-]{1,64}$"  # what X-Request-ID carries (assistant/api/observe.py)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    request_id TEXT,
    index_version TEXT
)
"""
_INSERT = """
INSERT INTO feedback
    (created_at, rating, comment, question, answer, citations, request_id, index_version)
VALUES
    (:created_at, :rating, :comment, :question, :answer, :citations, :request_id, :index_version)
"""

PassageId = Annotated[str, Field(min_length=1, max_length=300)]


class FeedbackEntry(BaseModel):
    """What a reader says about one answer, as the caller gives it."""

    rating: Literal["up", "down"] = Field(description="Thumbs up or down")
    comment: str | None = Field(None, max_length=MAX_COMMENT_CHARS, description="Why, in words")
    question: str = Field(
        min_length=1, max_length=Settings.max_query_chars, pattern=r"\S",
        description="The question asked",
    )  # fmt: skip
    answer: str = Field(max_length=MAX_ANSWER_CHARS, description="The answer text shown")
    citations: list[PassageId] = Field(
        default_factory=list, max_length=MAX_CITATIONS, description="Ids of the passages it cited"
    )
    request_id: str | None = Field(
        None, pattern=REQUEST_ID, description="X-Request-ID of the /v1/ask response rated"
    )
    index_version: str | None = Field(
        None, max_length=200, description="The index version that answered, if the caller knows"
    )


class Feedback(FeedbackEntry):
    """One stored entry."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "created_at": "2026-11-23T12:53:12+00:00",
                    "rating": "down",
                    "comment": "The figure is from 2022, not 2023.",
                    "question": "How many ID cards had been issued by 2023?",
                    "answer": "**more than 76 million** ... [1].",
                    "citations": ["000_09fe290d33704444#0004"],
                    "request_id": "4f1c2a9e0b7d4e55a1c3b2d6e8f09a71",
                    "index_version": None,
                }
            ]
        }
    )

    id: int = Field(description="Increases with every entry stored")
    created_at: str = Field(description="When it was stored: UTC, ISO 8601")


COLUMNS = ("id", "created_at", *FeedbackEntry.model_fields)  # the order exports write them in


def record_feedback(path: Path, entry: FeedbackEntry, max_bytes: int = 0) -> Feedback:
    """Store one entry (creating the file on first use) and return it as stored. Once the
    file has reached `max_bytes` (0: no cap), new entries are refused: stored ones are kept."""
    _check_room(Path(path), max_bytes)
    created_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    values = entry.model_dump(include=set(FeedbackEntry.model_fields))
    row = {**values, "created_at": created_at, "citations": json.dumps(values["citations"])}
    try:
        with closing(_connect(path)) as connection, connection:
            entry_id = connection.execute(_INSERT, row).lastrowid
    except sqlite3.OperationalError as exc:
        if (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise Busy("the feedback store is busy; retry in a few seconds") from exc
        raise
    return Feedback(id=entry_id, created_at=created_at, **values)


def _check_room(path: Path, max_bytes: int) -> None:
    if max_bytes <= 0:
        return
    files = (path, path.with_name(path.name + "-wal"))  # the WAL holds rows not yet moved in
    size = sum(_size(f) for f in files)
    if size >= max_bytes:
        raise StorageFull(
            f"the feedback store is full ({size} of REFORMQA_FEEDBACK_MAX_BYTES={max_bytes} "
            "bytes); nothing more is stored until an operator exports and clears it"
        )


def _size(path: Path) -> int:
    """0 for a file that is not there, or is removed as we look (the WAL, at a checkpoint)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_feedback(path: Path) -> Iterator[Feedback]:
    """Every stored entry, oldest first; none when the file does not exist yet."""
    if not Path(path).is_file():
        return
    with closing(_connect(path)) as connection:
        connection.row_factory = sqlite3.Row
        for row in connection.execute("SELECT * FROM feedback ORDER BY id"):
            yield Feedback.model_validate({**dict(row), "citations": json.loads(row["citations"])})


def _connect(path: Path) -> sqlite3.Connection:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    try:  # WAL stays set in the file: readers and the one writer never block each other
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(_SCHEMA)
    except sqlite3.Error:
        connection.close()
        raise
    return connection
