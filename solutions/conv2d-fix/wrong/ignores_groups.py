"""WRONG: accepts groups but never passes it on (a grouped weight then fails or mismatches).

Caught by: test_groups, test_random_*.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation)
