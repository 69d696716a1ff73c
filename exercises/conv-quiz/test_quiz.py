"""Public sample tests: they check that every question is answered in a readable format.
They do not know the answers; the hidden checks do."""

import re

import pytest

from quiz import ANSWERS

CHOICE = {"q1": "abcd", "q2": "abcdef", "q4": "abcde", "q8": "abcd", "q10": "abcde",
          "q11": "abcdefgh", "q12": "abcde"}
NUMBER = ["q3", "q5", "q6", "q7", "q9"]


def test_every_question_has_an_entry():
    assert set(ANSWERS) == set(CHOICE) | set(NUMBER)


@pytest.mark.parametrize("qid", sorted(CHOICE))
def test_choice_answers_are_option_letters(qid):
    value = ANSWERS[qid]
    assert value is not None, f"{qid} is unanswered"
    text = value if isinstance(value, str) else "".join(value)
    text = re.sub(r"\band\b", " ", text.lower())
    letters = re.sub(r"[\s,;/&+()\[\]'\".]+", "", text)
    assert letters and set(letters) <= set(CHOICE[qid]), f"{qid}: {value!r}"
    if qid in ("q1", "q8"):
        assert len(set(letters)) == 1, f"{qid} takes one letter"


@pytest.mark.parametrize("qid", NUMBER)
def test_number_answers_are_numbers(qid):
    value = ANSWERS[qid]
    assert value is not None, f"{qid} is unanswered"
    float(re.sub(r"[\s,_]", "", str(value)))
