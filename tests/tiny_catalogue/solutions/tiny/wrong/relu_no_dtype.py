"""Wrong: relu returns float32 whatever the input dtype.

Caught by: test_relu_dtype
"""


def add(a, b):
    return a + b


def relu(t):
    return t.float().clamp(min=0)
