"""WRONG VARIANT: switches both arguments to eval mode (and leaves them there) before folding;
the values are right but the caller's modules silently stop training.

Caught by: test_arguments_unchanged[train]
"""

import copy

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    conv.eval()
    bn.eval()
    folded = copy.deepcopy(conv)
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)
        shift = -bn.running_mean * scale
        if bn.affine:
            scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
        bias = conv.bias if conv.bias is not None else torch.zeros_like(shift)
        folded.weight.mul_(scale.reshape(-1, 1, 1, 1))
        folded.bias = nn.Parameter(bias * scale + shift)
    return folded
