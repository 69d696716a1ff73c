"""Wrong: ties branch b by assigning .data once: two Parameters on one storage. Values and
in-place updates agree, but each Parameter gets only its own branch's gradient, both are
counted and saved, and .to() gives each its own new storage.

Caught by: test_parameter_count, test_state_dict_keys, test_gradients_accumulate, test_load_state_dict[copy], test_load_state_dict[assign], test_conversion[to-float64-default], test_conversion[double-default]
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
        self.conv_b = nn.Conv2d(in_channels, features, kernel_size, padding=kernel_size // 2)
        self.proj_b = nn.Linear(features, features)
        for mine, theirs in ((self.conv_b, self.conv), (self.proj_b, self.proj)):
            mine.weight.data = theirs.weight.data
            mine.bias.data = theirs.bias.data

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za = self.embed(a)
        zb = self.proj_b(torch.relu(self.conv_b(b)).mean(dim=(2, 3)))
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
