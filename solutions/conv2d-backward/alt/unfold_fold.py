"""conv2d backward with im2col / col2im (F.unfold / F.fold) and two einsums.

Forward as a matmul: cols = unfold(x) is (N, C*kh*kw, L) with L = Ho*Wo, and per group
    out[n, g] = W[g] @ cols[n, g]          W[g]: (Kg, Cg*kh*kw), cols[n, g]: (Cg*kh*kw, L)
so, with go[n, g] = grad_output reshaped to (Kg, L):
    grad_W[g]       = sum_n go[n, g] @ cols[n, g]^T
    grad_cols[n, g] = W[g]^T @ go[n, g]
and F.fold (col2im) adds every column back onto the pixels it was read from, which is exactly
the gradient of unfold; it knows the input size, so no output_padding is needed.
"""

import torch
import torch.nn.functional as F


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1):
    N, C, H, W = input.shape
    K, Cg, kh, kw = weight.shape
    G = groups
    Kg, L = K // G, grad_output.shape[2] * grad_output.shape[3]

    cols = F.unfold(input, (kh, kw), dilation=dilation, padding=padding, stride=stride)
    cols = cols.reshape(N, G, Cg * kh * kw, L)                        # (N, G, Cg*kh*kw, L)
    go = grad_output.reshape(N, G, Kg, L)                             # (N, G, Kg, L)

    grad_weight = torch.einsum("ngkl,ngcl->gkc", go, cols).reshape(K, Cg, kh, kw)

    w = weight.reshape(G, Kg, Cg * kh * kw)
    grad_cols = torch.einsum("gkc,ngkl->ngcl", w, go).reshape(N, C * kh * kw, L)
    grad_input = F.fold(grad_cols, (H, W), (kh, kw), dilation=dilation, padding=padding,
                        stride=stride)

    grad_bias = grad_output.sum(dim=(0, 2, 3))
    return grad_input, grad_weight, grad_bias
