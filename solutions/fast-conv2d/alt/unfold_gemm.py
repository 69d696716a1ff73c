"""Fast 2-D convolution, the textbook im2col: F.unfold, one batched matmul, a bias pass.

Correct everywhere; usually a tier below the channels-last reference, because F.unfold lays the
columns out as (N, C*R*S, P*Q) (the GEMM then reads them transposed) and the bias is a second
pass over the whole output.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    cols = F.unfold(input, (R, S), padding=padding, stride=stride)    # (N, C*R*S, P*Q)
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
    P = (H + 2 * padding[0] - R) // stride[0] + 1
    Q = (W + 2 * padding[1] - S) // stride[1] + 1
    out = weight.reshape(K, C * R * S) @ cols                          # (N, K, P*Q)
    if bias is not None:
        out = out + bias.view(1, K, 1)
    return out.view(N, K, P, Q)
