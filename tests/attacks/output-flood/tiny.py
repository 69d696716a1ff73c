"""Print about 300 MB to stdout and stderr: the grader keeps a capped tail, stays within its own
memory and still grades; the honest answers keep their points. Once per process (the first
call): every Hypothesis example flooding again only measures the machine's load against the
fixture's 10 s limit."""
import os
import sys

CHUNK = ("<script>alert('flood')</script>" + "x" * 1000 + "\n") * 1000   # about 1 MB


_flooded = []


def add(a, b):
    for _ in range(0 if _flooded else 150):
        sys.stdout.write(CHUNK)
        os.write(2, CHUNK.encode())
    sys.stdout.flush()
    _flooded.append(True)
    return a + b


def relu(t):
    return t.clamp(min=0)
