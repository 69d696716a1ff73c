"""WRONG VARIANT: every answer right except q6: the depthwise conv counted as a full 128 -> 256 conv.

Exactly one check (q6) must fail.

Caught by: test_q6_separable_macs
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 295168,
    "q6": 256901120,   # wrong: the depthwise conv counted as a full 128 -> 256 conv
    "q7": 34304,
    "q8": "b",
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
