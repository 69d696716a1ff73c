"""WRONG: reshapes the caller's bias in place (bias.unsqueeze_(0), "saves a view"), so the
caller's (K,) bias comes back as (1, K). The output is right. Caught by test_bias (the bias is left unchanged).
"""

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    P = (H + 2 * ph - R) // sh + 1
    Q = (W + 2 * pw - S) // sw + 1
    x = F.pad(input.permute(0, 2, 3, 1), (0, 0, pw, pw, ph, ph))
    sN, sH, sW, sC = x.stride()
    cols = x.as_strided((N, P, Q, R, S, C), (sN, sH * sh, sW * sw, sH, sW, sC))
    w = weight.permute(0, 2, 3, 1).reshape(K, R * S * C)
    out = cols.reshape(N * P * Q, R * S * C) @ w.t()
    if bias is not None:
        out = out + bias.unsqueeze_(0)                  # (1, K), broadcast over the rows
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)
