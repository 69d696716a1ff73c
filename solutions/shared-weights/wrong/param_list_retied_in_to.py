"""Wrong: branch b reads the shared Parameters from a plain Python list, re-tied in an
overridden .to(). Fine while conversion keeps the Parameter objects; .double() under
overwrite mode and load_state_dict(assign=True) replace them, and the list keeps the old ones.

Caught by: test_load_state_dict[assign], test_conversion[double-overwrite]
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
        self._retie()

    def _retie(self):
        self._shared = [self.conv.weight, self.conv.bias, self.proj.weight, self.proj.bias]

    def to(self, *args, **kwargs):
        out = super().to(*args, **kwargs)
        self._retie()
        return out

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        w, bias, pw, pb = self._shared
        za = self.embed(a)
        zb = F.linear(torch.relu(F.conv2d(b, w, bias, padding=self.conv.padding)).mean(dim=(2, 3)), pw, pb)
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
