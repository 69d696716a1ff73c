"""sys.exit(0) while the module is imported: the grader must not read exit code 0 as success."""
import sys

sys.exit(0)


def add(a, b):
    return a + b


def relu(t):
    return t.clamp(min=0)
