"""WRONG: calls the built-in convolution the exercise asks you to replace.

Caught by the static pass (torch.nn.functional.conv2d is forbidden) and, at run time, by the
forbidden-op guard in every check. Caught by: test_basic, test_bias and every other check.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0):
    return F.conv2d(input, weight, bias, stride=stride, padding=padding)
