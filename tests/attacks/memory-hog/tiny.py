"""Allocate tens of GB: one 20 GB tensor, then 500 MB chunks until something gives. The
address-space limit (2 GiB for this exercise) refuses it at once; the machine never swaps, and
the message names the limit."""
import torch

_hoard = []


def add(a, b):
    big = torch.empty(5 * 2**30, dtype=torch.float32)      # 20 GiB
    big.fill_(1.0)
    return a + b


def relu(t):
    while True:
        _hoard.append(torch.ones(128 * 2**20))             # 512 MiB per step
