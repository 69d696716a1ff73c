"""conv2d backward one group at a time, accumulated in float64, with non-contiguous results.

Written another way on purpose: a Python loop over groups, each handled by im2col (F.unfold)
and col2im (F.fold) in float64, the results cast back to the inputs' dtype; grad_weight is
returned as a permuted (non-contiguous) view and grad_bias comes from an einsum. All correct:
the checks must not mind.
"""

import torch
import torch.nn.functional as F


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    dtype = input.dtype
    go, x, w = grad_output.double(), input.double(), weight.double()
    N, C, H, W = x.shape
    K, Cg, kh, kw = w.shape
    Kg = K // groups
    L = go.shape[2] * go.shape[3]
    grad_input = x.new_zeros(N, C, H, W)
    grad_weight = w.new_zeros(kh, kw, K, Cg)             # filled per group, permuted at the end
    for g in range(groups):
        xs = x[:, g * Cg:(g + 1) * Cg]
        gos = go[:, g * Kg:(g + 1) * Kg].reshape(N, Kg, L)
        ws = w[g * Kg:(g + 1) * Kg].reshape(Kg, Cg * kh * kw)
        cols = F.unfold(xs, (kh, kw), dilation=dilation, padding=padding, stride=stride)
        gw = torch.einsum("nkl,nrl->kr", gos, cols).reshape(Kg, Cg, kh, kw)
        grad_weight[:, :, g * Kg:(g + 1) * Kg] = gw.permute(2, 3, 0, 1)
        grad_cols = torch.einsum("kr,nkl->nrl", ws, gos)
        grad_input[:, g * Cg:(g + 1) * Cg] = F.fold(grad_cols, (H, W), (kh, kw),
                                                    dilation=dilation, padding=padding,
                                                    stride=stride)
    grad_bias = torch.einsum("nkyx->k", go)
    return (grad_input.to(dtype), grad_weight.permute(2, 3, 0, 1).to(dtype),
            grad_bias.to(dtype))
