"""WRONG VARIANT: every answer right except q12: the activation is what makes the network differentiable.

Exactly one check (q12) must fail.

Caught by: test_q12_bias_and_activation
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
    "q11": "abcegh",
    "q12": "abcd",   # wrong: the activation is what makes the network differentiable
}
