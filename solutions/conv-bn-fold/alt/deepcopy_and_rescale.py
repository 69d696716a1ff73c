"""ALTERNATIVE: deep-copy the conv (keeping every hyper-parameter for free), then overwrite
its weight and bias with the folded values, written with the standard deviation spelled out."""

import copy

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    folded = copy.deepcopy(conv)            # own parameters, same stride/padding/groups/...
    folded.train(False)
    c_out = conv.out_channels
    with torch.no_grad():
        std = (bn.running_var + bn.eps).sqrt()                       # (C_out,)
        gamma = bn.weight if bn.weight is not None else torch.ones_like(std)
        beta = bn.bias if bn.bias is not None else torch.zeros_like(std)
        b = conv.bias if conv.bias is not None else torch.zeros_like(std)
        factor = gamma / std                                         # (C_out,)
        new_weight = conv.weight * factor.view(c_out, 1, 1, 1)       # per output channel
        new_bias = beta + (b - bn.running_mean) * factor
    folded.weight = nn.Parameter(new_weight)
    folded.bias = nn.Parameter(new_bias)
    return folded
