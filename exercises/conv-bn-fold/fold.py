"""Fold an eval-mode BatchNorm2d into the Conv2d that feeds it."""

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new nn.Conv2d, with a bias, such that folded(x) == bn(conv(x)) with bn in eval mode.

    conv.weight: (C_out, C_in / groups, kh, kw); conv.bias: (C_out,) or None
    bn.running_mean, bn.running_var: (C_out,); bn.weight, bn.bias: (C_out,) or None
        (None when bn.affine is False); bn.eps: float
    Returns a plain nn.Conv2d with the same hyper-parameters, dtype and device as conv, whose
    parameters share no memory with conv's. conv and bn are left exactly as they were.
    """
    # TODO
    raise NotImplementedError("fold_conv_bn")
