"""Print about 300 MB to stdout and stderr: the grader keeps a capped tail, stays within its own
memory and still grades; the honest answers keep their points."""
import os
import sys

CHUNK = ("<script>alert('flood')</script>" + "x" * 1000 + "\n") * 1000   # about 1 MB


def add(a, b):
    for _ in range(150):
        sys.stdout.write(CHUNK)
        os.write(2, CHUNK.encode())
    sys.stdout.flush()
    return a + b


def relu(t):
    return t.clamp(min=0)
