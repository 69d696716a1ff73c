"""Fast 2-D convolution (reference): channels-last im2col by as_strided, then one GEMM.

Why it is fast:
- Channels last. In (N, H, W, C) the C values of a pixel are contiguous, so one R x S window
  is R runs of S*C contiguous numbers, and the im2col copy streams memory instead of gathering.
- as_strided builds the (N, P, Q, R, S, C) tensor of all windows as a *view*; the reshape to
  (N*P*Q, R*S*C) is the only copy of the data (F.unfold also copies, in the (N, C*R*S, P*Q)
  order, which then needs a transposed GEMM and a bias pass over the output).
- One GEMM with the bias folded in (addmm): (N*P*Q, R*S*C) @ (R*S*C, K) -> (N*P*Q, K).
- A 1x1 kernel is already a GEMM: no im2col at all, just a strided view of the pixels.
- The (N, P, Q, K) result is returned as a permuted view, (N, K, P, Q) with channels-last
  strides: no final copy. PyTorch does the same for channels-last inputs.
"""

import torch
import torch.nn.functional as F


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def conv2d(input, weight, bias=None, stride=1, padding=0):
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    P = (H + 2 * ph - R) // sh + 1
    Q = (W + 2 * pw - S) // sw + 1

    # (N, Hp, Wp, C), contiguous: F.pad on the permuted view writes a new channels-last tensor
    # (the caller's input is never written to).
    x = input.permute(0, 2, 3, 1)
    x = F.pad(x, (0, 0, pw, pw, ph, ph)) if ph or pw else x.contiguous()

    if R == 1 and S == 1:
        # Every output pixel reads one input pixel: rows of the GEMM are strided pixels.
        cols = x[:, : sh * (P - 1) + 1 : sh, : sw * (Q - 1) + 1 : sw].reshape(N * P * Q, C)
    else:
        sN, sH, sW, sC = x.stride()
        # windows[n, p, q, r, s, c] = x[n, p*sh + r, q*sw + s, c]: a view, no copy yet.
        windows = x.as_strided((N, P, Q, R, S, C), (sN, sH * sh, sW * sw, sH, sW, sC))
        cols = windows.reshape(N * P * Q, R * S * C)          # im2col: the one copy

    # Weight rows in the same (r, s, c) order as the columns: (K, R*S*C), then transposed.
    w = weight.permute(0, 2, 3, 1).reshape(K, R * S * C)
    if bias is None:
        out = torch.mm(cols, w.t())                            # (N*P*Q, K)
    else:
        out = torch.addmm(bias, cols, w.t())                   # bias added inside the GEMM
    return out.view(N, P, Q, K).permute(0, 3, 1, 2)            # (N, K, P, Q), channels-last
