"""WRONG VARIANT: every answer right except q11: cudnn.deterministic = True makes convolutions faster.

Exactly one check (q11) must fail.

Caught by: test_q11_faster_convolution
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
    "q9": 13,
    "q10": "abc",
    "q11": "abcdegh",   # wrong: cudnn.deterministic = True makes convolutions faster
    "q12": "abc",
}
