"""KeyboardInterrupt (and SystemExit) from inside the functions: pytest stops a whole session on
KeyboardInterrupt; the harness turns it into this check's failure and the others still run."""


def add(a, b):
    raise KeyboardInterrupt


def relu(t):
    raise SystemExit(0)
