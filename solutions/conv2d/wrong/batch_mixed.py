"""WRONG: lays the patches of the whole batch side by side and reshapes the product in the
wrong order: images of a batch get mixed up (right for N = 1).
Violates: every image of the batch is convolved independently. Caught by: test_batches.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _padding(padding, kernel, dilation):
    """(left, right, top, bottom) zero padding, the order F.pad expects."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        # Output size = input size at stride 1. The total d*(k-1) is split with the odd
        # extra pixel on the right/bottom, exactly as PyTorch does for even kernels.
        (kh, kw), (dh, dw) = kernel, dilation
        th, tw = dh * (kh - 1), dw * (kw - 1)
        return (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    ph, pw = _pair(padding)
    return (pw, pw, ph, ph)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape                  # Cg = C // groups input channels per group
    stride, dilation = _pair(stride), _pair(dilation)

    x = F.pad(input, _padding(padding, (kh, kw), dilation))   # a new tensor: input untouched

    # cols[n, c*kh*kw + i*kw + j, l] = x[n, c, ho*sh + i*dh, wo*sw + j*dw] with l = ho*Wo + wo
    cols = F.unfold(x, (kh, kw), dilation=dilation, stride=stride)     # (N, C*kh*kw, L)
    Ho = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    Wo = (x.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1

    # Group g sees input channels [g*Cg, (g+1)*Cg) and produces outputs [g*Kg, (g+1)*Kg).
    cols = cols.reshape(N, groups, Cg * kh * kw, Ho * Wo)             # (N, G, Cg*kh*kw, L)
    w = weight.reshape(groups, K // groups, Cg * kh * kw)              # (G, Kg, Cg*kh*kw)
    cols = cols.permute(1, 2, 0, 3).reshape(groups, Cg * kh * kw, N * Ho * Wo)
    out = torch.matmul(w, cols)                                        # (G, Kg, N*L)
    out = out.reshape(N, K, Ho, Wo)                                    # should be (K, N, L)
    if bias is not None:
        out = out + bias.reshape(1, K, 1, 1)                           # one scalar per channel
    return out
