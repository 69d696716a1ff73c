"""WRONG VARIANT: every answer right except q1: a letter q1 does not offer (graded wrong, with a message).

Exactly one check (q1) must fail.

Caught by: test_q1_cross_correlation
"""

ANSWERS = {
    "q1": "e",   # wrong: a letter q1 does not offer (graded wrong, with a message)
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 295168,
    "q6": 26593280,
    "q7": 34304,
    "q8": "b",
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
