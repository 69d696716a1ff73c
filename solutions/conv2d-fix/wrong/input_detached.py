"""WRONG: passes input.detach(): values are right, the caller's input.grad stays None.
Violates: after backward, the caller's input.grad holds the gradient. Caught by:
test_input_gradient, test_random_gradients.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    input = input.detach()
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
