"""WRONG VARIANT: every answer right except q3: the right figure written in words, which is not a number.

Exactly one check (q3) must fail.

Caught by: test_q3_output_size
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": "twenty-four",   # wrong: the right figure written in words, which is not a number
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
