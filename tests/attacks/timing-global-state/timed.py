"""Skew the race through global state: one thread for everyone, float64 by default, oneDNN off,
grad mode on, a slow torch.relu for the reference; our own kernel is slow (a stand-in). The
grader resets the state before each timed block and keeps its own reference."""
import time

import torch


def relu(t):
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    torch.backends.mkldnn.enabled = False
    torch.set_flush_denormal(True)
    time.sleep(0.3)     # a slow kernel: 300 ms against well under 30 ms
    return t.clamp(min=0)
