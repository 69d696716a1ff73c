"""WRONG VARIANT: every answer right except q5: the weights without the 256 biases.

Exactly one check (q5) must fail.

Caught by: test_q5_parameter_count
"""

ANSWERS = {
    "q1": "b",
    "q2": "abde",
    "q3": 24,
    "q4": "abd",
    "q5": 294912,   # wrong: the weights without the 256 biases
    "q6": 26593280,
    "q7": 34304,
    "q8": "b",
    "q9": 13,
    "q10": "abc",
    "q11": "abcegh",
    "q12": "abc",
}
