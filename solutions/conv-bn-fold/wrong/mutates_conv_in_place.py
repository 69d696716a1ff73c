"""WRONG VARIANT: folds in place: rescales conv's own weight, gives it a bias and returns it.
The values are right, but the caller's conv is destroyed (and the "new" conv is the old one).

Caught by: test_returns_plain_conv_with_bias[conv-bias], test_returns_plain_conv_with_bias[no-conv-bias], test_arguments_unchanged[eval]
"""

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        shift = -bn.running_mean * scale
        if bn.affine:
            scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
        if conv.bias is None:
            conv.bias = nn.Parameter(torch.zeros_like(bn.running_mean))
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        conv.bias.copy_(conv.bias * scale + shift)
    return conv
