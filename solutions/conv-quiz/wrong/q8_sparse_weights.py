"""WRONG VARIANT: every answer right except q8: separable convs are cheap because most weights are zero.

Exactly one check (q8) must fail.

Caught by: test_q8_why_separable_is_cheaper
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 295168,
    "q6": 26593280,
    "q7": 34304,
    "q8": "d",   # wrong: separable convs are cheap because most weights are zero
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
