"""WRONG: the 1x1 fast path forgets the stride (and the padding): a 1x1 kernel with stride 2
must read every other pixel. Caught by
test_pointwise_1x1_with_stride_and_padding."""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    if R == 1 and S == 1:
        out = torch.matmul(weight.reshape(K, C), input.reshape(N, C, H * W))   # (N, K, H*W)
        if bias is not None:
            out = out + bias.view(1, K, 1)
        return out.view(N, K, H, W)
    P = (H + 2 * ph - R) // sh + 1
    Q = (W + 2 * pw - S) // sw + 1
    x = F.pad(input.permute(0, 2, 3, 1), (0, 0, pw, pw, ph, ph))
    sN, sH, sW, sC = x.stride()
    cols = x.as_strided((N, P, Q, R, S, C), (sN, sH * sh, sW * sw, sH, sW, sC))
    w = weight.permute(0, 2, 3, 1).reshape(K, R * S * C)
    out = cols.reshape(N * P * Q, R * S * C) @ w.t()
    if bias is not None:
        out = out + bias
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)
