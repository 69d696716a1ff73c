"""WRONG: Y = A^T M^T A: every 2x2 output tile comes from the transposed M.
Violates: Y = A^T M A. Caught by: test_basic.
"""

import torch
import torch.nn.functional as F

_BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
_G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]
_AT = [[1, 1, 1, 0], [0, 1, -1, -1]]


def winograd_transforms(dtype=torch.float64):
    """(B^T (4, 4), G (4, 3), A^T (2, 4)) of F(2x2, 3x3)."""
    return (torch.tensor(_BT, dtype=dtype), torch.tensor(_G, dtype=dtype),
            torch.tensor(_AT, dtype=dtype))


def transform_filter(weight):
    """(..., 3, 3) filters -> (..., 4, 4): U = G g G^T, in weight's dtype."""
    _, G, _ = winograd_transforms(weight.dtype)
    return G @ weight @ G.T


def transform_input(tiles):
    """(..., 4, 4) input tiles -> (..., 4, 4): V = B^T d B, in tiles' dtype."""
    BT, _, _ = winograd_transforms(tiles.dtype)
    return BT @ tiles @ BT.T


def winograd_conv2d(input, weight, padding=0):
    N, C, H, W = input.shape
    K = weight.shape[0]
    Ho, Wo = H + 2 * padding - 2, W + 2 * padding - 2
    th, tw = (Ho + 1) // 2, (Wo + 1) // 2                 # tiles per column and per row
    # zeros around the image (padding), plus one more row / column when Ho / Wo is odd
    x = F.pad(input, (padding, padding + 2 * tw - Wo, padding, padding + 2 * th - Ho))
    tiles = x.unfold(2, 4, 2).unfold(3, 4, 2)              # (N, C, th, tw, 4, 4), overlap 2
    V = transform_input(tiles)
    U = transform_filter(weight)                           # (K, C, 4, 4)
    M = torch.einsum("kcij,ncabij->nkabij", U, V)          # the sum over channels
    _, _, AT = winograd_transforms(input.dtype)
    Y = AT @ M.transpose(-1, -2) @ AT.T                                      # (N, K, th, tw, 2, 2)
    out = Y.permute(0, 1, 2, 4, 3, 5).reshape(N, K, 2 * th, 2 * tw)
    return out[:, :, :Ho, :Wo]
