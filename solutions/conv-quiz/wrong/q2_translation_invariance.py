"""WRONG VARIANT: every answer right except q2: convolution is translation-invariant, not only equivariant.

Exactly one check (q2) must fail.

Caught by: test_q2_conv_properties
"""

ANSWERS = {
    "q1": "b",
    "q2": "abdef",   # wrong: convolution is translation-invariant, not only equivariant
    "q3": 24,
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
