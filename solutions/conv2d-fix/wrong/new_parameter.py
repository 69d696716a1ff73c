"""WRONG: wraps the caller's tensors in fresh nn.Parameter objects and installs them.

nn.Parameter(weight) is a new leaf sharing weight's storage: the gradient lands on the new
Parameter's .grad, never on the caller's weight. Caught by: test_weight_gradient,
test_bias_gradient, test_random_gradients.
"""

import torch.nn as nn


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    K, Cg, kh, kw = weight.shape
    conv = nn.Conv2d(input.size(1), K, (kh, kw), stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias is not None,
                     device=weight.device, dtype=weight.dtype)
    conv.weight = nn.Parameter(weight)
    if bias is not None:
        conv.bias = nn.Parameter(bias)
    return conv(input)
