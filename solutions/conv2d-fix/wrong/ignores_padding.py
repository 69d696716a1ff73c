"""WRONG: accepts padding but never passes it on (always no padding).
Violates: padding is honoured. Caught by: test_padding, test_padding_strings, test_random_*.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, bias, stride=stride, dilation=dilation, groups=groups)
