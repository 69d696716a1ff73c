"""A small CNN for 8x8 handwritten digits.

Fill in `build_model` and `fit`. Read README.md for the full task.
"""

import torch
import torch.nn as nn


def build_model() -> nn.Module:
    """Return a new, untrained CNN.

    The model maps images (N, 1, 8, 8), float32 in [0, 1], to logits (N, 10), float32.
    It must use at least one nn.Conv2d with a kernel larger than 1x1 in its forward pass
    and have at most 50,000 parameters.
    """
    # TODO: define the layers (conv -> activation -> pool ... -> linear)
    raise NotImplementedError("build_model")


def fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> nn.Module:
    """Train `model` on the training images and return the trained model.

    Args:
        model: what build_model() returned.
        images: (N, 1, 8, 8) float32 in [0, 1]   (N = 1,297 in grading)
        labels: (N,) int64 in 0..9

    Returns:
        The trained model (usually `model` itself). It must finish within 60 s on 2 CPU cores.
    """
    # TODO: optimizer, mini-batches, shuffling, epochs, cross-entropy loss
    raise NotImplementedError("fit")
