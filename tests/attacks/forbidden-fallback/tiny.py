"""KernelBench's try/except fallback: call the forbidden op, and when the grader refuses,
compute it by hand. Correct answers, but the attempt zeroes the exercise."""
import torch
import torch.nn.functional as F


def add(a, b):
    return a + b


def relu(t):
    try:
        return getattr(F, "re" + "lu")(t)
    except BaseException:
        return torch.where(t > 0, t, torch.zeros((), dtype=t.dtype))
