"""3x3 stride-1 convolution by Winograd F(2x2, 3x3).

Implement the four functions below (see README.md for the matrices, the tiling and what is
forbidden). winograd_conv2d must call transform_filter and transform_input by these names.
"""

import torch
import torch.nn.functional as F  # noqa: F401 - F.pad is allowed (F.unfold is not)


def winograd_transforms():
    """The F(2x2, 3x3) matrices as floating tensors: (B^T (4, 4), G (4, 3), A^T (2, 4))."""
    raise NotImplementedError("winograd_transforms is not implemented yet")


def transform_filter(weight):
    """(..., 3, 3) filters g -> (..., 4, 4) U = G g G^T, in weight's dtype."""
    raise NotImplementedError("transform_filter is not implemented yet")


def transform_input(tiles):
    """(..., 4, 4) input tiles d (indexed [row, column]) -> (..., 4, 4) V = B^T d B,
    in tiles' dtype."""
    raise NotImplementedError("transform_input is not implemented yet")


def winograd_conv2d(input, weight, padding=0):
    """F.conv2d(input, weight, padding=padding) for a 3x3 kernel and stride 1, by Winograd.

    Args:
        input:   (N, C, H, W) tensor, float32 or float64, any memory layout.
        weight:  (K, C, 3, 3) tensor, same dtype.
        padding: int >= 0, zeros on every side (H + 2*padding >= 3, W likewise).

    Returns:
        (N, K, H + 2*padding - 2, W + 2*padding - 2) tensor with input's dtype, computed as
        A^T [sum over c of U ⊙ V] A per 2x2 output tile, with U = transform_filter(weight)
        and V = transform_input(tiles). The arguments must not be modified.
    """
    # TODO: pad, cut 4x4 tiles every 2 pixels, transform, multiply and sum over C,
    # transform back, stitch the 2x2 tiles together and crop.
    raise NotImplementedError("winograd_conv2d is not implemented yet")
