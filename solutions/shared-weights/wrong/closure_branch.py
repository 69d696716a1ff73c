"""Wrong: branch b is a lambda closing over the original conv and proj. copy.deepcopy copies
functions by reference, so a deep copy's branch b still runs the ORIGINAL's modules.

Caught by: test_deepcopy_keeps_tied
"""
import copy

import torch
from torch import nn
import torch.nn.functional as F


class SiameseEncoder(nn.Module):
    def __init__(self, in_channels, features, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, features, kernel_size, padding=kernel_size // 2)
        self.proj = nn.Linear(features, features)
        conv, proj = self.conv, self.proj
        self._branch_b = lambda x: proj(torch.relu(conv(x)).mean(dim=(2, 3)))

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za, zb = self.embed(a), self._branch_b(b)
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
