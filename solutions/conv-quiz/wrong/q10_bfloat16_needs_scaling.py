"""WRONG VARIANT: every answer right except q10: bfloat16 needs loss scaling even more than float16.

Exactly one check (q10) must fail.

Caught by: test_q10_mixed_precision
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
    "q10": "abcd",   # wrong: bfloat16 needs loss scaling even more than float16
    "q11": "abcegh",
    "q12": "abc",
}
