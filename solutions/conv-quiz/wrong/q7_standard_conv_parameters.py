"""WRONG VARIANT: every answer right except q7: a standard 3 x 3 conv's parameter count.

Exactly one check (q7) must fail.

Caught by: test_q7_separable_parameters
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 295168,
    "q6": 26593280,
    "q7": 295168,   # wrong: a standard 3 x 3 conv's parameter count
    "q8": "b",
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
