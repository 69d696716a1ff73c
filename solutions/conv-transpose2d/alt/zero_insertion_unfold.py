"""Correct, written another way: transposed convolution as an ordinary convolution.

Insert sh-1 zeros between input rows (sw-1 between columns), pad by dh*(kh-1) - ph on top and
that + oh at the bottom (F.pad crops when the amount is negative), then cross-correlate with
the kernel flipped in both directions and its channel axes swapped, per group (F.unfold +
matmul).
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    N, C, H, W = input.shape
    Kg, kh, kw = weight.shape[1:]
    Cg = C // groups
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oh, ow), (dh, dw) = _pair(output_padding), _pair(dilation)

    z = input.new_zeros(N, C, (H - 1) * sh + 1, (W - 1) * sw + 1)
    z[:, :, ::sh, ::sw] = input                       # zero insertion (a copy: input untouched)
    top, left = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    z = F.pad(z, (left, left + ow, top, top + oh))

    Ho, Wo = z.shape[2] - dh * (kh - 1), z.shape[3] - dw * (kw - 1)
    cols = F.unfold(z, (kh, kw), dilation=(dh, dw)).reshape(N, groups, Cg * kh * kw, Ho * Wo)
    # conv weight of group g: (Kg, Cg, kh, kw) = weight[g*Cg:(g+1)*Cg] with axes swapped, flipped
    wc = weight.reshape(groups, Cg, Kg, kh, kw).transpose(1, 2).flip(-1, -2)
    out = torch.matmul(wc.reshape(groups, Kg, Cg * kh * kw), cols).reshape(N, groups * Kg, Ho, Wo)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
