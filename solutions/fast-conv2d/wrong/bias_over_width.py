"""WRONG: adds the bias to an (N, K, P, Q) output without reshaping it, so it broadcasts over
the last dimension (width) instead of the channels: an error, or silently wrong when Q == K.
Caught by test_bias."""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    cols = F.unfold(input, (R, S), padding=padding, stride=stride)    # (N, C*R*S, P*Q)
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
    P = (H + 2 * padding[0] - R) // stride[0] + 1
    Q = (W + 2 * padding[1] - S) // stride[1] + 1
    out = (weight.reshape(K, C * R * S) @ cols).view(N, K, P, Q)
    if bias is not None:
        out = out + bias
    return out
