"""Figures and questions read into the same slots."""

import datetime as dt

import pytest

from assistant.question import understand
from assistant.slots import figure_slots, question_slots
from index.figures import extract_figures


def _read(sentence: str, text: str):
    [figure] = [f for f in extract_figures(sentence, dt.date(2024, 6, 1)) if f.text == text]
    return figure_slots(figure)


def test_a_figure_is_read_for_what_it_measures_its_event_level_year_and_role():
    staff = _read("Nationwide, 1,250 surplus staff were made redundant in 2024.", "1,250")
    assert staff.measure == {"surplus", "staff"} and "made" in staff.event
    assert (staff.level, staff.year, staff.roles) == ("national", 2024, frozenset())
    target = _read("Women ran 31% of centres, against a target of 50%.", "50%")
    assert "target" in target.roles
    result = _read("Women ran 31% of centres, against a target of 50%.", "31%")
    assert "target" not in result.roles
    rank = _read("Lithuania rose three places to 8th, with 85.9 points.", "8th")
    assert "rank" in rank.roles
    rise = _read("| Islands | 3.3 | 58.9% | +24.1% |", "+24.1%")
    assert "change" in rise.roles


@pytest.mark.parametrize(
    ("question", "level", "roles"),
    [
        ("How many surplus staff did Hanoi province cut at district level in 2024?", "district",
         {"change"}),
        ("What share of dossiers did the province target for 2025?", "province", {"target"}),
        ("What was the average waiting time at ward offices?", "commune", {"average"}),
        ("Where did Vietnam rank in the 2024 survey?", None, {"rank"}),
    ],
)  # fmt: skip
def test_a_question_is_read_into_the_same_slots(question, level, roles):
    slots = question_slots(understand(question))
    assert slots.level == level and roles <= slots.roles
