"""ALTERNATIVE: forward written with F.conv2d on the submodules' parameters, and conv_cost
derived from one general formula for a grouped conv (a separable layer is a conv with
groups=C_in followed by a 1x1 conv with groups=1)."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class DepthwiseSeparableConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, bias=True):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride, padding,
                                   dilation, groups=in_channels, bias=bias)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 1), bias=bias)

    def forward(self, x):
        dw, pw = self.depthwise, self.pointwise
        y = F.conv2d(x, dw.weight, dw.bias, dw.stride, dw.padding, dw.dilation, dw.groups)
        return F.conv2d(y, pw.weight, pw.bias)


def _grouped_conv_cost(c_in, c_out, groups, kernel, output, bias):
    """One nn.Conv2d(c_in, c_out, kernel, groups=groups): weight (c_out, c_in/groups, kh, kw)."""
    per_output = (c_in // groups) * math.prod(kernel)     # MACs for one output element
    params = c_out * per_output + (c_out if bias else 0)
    return params, c_out * math.prod(output) * per_output


def conv_cost(in_channels, out_channels, kernel_size, output_size, *, separable=False,
              bias=True):
    as_pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
    kernel, output = as_pair(kernel_size), as_pair(output_size)
    if not separable:
        return _grouped_conv_cost(in_channels, out_channels, 1, kernel, output, bias)
    layers = [_grouped_conv_cost(in_channels, in_channels, in_channels, kernel, output, bias),
              _grouped_conv_cost(in_channels, out_channels, 1, (1, 1), output, bias)]
    return tuple(sum(column) for column in zip(*layers))
