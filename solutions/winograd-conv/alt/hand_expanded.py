"""Correct, written another way: the transforms hand-expanded into additions, tiles cut with
as_strided, and the channel sum as 16 separate matrix products (one per tile position).
"""

import torch
import torch.nn.functional as F


def winograd_transforms():
    bt = torch.tensor([[1.0, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
    g = torch.tensor([[1.0, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
    at = torch.tensor([[1.0, 1, 1, 0], [0, 1, -1, -1]])
    return bt, g, at


def _rows_g(t):
    """G t along dim -2: (..., 3, n) -> (..., 4, n)."""
    t0, t1, t2 = t[..., 0, :], t[..., 1, :], t[..., 2, :]
    return torch.stack([t0, (t0 + t1 + t2) * 0.5, (t0 - t1 + t2) * 0.5, t2], dim=-2)


def transform_filter(weight):
    return _rows_g(_rows_g(weight).transpose(-1, -2)).transpose(-1, -2)


def _rows_bt(t):
    """B^T t along dim -2: (..., 4, n) -> (..., 4, n)."""
    t0, t1, t2, t3 = (t[..., i, :] for i in range(4))
    return torch.stack([t0 - t2, t1 + t2, t2 - t1, t1 - t3], dim=-2)


def transform_input(tiles):
    return _rows_bt(_rows_bt(tiles).transpose(-1, -2)).transpose(-1, -2)


def _rows_at(t):
    """A^T t along dim -2: (..., 4, n) -> (..., 2, n)."""
    t0, t1, t2, t3 = (t[..., i, :] for i in range(4))
    return torch.stack([t0 + t1 + t2, t1 - t2 - t3], dim=-2)


def winograd_conv2d(input, weight, padding=0):
    n, c, h, w = input.shape
    k = weight.shape[0]
    ho, wo = h + 2 * padding - 2, w + 2 * padding - 2
    th, tw = -(-ho // 2), -(-wo // 2)
    hp, wp = 2 * th + 2, 2 * tw + 2
    x = F.pad(input, (padding, wp - w - padding, padding, hp - h - padding)).contiguous()
    tiles = x.as_strided((n, c, th, tw, 4, 4), (c * hp * wp, hp * wp, 2 * wp, 2, wp, 1))
    v = transform_input(tiles).permute(4, 5, 1, 0, 2, 3).reshape(16, c, n * th * tw)
    u = transform_filter(weight).permute(2, 3, 0, 1).reshape(16, k, c)
    m = torch.stack([u[p] @ v[p] for p in range(16)])          # (16, K, N*th*tw)
    m = m.reshape(4, 4, k, n, th, tw).permute(3, 2, 4, 5, 0, 1)  # (N, K, th, tw, 4, 4)
    y = _rows_at(_rows_at(m).transpose(-1, -2)).transpose(-1, -2)  # (N, K, th, tw, 2, 2)
    out = y.transpose(3, 4).reshape(n, k, 2 * th, 2 * tw)
    return out[:, :, :ho, :wo]
