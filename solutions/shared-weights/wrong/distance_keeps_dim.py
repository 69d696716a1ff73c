"""Wrong: the distance has shape (N, 1), not (N,).

Caught by: test_distance
"""

import torch
from torch import nn


class SiameseEncoder(nn.Module):
    def __init__(self, in_channels, features, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, features, kernel_size, padding=kernel_size // 2)
        self.proj = nn.Linear(features, features)

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za, zb = self.embed(a), self.embed(b)        # the same modules, called twice
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1, keepdim=True)
