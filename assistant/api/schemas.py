"""Request and response bodies of /v1; records come from index.types and assistant.feedback."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_serializer,
)

from assistant.context import ENCODINGS
from assistant.feedback import FeedbackEntry
from assistant.slots import Slots, figure_slots, question_slots
from index.settings import Settings
from index.types import Answer, Document, Figure, Filters, Passage

# The schema states the default limits; the retriever enforces the configured ones.
MAX_QUERY_CHARS = Settings.max_query_chars
MAX_TOP_K = Settings.max_top_k
MAX_EXPLAINED = 20
NOT_BLANK = r"\S"  # at least one character that is not white space


def _whole_number(value: object) -> object:
    """An integer as JSON Schema means it (5 or 5.0), never a string or a boolean."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("must be a whole number")
    return int(value)


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "how many ID cards by 2023?", "top_k": 5}]},
    )

    query: str = Field(
        min_length=1, max_length=MAX_QUERY_CHARS, pattern=NOT_BLANK, description="What to look for"
    )
    top_k: WholeNumber = Field(10, ge=1, le=MAX_TOP_K, description="How many passages to return")
    filters: Filters | None = None


class Turn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "user", "content": "How many ID cards?"}]},
    )

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

    question: str = Field(
        min_length=1, max_length=MAX_QUERY_CHARS, pattern=NOT_BLANK, description="The question"
    )
    top_k: WholeNumber = Field(5, ge=1, le=MAX_TOP_K, description="How many passages to return")
    filters: Filters | None = None
    history: list[Turn] = Field(
        default_factory=list, max_length=50, description="Earlier turns, oldest first"
    )
    explain: StrictBool = Field(
        False,
        description="Also return how the answer was reached: how the question was read, the "
        "passages read and the best figure candidates with their chances",
    )


_SLOTS_EXAMPLE = {"measure": ["cards", "identification"], "event": ["issued"], "level": None,
                  "year": 2023, "roles": []}  # fmt: skip
_CANDIDATE_EXAMPLE = {
    "figure": {"value": 76000000, "text": "more than 76 million", "unit": "cards",
               "doc_id": "000_09fe290d33704444", "chunk_id": "000_09fe290d33704444#0004"},
    "chance": 0.63,
    "passage_id": "000_09fe290d33704444#0004",
    "slots": _SLOTS_EXAMPLE,
}  # fmt: skip


class SlotReading(BaseModel):
    """A figure or a question read into the same slots (assistant/slots.py)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_SLOTS_EXAMPLE]})

    measure: list[str] = Field(description="Words of what is counted or measured")
    event: list[str] = Field(description="The verbs it belongs to ('issued', 'cut')")
    level: str | None = Field(
        description="national, international, province, district, commune, municipal or ministry"
    )
    year: int | None
    roles: list[str] = Field(
        description="target, average, score, total, baseline, rank, part, change"
    )

    @classmethod
    def of(cls, slots: Slots) -> SlotReading:
        return cls(measure=sorted(slots.measure), event=sorted(slots.event), level=slots.level,
                   year=slots.year, roles=sorted(slots.roles))  # fmt: skip


class ExplainedCandidate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CANDIDATE_EXAMPLE]})

    figure: Figure
    chance: float = Field(description="Calibrated chance that this figure is the answer")
    passage_id: str
    slots: SlotReading | None = Field(None, description="How the figure was read")


class RemovedCandidate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"figure": _CANDIDATE_EXAMPLE["figure"],
                 "passage_id": _CANDIDATE_EXAMPLE["passage_id"],
                 "reason": "the passages with figures for this do not mention Ward 7"}
            ]
        }
    )  # fmt: skip

    figure: Figure
    passage_id: str
    reason: str = Field(description="The question's hard constraint it fails")


class Explanation(BaseModel):
    """What each stage of answering produced (`explain: true`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wants_figure": True, "wants_money": False, "wants_percent": False,
                    "places": [], "names": [], "time": "by 2023",
                    "passages_read": ["000_09fe290d33704444#0004"],
                    "question_slots": {**_SLOTS_EXAMPLE, "event": []},
                    "candidates": [_CANDIDATE_EXAMPLE],
                    "removed": [], "decision": "figure", "reason": None,
                }
            ]
        }
    )  # fmt: skip

    wants_figure: bool = Field(description="The question was read as asking for a number")
    wants_money: bool
    wants_percent: bool
    places: list[str] = Field(description="Places the question is limited to")
    names: list[str] = Field(description="Proper names the question asks about")
    time: str | None = Field(description="The time asked about, as written")
    passages_read: list[str] = Field(description="Ids of every passage read, best first")
    question_slots: SlotReading | None = Field(
        None, description="The question read into the slots its candidates are read into"
    )
    candidates: list[ExplainedCandidate] = Field(
        description=f"The best figure candidates that meet the question's hard constraints, "
        f"best first (at most {MAX_EXPLAINED})"
    )
    removed: list[RemovedCandidate] = Field(
        default_factory=list,
        description=f"Figure candidates removed by a hard constraint (the wrong place, no money "
        f"where money is asked, ...), in the order found (at most {MAX_EXPLAINED})",
    )
    decision: str | None = Field(
        None, description="figure, sentence or decline; null when the question was not read"
    )
    reason: str | None = Field(None, description="For a decline: why")

    @classmethod
    def of(cls, result) -> Explanation:
        q, trace = result.understood, result.trace
        ranked = list(zip(trace.ranked, trace.chances, strict=True))[:MAX_EXPLAINED]
        return cls(
            wants_figure=bool(q and q.wants_figure),
            wants_money=bool(q and q.wants_money),
            wants_percent=bool(q and q.wants_percent),
            places=list(q.places) if q else [],
            names=list(q.names) if q else [],
            time=q.time.text if q and q.time else None,
            passages_read=[p.id for p in trace.passages],
            question_slots=SlotReading.of(question_slots(q)) if q else None,
            candidates=[
                ExplainedCandidate(
                    figure=c.figure,
                    chance=chance,
                    passage_id=c.figure.chunk_id,
                    slots=SlotReading.of(figure_slots(c.figure)),
                )
                for c, chance in ranked
            ],
            removed=[
                RemovedCandidate(
                    figure=r.candidate.figure,
                    passage_id=r.candidate.figure.chunk_id,
                    reason=r.reason,
                )
                for r in trace.removed[:MAX_EXPLAINED]
            ],
            decision=trace.decision.kind if trace.decision else None,
            reason=(trace.decision.reason or None) if trace.decision else None,
        )


class AskResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "question": "How many ID cards by 2023?",
                    "answer": {
                        "text": "**more than 76 million** ... [1].",
                        "abstained": False,
                        "confidence": 0.97,
                        "figures": [],
                        "conflicts": [],
                        "citations": ["000_09fe290d33704444#0004"],
                    },
                    "passages": [],
                    "timings_ms": {"retrieve": 31.2, "answer": 7.9, "total": 39.1},
                }
            ]
        }
    )

    question: str
    answer: Answer
    passages: list[Passage] = Field(description="[n] in the answer text is passages[n-1]")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    explanation: Explanation | None = Field(None, description="Only when `explain` was true")

    @model_serializer(mode="wrap")
    def _without_unasked_explanation(self, handler):
        """`explanation` is left out, not null, unless asked for: replies stay as they were."""
        data = handler(self)
        if isinstance(data, dict) and data.get("explanation") is None:
            data.pop("explanation", None)
        return data


class SearchResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"passages": [], "timings_ms": {"search": 28.4}}]}
    )

    passages: list[Passage]
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "model": "sentence-transformers/all-MiniLM-L6-v2",
                    "documents": 5,
                    "chunks": 48,
                    "built_at": "2026-11-23T12:53:12+00:00",
                }
            ]
        }
    )

    status: str
    model: str
    documents: int
    chunks: int
    built_at: str


class ContextRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"query": "ID cards issued by 2023", "max_tokens": 800}],
        },
    )

    query: str = Field(
        min_length=1, max_length=MAX_QUERY_CHARS, pattern=NOT_BLANK, description="What to look for"
    )
    max_tokens: WholeNumber = Field(
        1500, ge=64, le=32_000, description="Token budget for the context"
    )
    encoding: Literal[ENCODINGS] = Field(  # type: ignore[valid-type]
        "cl100k_base", description="tiktoken encoding the budget is counted in"
    )
    top_k: WholeNumber = Field(
        20, ge=1, le=MAX_TOP_K, description="Passages considered, best first"
    )
    filters: Filters | None = None


class ContextPassage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "[1]",
                    "tokens": 212,
                    "truncated": False,
                    "passage": {
                        "id": "land_registry#0000",
                        "doc_id": "land_registry",
                        "title": "Land registry goes online",
                        "date": "2023-09-01",
                        "text": "More than 1.2 million ...",
                        "score": 0.91,
                        "span": [0, 420],
                        "figures": [],
                    },
                }
            ]
        }
    )

    label: str = Field(description="Citation label heading the passage in `context`, e.g. [1]")
    tokens: int = Field(description="Tokens of this passage's block (label line and text)")
    truncated: bool = Field(False, description="Cut to fit: only when the best one alone is over")
    passage: Passage


class ContextResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "context": "[1] Prime Minister ..., 2023-02-03\nTo date, more than 76 ...",
                    "tokens": 212,
                    "max_tokens": 800,
                    "encoding": "cl100k_base",
                    "passages": [],
                }
            ]
        }
    )

    context: str = Field(description="Passages joined by blank lines, each under its label")
    tokens: int = Field(description="Exact token count of `context` in `encoding`")
    max_tokens: int
    encoding: str
    passages: list[ContextPassage]


class DocumentPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "total": 5, "offset": 0, "limit": 20}]}
    )

    items: list[Document] = Field(description="Metadata only: `text` is empty here")
    total: int
    offset: int
    limit: int


class DocumentDetail(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "document": {
                        "id": "land_registry",
                        "title": "Land registry goes online",
                        "date": "2023-09-01",
                        "text": "The land agency finished moving its registry online. ...",
                    },
                    "figures": [],
                }
            ]
        }
    )

    document: Document
    figures: list[Figure] = Field(description="Every figure extracted from it, in reading order")


class FigurePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "total": 0, "offset": 0, "limit": 50}]}
    )

    items: list[Figure]
    total: int
    offset: int
    limit: int


class FeedbackRequest(FeedbackEntry):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rating": "up",
                    "question": "How many ID cards had been issued by 2023?",
                    "answer": "**more than 76 million** ... [1].",
                    "citations": ["000_09fe290d33704444#0004"],
                    "request_id": "4f1c2a9e0b7d4e55a1c3b2d6e8f09a71",
                },
                {
                    "rating": "down",
                    "comment": "The figure is from 2022, not 2023.",
                    "question": "How many ID cards had been issued by 2023?",
                    "answer": "The documents do not say. (no passage mentions ID cards)",
                },
            ]
        },
    )
