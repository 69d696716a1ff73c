"""WRONG: padding='same' split symmetrically, d*(k-1)//2 on each side.

Right for odd kernels, one pixel short for even ones (PyTorch pads the extra pixel
right/bottom). Caught by: test_padding_same_even, test_stride_padding_dilation_together.

The random checks catch it only when a draw has an even kernel with padding='same'."""

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
        return (tw // 2, tw // 2, th // 2, th // 2)
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
    out = torch.matmul(w, cols)                                        # (N, G, Kg, L)
    out = out.reshape(N, K, Ho, Wo)
    if bias is not None:
        out = out + bias.reshape(1, K, 1, 1)                           # one scalar per channel
    return out
