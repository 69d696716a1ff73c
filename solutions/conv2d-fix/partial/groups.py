"""Missing: groups. Allowed to fail: test_groups, test_random_all_parameters, test_random_gradients

A correct wrapper without this one feature: it raises NotImplementedError.
"""

import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if groups != 1:
        raise NotImplementedError("groups")
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
