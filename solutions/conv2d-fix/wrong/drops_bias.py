"""WRONG: the bias never reaches the convolution.

Caught by: test_bias, test_bias_gradient, test_random_*.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, None, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
