"""conv2d with an explicit strided window view and one einsum (no unfold, no loops).

`as_strided` builds a (N, C, Ho, Wo, kh, kw) view of the padded input whose element
[n, c, y, x, i, j] is padded[n, c, y*sh + i*dh, x*sw + j*dw]; no data is copied until the
einsum contracts channels and taps against the weight.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _pads(padding, kh, kw, dh, dw):
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    ph, pw = _pair(padding)
    return (pw, pw, ph, ph)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    x = F.pad(input, _pads(padding, kh, kw, dh, dw)).contiguous()   # (N, C, Hp, Wp)
    Hp, Wp = x.shape[2], x.shape[3]
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1

    sN, sC, sH, sW = x.stride()
    windows = x.as_strided((N, C, Ho, Wo, kh, kw),
                           (sN, sC, sH * sh, sW * sw, sH * dh, sW * dw))
    windows = windows.reshape(N, groups, Cg, Ho, Wo, kh, kw)          # copy happens here
    w = weight.reshape(groups, K // groups, Cg, kh, kw)
    out = torch.einsum("ngcyxij,gkcij->ngkyx", windows, w).reshape(N, K, Ho, Wo)
    if bias is not None:
        out = out + bias.reshape(1, K, 1, 1)
    return out
