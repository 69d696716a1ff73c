"""WRONG: keeps the original's positional arguments nn.Conv2d(C, K, weight.size(2), weight.size(3)).

The fourth positional argument of nn.Conv2d is `stride`, so the convolution runs with stride
kw and the `stride` argument is never used. Caught by: test_basic and most value checks.
"""

import torch.nn as nn


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    conv = nn.Conv2d(input.size(1), weight.size(0), weight.size(2), weight.size(3),
                     padding=padding, dilation=dilation, groups=groups, bias=False,
                     device="meta")
    return conv._conv_forward(input, weight, bias)
