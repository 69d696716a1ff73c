"""A siamese encoder whose two branches share one set of weights (see README.md)."""

import torch
from torch import nn


class SiameseEncoder(nn.Module):
    """Two branches, ONE set of weights: model.conv and model.proj are used by both.

    conv: nn.Conv2d(in_channels, features, kernel_size, padding=kernel_size // 2) with a bias.
    proj: nn.Linear(features, features) with a bias.
    """

    def __init__(self, in_channels, features, kernel_size=3):
        super().__init__()
        # TODO: create self.conv and self.proj (the only parameters of the model).
        raise NotImplementedError("SiameseEncoder.__init__ is not implemented yet")

    def embed(self, x):
        """(N, in_channels, H, W) -> (N, features): proj(mean over H, W of relu(conv(x)))."""
        raise NotImplementedError("embed is not implemented yet")

    def forward(self, a, b):
        """Returns (za, zb, distance): both embeddings and their Euclidean distance, shape (N,)."""
        raise NotImplementedError("forward is not implemented yet")
