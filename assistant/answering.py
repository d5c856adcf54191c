"""`Assistant.ask`: the answering pipeline, one named stage per module.

    understand (question.py: Question) -> retrieve (retriever.py: passages)
    -> collect (collect.py: scored sentences, figure candidates) -> features (features.py)
    -> constraints (constraints.py: candidates kept, candidates removed and why)
    -> score (decision.py: candidates ranked with calibrated chances)
    -> decide (decide.py: figure, quoted sentence or decline) -> compose (compose.py: Answer)

Each stage returns a new frozen record; `ask(..., trace=True)` returns them all.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from assistant.collect import Candidate, Collected, Sentence, collect, sentences_of
from assistant.compose import compose, declined, finish
from assistant.constraints import Constrained, Removed, apply_constraints
from assistant.decide import Decision, before_reading, decide
from assistant.decision import DecisionModel, Scored, load_model, score_candidates
from assistant.language import unreadable_language
from assistant.names import name_forms
from assistant.question import Question, understand
from assistant.retriever import Mode, Retriever
from assistant.tuning import CANDIDATE_PASSAGES
from index.types import Answer, Filters, Passage


@dataclass(frozen=True)
class Trace:
    """Every stage's output, for `ask(..., trace=True)`: the eval reads it to say at which stage
    a miss happened, and the API returns it for `explain: true`."""

    passages: list[Passage]  # every passage read for sentences and figures, best first
    collected: Collected | None = None
    constrained: Constrained | None = None
    scored: Scored | None = None
    decision: Decision | None = None

    @property
    def candidates(self) -> list[Candidate]:
        """Those that meet the hard constraints, in the collect stage's order (what the
        decision model is fitted on)."""
        return list(self.constrained.kept) if self.constrained else []

    @property
    def removed(self) -> list[Removed]:
        """Those a hard constraint removed, each with its reason."""
        return list(self.constrained.removed) if self.constrained else []

    @property
    def ranked(self) -> list[Candidate]:
        return list(self.scored.ranked) if self.scored else []

    @property
    def chances(self) -> list[float]:
        return list(self.scored.chances) if self.scored else []


@dataclass
class Result:
    question: str
    answer: Answer
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    understood: Question | None = None
    evidence: float | None = None  # best support, time-adjusted: what confidence is computed from
    trace: Trace | None = None


class Assistant:
    """Answers from the index behind a `Retriever`; thread-safe (holds no per-question state)."""

    def __init__(self, retriever: Retriever, model: DecisionModel | None = None):
        self.retriever = retriever
        self.model = model or load_model()
        self.settings = retriever.settings
        self._newest = retriever.reader.newest_date()

    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        filters: Filters | None = None,
        top_k: int = 5,
        mode: Mode = "hybrid",
        rank_figures: bool = True,
        trace: bool = False,
    ) -> Result:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        question = self.retriever.check_query(question, top_k)
        language = unreadable_language(question)
        if language:  # unrelated passages would come back with a confident score: none are shown
            answer = declined(f"the question seems to be in {language}; please ask it in English")
            answer = answer.model_copy(update={"text": ask_in_english(language)})
            timings["total"] = _ms_since(started)
            return Result(question, answer, [], timings, None, None, Trace([]) if trace else None)
        understood = understand(question, history, self._newest)
        # A follow-up is searched with the earlier turn before it; both may be within their own
        # limits and still too long together, so the earlier turn's start gives way.
        search_text = understood.search_text[-self.settings.max_query_chars :]
        vector = self.retriever.embedder.encode([search_text])[0]
        passages = self.retriever.search(
            search_text,
            k=max(top_k, CANDIDATE_PASSAGES),
            filters=filters,
            mode=mode,
            query_vector=vector,
        )
        timings["retrieve"] = _ms_since(started)
        picked = time.perf_counter()
        if rank_figures:
            stages = self._answer(understood, passages, vector)
            answer, shown = compose(stages.decision, passages, top_k)
            evidence = stages.decision.evidence
        else:
            stages = Trace(passages)
            answer, shown = finish(*_first_number_answer(passages), passages, top_k)
            evidence = None
        timings["answer"] = _ms_since(picked)
        timings["total"] = _ms_since(started)
        seen = stages if trace else None
        return Result(question, answer, shown, timings, understood, evidence, seen)

    def _answer(self, q: Question, passages: list[Passage], question_vector: np.ndarray) -> Trace:
        """The stages after retrieval, each from the one before."""
        sentences = sentences_of(passages)
        early = before_reading(q, sentences)
        if early is not None:
            return Trace(passages, decision=early)
        vectors = self._sentence_vectors(sentences, passages)
        collected = collect(q, passages, question_vector, vectors, sentences)
        constrained = apply_constraints(q, collected.candidates, passages)
        scored = score_candidates(self.model, q, constrained.kept)
        unmentioned = [n for n in q.names if not self._mentioned(n, passages)]
        decision = decide(
            q, passages, collected, constrained, scored, self.model,
            self.settings.abstain_below, unmentioned,
        )  # fmt: skip
        return Trace(passages, collected, constrained, scored, decision)

    def _mentioned(self, name: str, passages: list[Passage]) -> bool:
        """Is this name in the index at all ('Vietnam' also as 'Viet Nam', 'Korean' as
        'Korea')?"""
        forms = name_forms(name)
        if any(self.retriever.reader.keywords.knows(form) for form in forms):
            return True
        squashed = "".join(" ".join(p.text + p.title for p in passages).lower().split())
        return name in squashed  # the other forms as whole indexed words only ('ital' is not)

    def _sentence_vectors(self, sentences: list[Sentence], passages: list[Passage]) -> np.ndarray:
        """Stored at ingest; any sentence the index lacks is encoded now."""
        keys = [(passages[s.passage].doc_id, s.text) for s in sentences]
        vectors = self.retriever.reader.vectors_of_sentences(keys)
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            encoded = self.retriever.embedder.encode([sentences[i].text for i in missing])
            for i, vector in zip(missing, encoded, strict=True):
                vectors[i] = vector
        return np.vstack(vectors)


def ask_in_english(language: str) -> str:
    return (
        f"This question seems to be in {language}. Reform QA reads questions in English, the "
        "language of its documents: please ask it in English."
    )


def _first_number_answer(passages: list[Passage]) -> tuple[Answer, list[str]]:
    """The naive recipe (for comparison in the eval): the first figure of the top passage."""
    for passage in passages[:1]:
        if passage.figures:
            f = passage.figures[0]
            text = f"**{f.text}** [{passage.id}]\n“{passage.text}” [{passage.id}]"
            return Answer(text=text, abstained=False, confidence=1.0, figures=[f]), [passage.id]
    return declined("no figure in the top passage"), []


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
