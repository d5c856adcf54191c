"""`Assistant.ask`: understand, retrieve, pick figures or sentences, compose or abstain.

No generative model: every word of evidence in an answer is quoted from a returned passage, so no
number can be altered. Citations `[n]` point at `passages[n-1]` of the result.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import numpy as np

from assistant.decision import DecisionModel, load_model
from assistant.features import candidate_rows
from assistant.language import unreadable_language
from assistant.names import name_forms
from assistant.question import Question, understand
from assistant.ranking import (
    MONEY_UNITS,
    SYMBOL_UNITS,
    Candidate,
    Sentence,
    figure_candidates,
    same_quantity,
    score_sentences,
    sentences_of,
    written_ratio,
)
from assistant.retriever import Mode, Retriever
from index.types import Answer, Figure, Filters, Passage

CANDIDATE_PASSAGES = 8  # passages read for sentences and figures, at least
MAX_CONFLICTS = 3
CONFLICT_SHARE = 0.4  # another document's figure at this share of the best one's chance is shown
_PLACE_REACH = 300  # characters before the answering sentence that may name its place
_CALIBRATION_SCALE = 0.05  # support units per logit: how fast confidence moves past the threshold
DOES_NOT_SAY = "The documents do not say."


@dataclass
class Trace:
    """What the answering stage saw, for `ask(..., trace=True)`: the eval reads it to say at which
    stage a miss happened."""

    passages: list[Passage]  # every passage read for sentences and figures, best first
    candidates: list[Candidate] = field(default_factory=list)  # that meet the hard constraints,
    # in ranking.py's order (what the decision model is fitted on)
    ranked: list[Candidate] = field(default_factory=list)  # the same, best first by the model
    chances: list[float] = field(default_factory=list)  # calibrated, one per ranked candidate


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
            answer = Answer(text=ask_in_english(language), abstained=True, confidence=0.0)
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
        evidence = None
        seen = Trace(passages) if trace else None
        if rank_figures:
            answer, cited, evidence = self._answer(understood, passages, vector, seen)
        else:
            answer, cited = _first_number_answer(passages)
        passages = _keep_cited(passages, cited, top_k)
        answer.citations = [p.id for p in passages if p.id in cited]
        answer.text = _renumber(answer.text, cited, passages)
        timings["answer"] = _ms_since(picked)
        timings["total"] = _ms_since(started)
        return Result(question, answer, passages, timings, understood, evidence, seen)

    def _answer(
        self,
        q: Question,
        passages: list[Passage],
        question_vector: np.ndarray,
        trace: Trace | None = None,
    ) -> tuple[Answer, list[str], float | None]:
        if q.is_instruction:
            return _abstain(0.0, "the question tries to instruct the assistant"), [], None
        if not q.terms:
            return _abstain(0.0, "the question has no words to look for"), [], None
        sentences = sentences_of(passages)
        if not sentences:
            return _abstain(0.0, "no passage matches the question"), [], None
        vectors = self._sentence_vectors(sentences, passages)
        score_sentences(q, question_vector, vectors, sentences)
        unmentioned = [n for n in q.names if not self._mentioned(n, passages)]
        if unmentioned:
            best = max(s.support for s in sentences)
            why = f"no document mentions {', '.join(unmentioned)}"
            return _abstain(self._confidence(best - 1.0), why), [], round(best - 1.0, 4)
        found = figure_candidates(q, sentences, passages)
        candidates = [c for c in found if _unmet(q, c, passages) is None]
        why = _unmet(q, found[0], passages) if found else None  # the best one's, for a decline
        ranked, chances = self._rank(q, candidates)
        if trace is not None:
            trace.candidates, trace.ranked, trace.chances = candidates, ranked, chances
        if ranked and chances[0] >= self.model.threshold:
            return self._figure_answer(ranked, chances, passages)
        if q.wants_figure and (why or ranked):
            closest = found[0] if why else ranked[0]
            chance = chances[0] if ranked else 0.0
            reason = why or "no figure in the documents answers this well enough"
            evidence = _evidence(closest.sentence.support, closest.time_fit)
            answer = _abstain(chance, reason)
            pid = passages[closest.sentence.passage].id
            answer.text += f" Closest, not the answer: {_line_of(closest.figure)} [{pid}]."
            answer.closest = closest.figure
            return answer, [pid], evidence
        return self._sentence_answer(q, sentences, passages)

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

    def _rank(
        self, q: Question, candidates: list[Candidate]
    ) -> tuple[list[Candidate], list[float]]:
        """Candidates best first by the fitted model, each with its calibrated chance of being
        the answer."""
        if not candidates:
            return [], []
        raw = self.model.raw(candidate_rows(q, candidates))
        order = np.argsort(-raw, kind="stable")
        chances = self.model.calibrated(raw[order])
        return [candidates[i] for i in order], [round(float(c), 4) for c in chances]

    def _figure_answer(
        self, ranked: list[Candidate], chances: list[float], passages: list[Passage]
    ) -> tuple[Answer, list[str], float]:
        best = ranked[0]
        evidence = _evidence(best.sentence.support, best.time_fit)
        others = _conflicts(best, ranked, chances, CONFLICT_SHARE * chances[0])
        chosen = [best, *others]
        cited = list(dict.fromkeys(passages[c.sentence.passage].id for c in chosen))
        text = _compose_figures(chosen, passages)
        answer = Answer(
            text=text,
            abstained=False,
            confidence=round(chances[0], 3),
            figures=[c.figure for c in chosen],
            conflicts=[c.figure for c in others],
        )
        return answer, cited, evidence

    def _sentence_answer(
        self, q: Question, sentences: list[Sentence], passages: list[Passage]
    ) -> tuple[Answer, list[str], float]:
        ranked = sorted(sentences, key=lambda s: -(s.support + 0.05 * passages[s.passage].score))
        best = ranked[0]
        evidence = _evidence(best.support, 0.0)
        absent = places_absent_from(q, passages[best.passage], best)
        if absent:
            why = f"the passages on this do not mention {', '.join(absent).title()}"
            return _abstain(self._confidence(evidence - 1.0), why), [], round(evidence - 1.0, 4)
        confidence = self._confidence(evidence)
        if q.wants_figure:  # a number was asked for, and no retrieved sentence holds one
            confidence = min(confidence, 0.49)
        if confidence < 0.5:
            why = "nothing in the documents answers this well enough"
            return _abstain(confidence, why), [], evidence
        chosen = [best] + [s for s in ranked[1:2] if s.support >= best.support - 0.03]
        cited = list(dict.fromkeys(passages[s.passage].id for s in chosen))
        lines = [f"“{s.text}” [{passages[s.passage].id}]" for s in chosen]
        chance = self.model.sentence_chance(evidence)  # what is reported; the rule above decides
        answer = Answer(text="\n".join(lines), abstained=False, confidence=round(chance, 3))
        return answer, cited, evidence

    def _confidence(self, evidence: float) -> float:
        """Evidence mapped to 0..1 so that the calibrated threshold sits at 0.5."""
        z = (evidence - self.settings.abstain_below) / _CALIBRATION_SCALE
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def places_absent_from(q: Question, passage: Passage, sentence: Sentence) -> list[str]:
    """Places the question is limited to ('Thanh Hoa province') that neither the answering
    sentence, the text just before it, nor the title names: a figure for the whole country does
    not answer for one province, even in a passage that names the province elsewhere."""
    before = passage.text[max(0, sentence.span[0] - _PLACE_REACH) : sentence.span[0]]
    text = " ".join(f"{passage.title} {before} {sentence.text}".lower().split())
    return [place for place in q.places if place not in text]


def ask_in_english(language: str) -> str:
    return (
        f"This question seems to be in {language}. Reform QA reads questions in English, the "
        "language of its documents: please ask it in English."
    )


def _is_money(figure: Figure) -> bool:
    return (figure.unit or "").lower() in MONEY_UNITS


def _evidence(support: float, time_fit: float) -> float:
    """The best support, lowered when the figure is from another time than the one asked: a
    little when its passage speaks of that time, below any threshold when nothing does."""
    return round(support - (1.0 if time_fit <= -2 else 0.15 if time_fit < 0 else 0.0), 4)


def _conflicts(
    best: Candidate, ranked: list[Candidate], chances: list[float], floor: float
) -> list[Candidate]:
    """Other documents' figures for the same quantity, nearly as likely as the best one."""
    found: list[Candidate] = []
    shown = {best.figure.value}
    for other, chance in zip(ranked[1:], chances[1:], strict=True):
        if chance < floor or len(found) >= MAX_CONFLICTS:
            break
        if other.figure.value in shown or other.time_fit < 0 <= best.time_fit:
            continue
        if other.figure.doc_id == best.figure.doc_id:
            continue  # one document stating two numbers is not a disagreement
        if same_quantity(best, other):
            found.append(other)
            shown.add(other.figure.value)
    return found


def _unmet(q: Question, candidate: Candidate, passages: list[Passage]) -> str | None:
    """The hard constraint of the question this candidate fails (money when money is asked, the
    place the question is limited to named near the figure), said for a decline; else None."""
    if q.wants_money and not _is_money(candidate.figure):
        return "no amount of money in the documents answers this"
    if q.places:
        absent = places_absent_from(q, passages[candidate.sentence.passage], candidate.sentence)
        if absent:
            return f"the passages with figures for this do not mention {', '.join(absent).title()}"
    return None


def _compose_figures(chosen: list[Candidate], passages: list[Passage]) -> str:
    def line(c: Candidate) -> str:
        f = c.figure
        when = f" (as of {f.as_of.isoformat()})" if f.as_of else ""
        return f"**{f.text}**{_noun(f)}{when} [{passages[c.sentence.passage].id}]"

    if len(chosen) == 1:
        c = chosen[0]
        return f"{line(c)}.\n“{c.sentence.text}” [{passages[c.sentence.passage].id}]"
    parts = ["The documents give different figures:"]
    for c in chosen:
        parts.append(f"- {line(c)}: “{c.sentence.text}”")
    return "\n".join(parts)


def _line_of(f: Figure) -> str:
    """'1,250 surplus staff (as of 2024-12-31)': the figure as written, what it counts, when."""
    when = f" (as of {f.as_of.isoformat()})" if f.as_of else ""
    return f"{f.text}{_noun(f)}{when}"


def _noun(f: Figure) -> str:
    if not f.subject or (f.unit or "").lower() in SYMBOL_UNITS:
        return f" — {f.subject}" if f.subject else ""
    if f.of_total is not None and not written_ratio(f):  # "361 of whom": 361 of 706 people
        total = int(f.of_total) if f.of_total.is_integer() else f.of_total
        return f" of {total:,} {f.subject}"
    return f" {f.subject}"


def _first_number_answer(passages: list[Passage]) -> tuple[Answer, list[str]]:
    """The naive recipe (for comparison in the eval): the first figure of the top passage."""
    for passage in passages[:1]:
        if passage.figures:
            f = passage.figures[0]
            text = f"**{f.text}** [{passage.id}]\n“{passage.text}” [{passage.id}]"
            return Answer(text=text, abstained=False, confidence=1.0, figures=[f]), [passage.id]
    return _abstain(0.0, "no figure in the top passage"), []


def _abstain(confidence: float, why: str) -> Answer:
    return Answer(text=f"{DOES_NOT_SAY} ({why}.)", abstained=True, confidence=round(confidence, 3))


def _keep_cited(passages: list[Passage], cited: list[str], top_k: int) -> list[Passage]:
    """The top_k passages, with any cited passage from further down kept in place of the last."""
    keep = passages[:top_k]
    missing = [p for p in passages[top_k:] if p.id in cited]
    if missing:
        uncited = [p for p in keep if p.id not in cited]
        drop = {p.id for p in uncited[len(uncited) - len(missing) :]}
        keep = [p for p in keep if p.id not in drop] + missing
    return keep


def _renumber(text: str, cited: list[str], passages: list[Passage]) -> str:
    """[passage id] -> [n], n the 1-based position of the passage in the result."""
    position = {p.id: i for i, p in enumerate(passages, 1)}
    return re.sub(
        r"\[([^\[\]]+#\d{4})\]",
        lambda m: f"[{position[m.group(1)]}]" if m.group(1) in position else m.group(0),
        text,
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
