"""The constraints stage: hard rules of the question remove candidates, each with its reason."""

import datetime as dt

from assistant.collect import Candidate, Sentence
from assistant.constraints import apply_constraints
from assistant.question import understand
from index.figures import extract_figures
from index.types import Passage

TEXT = (
    "In 2019, the integrated offices registered 21.3 million entries. "
    "The offices registered 19.6 million entries in 2018. "
    "Running the offices cost DKK 41 million in 2019."
)


def _passage() -> Passage:
    figures = extract_figures(TEXT, dt.date(2020, 3, 1), "offices", "offices#0000")
    return Passage(
        id="offices#0000", doc_id="offices", title="Integrated offices", text=TEXT, score=0.9,
        span=(0, len(TEXT)), figures=figures,
    )  # fmt: skip


def _candidates(passage: Passage) -> tuple[Candidate, ...]:
    found = []
    for f in passage.figures:
        start = TEXT.find(f.sentence)
        sentence = Sentence(0, f.sentence, (start, start + len(f.sentence)))
        found.append(Candidate(f, sentence, 1.0, 0.0))
    return tuple(found)


def test_a_figure_dated_by_its_clause_to_another_year_than_the_one_asked_is_removed():
    passage = _passage()
    q = understand("How many entries did the integrated offices register in 2019?")
    constrained = apply_constraints(q, _candidates(passage), [passage])
    kept = [c.figure.text for c in constrained.kept]
    assert "21.3 million" in kept and "19.6 million" not in kept
    [removed] = [r for r in constrained.removed if r.candidate.figure.text == "19.6 million"]
    assert "2018" in removed.reason
    # asked about 2018, the 2018 figure stays: the rule is about the asked year, not any year
    q2018 = understand("How many entries did the integrated offices register in 2018?")
    kept2018 = apply_constraints(q2018, _candidates(passage), [passage]).kept
    assert "19.6 million" in [c.figure.text for c in kept2018]


def test_money_asked_in_any_currency_keeps_only_amounts_of_money():
    passage = _passage()
    q = understand("How many DKK did running the offices take in 2019?")
    assert q.wants_money
    constrained = apply_constraints(q, _candidates(passage), [passage])
    assert [c.figure.unit for c in constrained.kept] == ["DKK"]
    assert all("money" in r.reason for r in constrained.removed if r.candidate.figure.unit != "DKK"
               and "2018" not in r.reason)  # fmt: skip
