"""WRONG: believes nn.Conv2d stores kernels as (kw, kh) and transposes non-square kernels
before the call. Square kernels are unaffected.
Violates: weight (K, C // groups, kh, kw), kernels need not be square.
Caught by: test_non_square_kernel.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if weight.shape[2] != weight.shape[3]:
        weight = weight.transpose(2, 3)              # "(kw, kh) order"
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
