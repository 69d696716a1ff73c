"""Fast 2-D convolution, the plain-loop way (correct, slow): one small matmul per output pixel.

Each output pixel (p, q) of every image is the dot product of one R x S x C window with each
filter: out[:, :, p, q] = window (N, C*R*S) @ weight (C*R*S, K). P*Q Python iterations, each a
tiny GEMM: correct on every check, and far behind PyTorch's convolution at ResNet sizes (the
timing tiers give it few or no speed points). Kept as the "works but slow" baseline.
"""

import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    x = F.pad(input, (pw, pw, ph, ph))                      # (N, C, H + 2ph, W + 2pw), a copy
    P = (x.shape[2] - R) // sh + 1
    Q = (x.shape[3] - S) // sw + 1
    w = weight.reshape(K, C * R * S).t()                    # (C*R*S, K)
    out = input.new_empty(N, K, P, Q)
    for p in range(P):
        for q in range(Q):
            window = x[:, :, p * sh : p * sh + R, q * sw : q * sw + S]   # (N, C, R, S)
            out[:, :, p, q] = window.reshape(N, C * R * S) @ w          # (N, K)
    if bias is not None:
        out += bias.view(1, K, 1, 1)
    return out
