"""Alternative: both inputs in ONE batch through the shared encoder (torch.cat), then split;
the layers are built from a Sequential-free helper and the distance is written out."""

import torch
from torch import nn


class SiameseEncoder(nn.Module):
    def __init__(self, in_channels, features, kernel_size=3):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, features, kernel_size, stride=1,
                              padding=(kernel_size // 2, kernel_size // 2), bias=True)
        self.proj = nn.Linear(features, features, bias=True)

    def embed(self, x):
        hidden = self.conv(x).clamp_min(0)
        return self.proj(hidden.flatten(2).mean(-1))

    def forward(self, a, b):
        za, zb = self.embed(torch.cat([a, b])).split(a.shape[0])
        return za, zb, ((za - zb) ** 2).sum(dim=-1).sqrt()
