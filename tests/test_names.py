"""assistant.names: a demonym points at its country, both ways, irregular ones by a table."""

import pytest

from assistant.names import name_forms


@pytest.mark.parametrize(
    ("name", "form"),
    [("korean", "korea"), ("moroccan", "morocco"), ("finnish", "finland"), ("germans", "german"),
     ("uruguayans", "uruguay"), ("indonesian", "indonesia"), ("colombia", "colombian"),
     ("italy", "italian"), ("french", "france")],
)  # fmt: skip
def test_a_demonym_and_its_country_are_forms_of_one_name(name, form):
    assert form in name_forms(name)


def test_the_name_itself_comes_first_and_short_stems_are_not_made():
    assert name_forms("thai")[0] == "thai" and "thailand" in name_forms("thai")
    assert name_forms("lao") == ("lao", "laos")  # no stems under four letters
