"""The fitted decision (assistant/decision.py) and the language gate (assistant/language.py), over
the fixture corpus with the real model; the conditional logit and the threshold search of
eval/fit_decision.py on made-up numbers."""

import json

import numpy as np
import pytest

from assistant.answering import Assistant
from assistant.collect import Candidate
from assistant.decide import _conflicts
from assistant.decision import (
    MODEL_PATH,
    DecisionModel,
    ModelMismatch,
    Scored,
    agreeing_mass,
    load_model,
)
from assistant.features import FEATURES
from assistant.language import unreadable_language
from assistant.retriever import Retriever
from assistant.tuning import CONFLICT_SHARE
from eval.fit_decision import Asked, ConditionalLogit, choose_threshold, reliability
from index.types import Figure


@pytest.fixture(scope="module")
def assistant(fixture_settings, embedder) -> Assistant:
    retriever = Retriever.load(fixture_settings)
    retriever.embedder = embedder
    return Assistant(retriever)


def test_the_shipped_model_names_its_features_calibration_and_threshold():
    body = json.loads(MODEL_PATH.read_text())
    assert tuple(body["features"]) == FEATURES and len(body["coef"]) == len(FEATURES)
    model = load_model()
    assert 0.0 < model.threshold < 1.0
    ys = model.calibrated(np.linspace(0, 1, 101))
    assert np.all(np.diff(ys) >= 0) and ys.min() >= 0.0 and ys.max() <= 1.0


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    body = json.loads(MODEL_PATH.read_text())
    body["features"] = body["features"][:-1]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(body))
    with pytest.raises(ModelMismatch, match="refit"):
        DecisionModel.load(path)


def test_candidates_are_ranked_by_the_model_and_the_answer_carries_the_best_chance(assistant):
    result = assistant.ask(
        "How many land-use certificates are stored as electronic records?", trace=True
    )
    trace = result.trace
    assert trace.ranked and len(trace.ranked) == len(trace.chances) == len(trace.candidates)
    assert trace.chances == sorted(trace.chances, reverse=True)
    answer = result.answer
    assert not answer.abstained and answer.confidence == pytest.approx(trace.chances[0], abs=1e-3)
    assert answer.figures[0].value == trace.ranked[0].figure.value


def test_the_neutral_model_never_gives_a_figure(fixture_settings, embedder):
    retriever = Retriever.load(fixture_settings)
    retriever.embedder = embedder
    neutral = Assistant(retriever, DecisionModel.neutral())
    result = neutral.ask("How many land-use certificates are stored as electronic records?")
    assert not result.answer.figures


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Đến năm 2023 đã cấp bao nhiêu thẻ căn cước?", "Vietnamese"),
        ("Сколько карт было выдано?", "Cyrillic script"),
    ],
)
def test_a_question_in_another_language_is_declined_by_name_with_no_passages(
    assistant, question, language
):
    result = assistant.ask(question)
    assert result.answer.abstained and language in result.answer.text
    assert "English" in result.answer.text and result.passages == []
    assert not result.answer.figures and result.answer.citations == []


def test_vietnamese_place_names_in_an_english_question_are_english():
    english = "How many ID cards were issued in Hà Nội and Thừa Thiên Huế?"
    assert unreadable_language(english) is None
    assert unreadable_language("How many submarines does the navy operate?") is None


def test_the_threshold_is_where_giving_the_figure_earns_most_end_to_end():
    p = np.array([0.9, 0.8, 0.6, 0.4, 0.2])
    right = np.array([1, 1, 0, 1, 0])
    declines = np.zeros(5)
    cut = choose_threshold(p, right, declines)
    # giving the 0.6 figure (wrong) and the 0.4 one (right) nets 0; the first cut wins the tie
    assert cut == pytest.approx(0.7)
    # when a quoted sentence would have been right for the 0.6 and 0.4 questions, stop higher
    assert choose_threshold(p, right, np.array([0, 0, 1, 1, 0])) == pytest.approx(0.7)
    assert choose_threshold(p, np.zeros(5), declines) == 1.0  # never worth it: never answer


def test_the_reliability_table_bins_confidence_against_the_share_right():
    table = reliability(np.array([0.05, 0.08, 0.95, 0.92]), np.array([0, 0, 1, 0]))
    assert [row["n"] for row in table] == [2, 2]
    assert table[1]["right"] == 0.5 and table[1]["confidence"] == pytest.approx(0.935)


def test_the_threshold_never_cuts_inside_a_tie_of_calibrated_chances():
    # the isotonic map gives the middle three the same chance: answering any of them answers all
    p = np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    right = np.array([1, 1, 0, 0, 0])
    cut = choose_threshold(p, right, np.zeros(5))
    # answering the tie nets -1 (one right, two wrong): the cut is above it, not inside it
    assert cut == pytest.approx(0.7)
    assert choose_threshold(p, np.array([1, 1, 1, 0, 0]), np.zeros(5)) == pytest.approx(0.3)


def _made_up_question(rng, n: int, right: int | None, wants_figure: bool) -> Asked:
    rows = rng.normal(size=(n, len(FEATURES)))
    rows[:, FEATURES.index("wants_figure")] = float(wants_figure)
    if right is not None:
        rows[right, FEATURES.index("support")] += 4.0
    labels = np.zeros(n, dtype=np.int8)
    if right is not None:
        labels[right] = 1
    asked = Asked(f"q{rng.integers(1e9)}", "doc", None, [], labels)
    asked._rows = rows
    return asked


def test_the_conditional_logit_ranks_the_right_candidate_first_and_learns_none_of_these():
    rng = np.random.default_rng(0)
    # questions that want a figure have a right candidate (it stands out on support); the
    # others have none: the fit must learn both which candidate, and when none is
    train = [_made_up_question(rng, 8, int(rng.integers(8)), True) for _ in range(150)]
    train += [_made_up_question(rng, 8, None, False) for _ in range(150)]
    model = ConditionalLogit().fit(train)
    answerable = _made_up_question(rng, 8, 5, True)
    p = model.probabilities(answerable.rows)
    assert int(np.argmax(p)) == 5 and p[5] > 0.5 and p.sum() < 1.0
    unanswerable = _made_up_question(rng, 8, None, False)
    assert model.probabilities(unanswerable.rows).sum() < 0.2  # "none of these" takes the rest
    served = model.as_model(threshold=0.5)
    assert np.allclose(served.raw(answerable.rows), p)


def _candidate(value: float, subject: str, doc: str) -> Candidate:
    figure = Figure(value=value, text=str(value), unit="cards", subject=subject,
                    sentence=f"{value} {subject}", span=(0, 1), doc_id=doc,
                    chunk_id=f"{doc}#0")  # fmt: skip
    return Candidate(figure=figure, sentence=None, score=0.0, time_fit=0.0)


def test_the_answer_chance_adds_the_candidates_that_give_the_same_quantity():
    candidate = _candidate
    found = [
        candidate(78e6, "identity cards", "a"),
        candidate(76e6, "identity cards", "b"),
        candidate(60e6, "identity cards", "c"),
        candidate(77e6, "land certificates", "d"),
    ]
    raw = np.array([0.4, 0.3, 0.1, 0.1])
    # 76 million agrees with 78 million; 60 million is too far, land certificates another thing
    assert agreeing_mass(found, raw, 0) == pytest.approx(0.7)
    assert agreeing_mass(found, raw, 2) == pytest.approx(0.1)


def test_another_document_s_figure_that_the_answer_s_chance_counted_is_shown_beside_it():
    ranked = (
        _candidate(76e6, "identity cards", "a"),
        _candidate(78e6, "identity cards", "b"),  # within a tenth: it agrees, however unlikely
        _candidate(50e6, "identity cards", "c"),  # as unlikely, and too far to agree
        _candidate(60e6, "identity cards", "d"),  # far, but likely enough on its own
    )
    scored = Scored(ranked, (0.76, 0.01, 0.01, 0.2))
    shown = [c.figure.value for c in _conflicts(scored, CONFLICT_SHARE * 0.76)]
    assert shown == [78e6, 60e6]
