"""conv2d as a sum over kernel taps (alternative to unfold + matmul).

For each tap (i, j) the window pixels form a strided slice of the padded input, shape
(N, C, Ho, Wo); multiplying it by weight[:, :, i, j] over channels and summing the kh*kw
contributions gives the output. Memory stays O(output) instead of O(C*kh*kw*output).
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)          # odd total: extra pixel right/bottom
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    x = F.pad(input, pads)                              # (N, C, Hp, Wp), a new tensor
    Hp, Wp = x.shape[2], x.shape[3]
    Ho = (Hp - dh * (kh - 1) - 1) // sh + 1
    Wo = (Wp - dw * (kw - 1) - 1) // sw + 1

    x = x.reshape(N, groups, Cg, Hp, Wp)                # group g = channels [g*Cg, (g+1)*Cg)
    w = weight.reshape(groups, K // groups, Cg, kh, kw)
    out = None
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            # window (y, x) reads padded pixel (y*sh + i*dh, x*sw + j*dw)
            patch = x[:, :, :, top:top + sh * (Ho - 1) + 1:sh, left:left + sw * (Wo - 1) + 1:sw]
            term = torch.einsum("ngchw,gkc->ngkhw", patch, w[..., i, j])   # (N, G, Kg, Ho, Wo)
            out = term if out is None else out + term
    out = out.reshape(N, K, Ho, Wo)
    if bias is not None:
        out = out + bias.reshape(1, K, 1, 1)
    return out
