"""A conv2d wrapper from a code review. It does not work. Fix it.

TODO: make `conv2d` correct, with the full signature

    conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor

    input:  (N, C, H, W)
    weight: (K, C // groups, kh, kw)   kernels need not be square
    bias:   (K,) or None
    stride, padding, dilation: int or (h, w) pair; padding also "valid" or "same"
    returns (N, K, Ho, Wo), equal to torch.nn.functional.conv2d(input, weight, bias, stride,
    padding, dilation, groups), and differentiable: after out.sum().backward() the caller's
    `weight.grad` (and `bias.grad`, `input.grad`) must hold the gradients.

The arguments must not be modified. See README.md for what the interviewer wants to hear.
"""

import torch
import torch.nn as nn


def conv2d(input, weight, bias=None):
    conv = nn.Conv2d(input.size(1), weight.size(0), weight.size(2), weight.size(3), stride=weight.stride, padding=weight.padding, dilation=weight.dilation, groups=weight.groups)
    return conv(input, weight, bias)
