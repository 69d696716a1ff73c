"""WRONG: casts input, weight and bias to float32 "to be safe": a float64 call returns float32.
Gradients still reach the caller's tensors (the casts are differentiable).
Violates: the result is in the input's dtype. Caught by: test_float64, test_random_*.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    input, weight = input.float(), weight.float()
    bias = None if bias is None else bias.float()
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
