"""Wrong: branch b runs on copy.deepcopy of conv and proj: equal when built, never tied again.

Caught by: test_parameter_count, test_state_dict_keys, test_gradients_accumulate, test_update_reaches_both_branches, test_load_state_dict[copy], test_load_state_dict[assign], test_deepcopy_keeps_tied
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
        self.conv_b, self.proj_b = copy.deepcopy(self.conv), copy.deepcopy(self.proj)

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za = self.embed(a)
        zb = self.proj_b(torch.relu(self.conv_b(b)).mean(dim=(2, 3)))
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
