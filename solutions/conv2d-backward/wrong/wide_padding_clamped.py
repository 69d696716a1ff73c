"""WRONG: the textbook full-convolution grad_input with the border d*(k-1) - p clamped at 0: when
the padding is wider than the dilated kernel the border must be negative (a crop).
Violates: padding wider than the kernel. Caught by: test_padding (padding 3, 3x3 kernel).
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    _, _, Ho, Wo = grad_output.shape
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    G, Kg = groups, K // groups

    # ---- grad_input (N, C, H, W)
    up = grad_output.new_zeros(N, K, (Ho - 1) * sh + 1, (Wo - 1) * sw + 1)
    up[:, :, ::sh, ::sw] = grad_output                                # zero-upsampled
    extra_h = H - ((Ho - 1) * sh - 2 * ph + dh * (kh - 1) + 1)        # rows never read
    extra_w = W - ((Wo - 1) * sw - 2 * pw + dw * (kw - 1) + 1)
    top, left = max(0, dh * (kh - 1) - ph), max(0, dw * (kw - 1) - pw)
    up = F.pad(up, (left, left + extra_w, top, top + extra_h))
    # (K, Cg, kh, kw) -> per group swap in/out channels -> (C, Kg, kh, kw), taps flipped
    w_t = weight.reshape(G, Kg, Cg, kh, kw).transpose(1, 2).reshape(C, Kg, kh, kw)
    grad_input = F.conv2d(up, w_t.flip(-2, -1), dilation=(dh, dw), groups=G)

    # ---- grad_weight (K, Cg, kh, kw)
    xp = F.pad(input, (pw, pw, ph, ph)).reshape(N, G, Cg, H + 2 * ph, W + 2 * pw)
    go = grad_output.reshape(N, G, Kg, Ho, Wo)
    taps = []
    for i in range(kh):
        for j in range(kw):
            patch = xp[..., i * dh:i * dh + sh * (Ho - 1) + 1:sh,
                       j * dw:j * dw + sw * (Wo - 1) + 1:sw]            # (N, G, Cg, Ho, Wo)
            taps.append(torch.einsum("ngkyx,ngcyx->gkc", go, patch))  # (G, Kg, Cg)
    grad_weight = torch.stack(taps, dim=-1).reshape(K, Cg, kh, kw)

    grad_bias = grad_output.sum(dim=(0, 2, 3))
    return grad_input, grad_weight, grad_bias
