"""WRONG VARIANT: every answer right except q4: dilation multiplies the number of weights.

Exactly one check (q4) must fail.

Caught by: test_q4_stride_padding_dilation
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abcd",   # wrong: dilation multiplies the number of weights
    "q5": 295168,
    "q6": 26593280,
    "q7": 34304,
    "q8": "b",
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
