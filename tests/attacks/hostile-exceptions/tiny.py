"""Exceptions whose __str__ raises, whose class name is HTML, and pytest's own outcome
exceptions (skip, exit) raised from candidate code to make checks "skipped" instead of failed."""
import _pytest.outcomes


class Evil(Exception):
    def __str__(self):
        raise RuntimeError("str() refuses")


Evil.__name__ = "<script>alert('exc')</script>"


def add(a, b):
    raise _pytest.outcomes.Skipped("skipped by the candidate")


def relu(t):
    if t.dtype.is_floating_point and t.numel() > 5:
        raise _pytest.outcomes.Exit("stop the session")
    raise Evil()
