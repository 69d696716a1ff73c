"""WRONG: accepts stride but never passes it on (always stride 1).
Violates: stride is honoured. Caught by: test_stride, test_stride_padding_dilation, test_random_*.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, bias, padding=padding, dilation=dilation, groups=groups)
