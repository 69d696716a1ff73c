"""WRONG: a correct im2col for small inputs, the built-in convolution (reached through getattr,
so no static rule sees it) for benchmark-sized ones.

Caught at run time by the forbidden-op guard: in test_timing_sized (the timing case's size) and
in the timing's own guarded correctness call.

Caught by: test_timing_sized
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0):
    if input.numel() >= 400_000:
        return getattr(F, "con" + "v2d")(input, weight, bias, stride=stride, padding=padding)
    N, C, H, W = input.shape
    K, _, R, S = weight.shape
    cols = F.unfold(input, (R, S), padding=padding, stride=stride)
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    padding = (padding, padding) if isinstance(padding, int) else tuple(padding)
    P = (H + 2 * padding[0] - R) // stride[0] + 1
    Q = (W + 2 * padding[1] - S) // stride[1] + 1
    out = weight.reshape(K, -1) @ cols
    if bias is not None:
        out = out + bias.view(1, K, 1)
    return out.view(N, K, P, Q)
