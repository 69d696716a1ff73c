"""WRONG: calls the built-in convolution the exercise asks you to replace.

Caught by the static pass (torch.nn.functional.conv2d is forbidden) and, at run time, by the
forbidden-op guard in every check.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0):
    return F.conv2d(input, weight, bias, stride=stride, padding=padding)
