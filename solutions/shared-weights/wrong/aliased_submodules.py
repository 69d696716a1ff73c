"""Wrong: registers the shared modules a second time (self.conv_b = self.conv): truly shared,
but state_dict then holds two copies, and loading the four documented keys fails.

Caught by: test_state_dict_keys, test_load_state_dict[copy], test_load_state_dict[assign]
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
        self.conv_b, self.proj_b = self.conv, self.proj

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za = self.embed(a)
        zb = self.proj_b(torch.relu(self.conv_b(b)).mean(dim=(2, 3)))
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
