"""WRONG: builds the windows with strides computed from the *shape*, as if the input were a
contiguous (N, C, H, W) tensor. Right for contiguous inputs and whenever F.pad made a fresh
copy; wrong for a transposed, sliced or channels-last input with padding 0. Caught by
test_non_contiguous."""

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    x = F.pad(input, (pw, pw, ph, ph)) if ph or pw else input     # no copy when unpadded
    Hp, Wp = x.shape[2], x.shape[3]
    P, Q = (Hp - R) // sh + 1, (Wp - S) // sw + 1
    strides = (C * Hp * Wp, Hp * Wp, Wp, 1)                       # assumed, not x.stride()
    windows = x.as_strided((N, P, Q, C, R, S),
                           (strides[0], strides[2] * sh, sw, strides[1], strides[2], 1))
    cols = windows.reshape(N * P * Q, C * R * S)
    out = cols @ weight.reshape(K, C * R * S).t()
    if bias is not None:
        out = out + bias
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)
