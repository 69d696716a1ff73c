"""time.sleep(1e9) at import time."""
import time

time.sleep(1e9)


def add(a, b):
    return a + b


def relu(t):
    return t.clamp(min=0)
