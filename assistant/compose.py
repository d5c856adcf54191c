"""Stage 8, compose: the decision written out as an Answer, with its passages.

No generative model: every word of evidence is quoted from a returned passage, so no number can
be altered. The text cites `[n]` for `passages[n-1]` of the result; the same quotes, figures and
reason are in the Answer's structured fields, which the chat renders from.
"""

from __future__ import annotations

import re

from assistant.collect import Candidate, Sentence
from assistant.decide import Decision
from assistant.ranking import SYMBOL_UNITS, written_ratio
from index.types import Answer, Figure, Passage, Quote

DOES_NOT_SAY = "The documents do not say."


def compose(
    decision: Decision, passages: list[Passage], top_k: int
) -> tuple[Answer, list[Passage]]:
    """The answer, and the top_k passages it is given with (every cited one among them)."""
    return finish(*_written(decision, passages), passages, top_k)


def finish(
    answer: Answer, cited: list[str], passages: list[Passage], top_k: int
) -> tuple[Answer, list[Passage]]:
    """An answer citing passage ids, renumbered over the top_k passages it is given with."""
    shown = _keep_cited(passages, cited, top_k)
    citations = [p.id for p in shown if p.id in cited]
    text = _renumber(answer.text, shown)
    return answer.model_copy(update={"text": text, "citations": citations}), shown


def _written(decision: Decision, passages: list[Passage]) -> tuple[Answer, list[str]]:
    if decision.kind == "figure":
        return _figure_answer(decision, passages)
    if decision.kind == "sentence":
        return _sentence_answer(decision, passages)
    answer = declined(decision.reason, decision.confidence)
    closest = decision.closest
    if closest is None:
        return answer, []
    pid = _id(closest.sentence, passages)
    text = f"{answer.text} Closest, not the answer: {line_of(closest.figure)} [{pid}]."
    return answer.model_copy(update={"text": text, "closest": closest.figure}), [pid]


def declined(reason: str, confidence: float = 0.0) -> Answer:
    return Answer(
        text=f"{DOES_NOT_SAY} ({reason}.)",
        abstained=True,
        confidence=round(confidence, 3),
        reason=reason,
    )


def _figure_answer(decision: Decision, passages: list[Passage]) -> tuple[Answer, list[str]]:
    chosen = decision.figures
    cited = list(dict.fromkeys(_id(c.sentence, passages) for c in chosen))
    answer = Answer(
        text=_figures_text(chosen, passages),
        abstained=False,
        confidence=decision.confidence,
        figures=[c.figure for c in chosen],
        conflicts=[c.figure for c in decision.conflicts],
        quotes=_quotes([c.sentence for c in chosen], passages),
    )
    return answer, cited


def _sentence_answer(decision: Decision, passages: list[Passage]) -> tuple[Answer, list[str]]:
    chosen = decision.quoted
    cited = list(dict.fromkeys(_id(s, passages) for s in chosen))
    lines = [f"“{s.text}” [{_id(s, passages)}]" for s in chosen]
    answer = Answer(
        text="\n".join(lines),
        abstained=False,
        confidence=decision.confidence,
        quotes=_quotes(list(chosen), passages),
    )
    return answer, cited


def _quotes(sentences: list[Sentence], passages: list[Passage]) -> list[Quote]:
    """Each quoted sentence once, in order."""
    seen: set[tuple[str, str]] = set()
    quotes = []
    for s in sentences:
        pid = _id(s, passages)
        if (pid, s.text) not in seen:
            seen.add((pid, s.text))
            quotes.append(Quote(text=s.text, passage_id=pid, span=s.span))
    return quotes


def _figures_text(chosen: tuple[Candidate, ...], passages: list[Passage]) -> str:
    def line(c: Candidate) -> str:
        f = c.figure
        return f"**{f.text}**{_noun(f)}{_when(f)} [{_id(c.sentence, passages)}]"

    if len(chosen) == 1:
        c = chosen[0]
        return f"{line(c)}.\n“{c.sentence.text}” [{_id(c.sentence, passages)}]"
    parts = ["The documents give different figures:"]
    parts += [f"- {line(c)}: “{c.sentence.text}”" for c in chosen]
    return "\n".join(parts)


def line_of(f: Figure) -> str:
    """'1,250 surplus staff (as of 2024-12-31)': the figure as written, what it counts, when."""
    return f"{f.text}{_noun(f)}{_when(f)}"


def _when(f: Figure) -> str:
    return f" (as of {f.as_of.isoformat()})" if f.as_of else ""


def _noun(f: Figure) -> str:
    if not f.subject or (f.unit or "").lower() in SYMBOL_UNITS:
        return f" — {f.subject}" if f.subject else ""
    if f.of_total is not None and not written_ratio(f):  # "361 of whom": 361 of 706 people
        total = int(f.of_total) if f.of_total.is_integer() else f.of_total
        return f" of {total:,} {f.subject}"
    return f" {f.subject}"


def _id(sentence: Sentence, passages: list[Passage]) -> str:
    return passages[sentence.passage].id


def _keep_cited(passages: list[Passage], cited: list[str], top_k: int) -> list[Passage]:
    """The top_k passages, with any cited passage from further down kept in place of the last."""
    keep = passages[:top_k]
    missing = [p for p in passages[top_k:] if p.id in cited]
    if missing:
        uncited = [p for p in keep if p.id not in cited]
        drop = {p.id for p in uncited[len(uncited) - len(missing) :]}
        keep = [p for p in keep if p.id not in drop] + missing
    return keep


def _renumber(text: str, passages: list[Passage]) -> str:
    """[passage id] -> [n], n the 1-based position of the passage in the result."""
    position = {p.id: i for i, p in enumerate(passages, 1)}
    return re.sub(
        r"\[([^\[\]]+#\d{4})\]",
        lambda m: f"[{position[m.group(1)]}]" if m.group(1) in position else m.group(0),
        text,
    )
