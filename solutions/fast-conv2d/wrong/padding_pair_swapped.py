"""WRONG: padding (ph, pw) read as (pw, ph), the F.pad argument-order trap (F.pad takes the
last dimension first). Equal paddings hide it; caught by test_padding_pair."""

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    x = F.pad(input.permute(0, 2, 3, 1), (0, 0, ph, ph, pw, pw))   # swapped: W gets ph
    P = (x.shape[1] - R) // sh + 1
    Q = (x.shape[2] - S) // sw + 1
    sN, sH, sW, sC = x.stride()
    cols = x.as_strided((N, P, Q, R, S, C), (sN, sH * sh, sW * sw, sH, sW, sC))
    w = weight.permute(0, 2, 3, 1).reshape(K, R * S * C)
    out = cols.reshape(N * P * Q, R * S * C) @ w.t()
    if bias is not None:
        out = out + bias
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)
