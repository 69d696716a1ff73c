"""Use the forbidden op at import time (outside any check call), e.g. to precompute tables."""
import torch

TABLE = getattr(torch, "re" + "lu")(torch.linspace(-1, 1, 5))


def add(a, b):
    return a + b


def relu(t):
    return t.clamp(min=0)
