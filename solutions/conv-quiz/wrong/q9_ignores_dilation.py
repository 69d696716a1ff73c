"""WRONG VARIANT: every answer right except q9: the receptive field without the dilation.

Exactly one check (q9) must fail.

Caught by: test_q9_receptive_field
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 295168,
    "q6": 26593280,
    "q7": 34304,
    "q8": "b",
    "q9": 9,   # wrong: the receptive field without the dilation
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
