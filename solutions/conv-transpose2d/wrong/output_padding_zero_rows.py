"""WRONG: output_padding appends rows of zeros, instead of keeping the rows the scatter
put there (the ones padding would have cropped). Right when padding is 0.
Violates: output_padding rows hold the scatter's values. Caught by: test_output_padding, test_all_together.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    N, C, H, W = input.shape
    Kg, kh, kw = weight.shape[1:]                 # Kg = C_out // groups outputs per group
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    oh, ow = _pair(output_padding)
    dh, dw = _pair(dilation)
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1

    # cols[n, g*Kg + k, i, j, y, x] = sum over c in group g of weight[c, k, i, j] * input[n, c, y, x]
    x = input.reshape(N, groups, C // groups, H * W)
    w = weight.reshape(groups, C // groups, Kg * kh * kw).transpose(1, 2)
    cols = torch.matmul(w, x).reshape(N, groups * Kg, kh, kw, H, W)

    # The full canvas before cropping: row y*sh + i*dh for every tap; output_padding adds rows
    # (and columns) at the bottom (right) that may stay zero.
    canvas = input.new_zeros(N, groups * Kg, (H - 1) * sh + dh * (kh - 1) + 1 + oh,
                             (W - 1) * sw + dw * (kw - 1) + 1 + ow)
    for i in range(kh):
        for j in range(kw):
            canvas[:, :, i * dh:i * dh + (H - 1) * sh + 1:sh,
                   j * dw:j * dw + (W - 1) * sw + 1:sw] += cols[:, :, i, j]
    out = F.pad(canvas[:, :, ph:ph + Ho - oh, pw:pw + Wo - ow], (0, ow, 0, oh))     # padding crops ph rows off the top and bottom
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out
