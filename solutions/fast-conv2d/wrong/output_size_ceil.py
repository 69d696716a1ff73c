"""WRONG: output size rounded up, ceil((H + 2p - R) / s) + 1, and windows clamped into the
image. Identical whenever the stride divides evenly; caught by test_stride_int and
test_stride_pair (shape) on sizes that do not divide."""

import math

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    P = math.ceil((H + 2 * ph - R) / sh) + 1
    Q = math.ceil((W + 2 * pw - S) / sw) + 1
    # pad enough on the bottom/right that the last (partial) window exists
    extra_h = (P - 1) * sh + R - (H + 2 * ph)
    extra_w = (Q - 1) * sw + S - (W + 2 * pw)
    x = F.pad(input.permute(0, 2, 3, 1), (0, 0, pw, pw + extra_w, ph, ph + extra_h))
    sN, sH, sW, sC = x.stride()
    cols = x.as_strided((N, P, Q, R, S, C), (sN, sH * sh, sW * sw, sH, sW, sC))
    w = weight.permute(0, 2, 3, 1).reshape(K, R * S * C)
    out = cols.reshape(N * P * Q, R * S * C) @ w.t()
    if bias is not None:
        out = out + bias
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)
