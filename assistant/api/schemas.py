"""Request and response bodies of /v1; records themselves come from index.types."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from index.settings import Settings
from index.types import Answer, Filters, Passage

# The schema states the default limits; the retriever enforces the configured ones.
MAX_QUERY_CHARS = Settings.max_query_chars
MAX_TOP_K = Settings.max_top_k


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "how many ID cards by 2023?", "top_k": 5}]},
    )

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to look for")
    top_k: int = Field(10, ge=1, le=MAX_TOP_K, description="How many passages to return")
    filters: Filters | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_QUERY_CHARS * 5)


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "How many ID cards had been issued by 2023?", "top_k": 5},
                {
                    "question": "And in 2024?",
                    "history": [
                        {"role": "user", "content": "How many ID cards by 2023?"},
                        {"role": "assistant", "content": "more than 76 million ... [1]"},
                    ],
                },
            ]
        },
    )

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="The question")
    top_k: int = Field(5, ge=1, le=MAX_TOP_K, description="How many passages to return")
    filters: Filters | None = None
    history: list[Turn] = Field(
        default_factory=list, max_length=50, description="Earlier turns, oldest first"
    )


class AskResponse(BaseModel):
    question: str
    answer: Answer
    passages: list[Passage] = Field(description="[n] in the answer text is passages[n-1]")
    timings_ms: dict[str, float] = Field(default_factory=dict)


class SearchResponse(BaseModel):
    passages: list[Passage]
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    model: str
    documents: int
    chunks: int
    built_at: str
