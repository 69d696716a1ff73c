"""WRONG: builds the module and copies the caller's tensors into its parameters with .data.

Forward values are right, but conv.weight is a new leaf: out.backward() fills conv.weight.grad,
and the caller's weight.grad / bias.grad stay None.
Caught by: test_weight_gradient, test_bias_gradient, test_random_gradients.
"""

import torch.nn as nn


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    K, Cg, kh, kw = weight.shape
    conv = nn.Conv2d(input.size(1), K, (kh, kw), stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias is not None,
                     device=weight.device, dtype=weight.dtype)
    conv.weight.data.copy_(weight)
    if bias is not None:
        conv.bias.data.copy_(bias)
    return conv(input)
