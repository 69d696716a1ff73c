"""Missing: kernel sizes other than 3. Allowed to fail: test_kernel_size[1], test_kernel_size[5]

The reference without this one feature: it raises NotImplementedError.
"""

import torch
from torch import nn


class SiameseEncoder(nn.Module):
    def __init__(self, in_channels, features, kernel_size=3):
        super().__init__()
        if kernel_size != 3:
            raise NotImplementedError("only 3x3 kernels")
        self.conv = nn.Conv2d(in_channels, features, kernel_size, padding=kernel_size // 2)
        self.proj = nn.Linear(features, features)

    def embed(self, x):
        return self.proj(torch.relu(self.conv(x)).mean(dim=(2, 3)))

    def forward(self, a, b):
        za, zb = self.embed(a), self.embed(b)        # the same modules, called twice
        return za, zb, torch.linalg.vector_norm(za - zb, dim=1)
