"""conv2d one group at a time, accumulated in float64, returned channels-last.

Written another way on purpose: a Python loop over groups (torch.cat of the per-group
results), the arithmetic done in float64 and cast back to the input's dtype at the end, the
bias added in place into the function's own output buffer, and a result that is a
channels-last (non-contiguous) tensor. All of it is correct: the checks must not mind.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
            top = bottom = left = right = 0
        else:                                       # "same": extra pixel bottom/right
            th, tw = dh * (kh - 1), dw * (kw - 1)
            top, bottom, left, right = th // 2, th - th // 2, tw // 2, tw - tw // 2
    else:
        ph, pw = _pair(padding)
        top = bottom = ph
        left = right = pw
    x = F.pad(input.to(torch.float64), (left, right, top, bottom))
    Kg = K // groups
    outs = []
    for g in range(groups):
        xg = x[:, g * Cg:(g + 1) * Cg]
        cols = F.unfold(xg, (kh, kw), dilation=(dh, dw), stride=(sh, sw))   # (N, Cg*kh*kw, L)
        wg = weight[g * Kg:(g + 1) * Kg].to(torch.float64).reshape(Kg, -1)
        outs.append(torch.einsum("kr,nrl->nkl", wg, cols))
    Ho = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    Wo = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = torch.cat(outs, dim=1).reshape(N, K, Ho, Wo)
    if bias is not None:
        out.add_(bias.to(torch.float64).reshape(1, K, 1, 1))   # our own buffer: fine in place
    return out.to(input.dtype).contiguous(memory_format=torch.channels_last)
