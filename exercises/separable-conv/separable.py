"""Depthwise-separable 2-D convolution, and what a conv layer costs.

A standard k x k conv mixes space and channels at once. A depthwise-separable conv splits it:

    x (N, C_in, H, W)
      -> depthwise: k x k conv, one filter per input channel   -> (N, C_in,  H_out, W_out)
      -> pointwise: 1 x 1 conv that mixes the channels         -> (N, C_out, H_out, W_out)

See README.md for the exact conventions of conv_cost.
"""

import torch
from torch import nn


class DepthwiseSeparableConv2d(nn.Module):
    """Drop-in replacement for nn.Conv2d(in_channels, out_channels, kernel_size, stride,
    padding, dilation, bias=bias) built from two nn.Conv2d submodules:

    self.depthwise: nn.Conv2d, in_channels -> in_channels, groups=in_channels, kernel_size,
                    stride, padding and dilation as given, bias as given
    self.pointwise: nn.Conv2d, in_channels -> out_channels, kernel_size 1, stride 1,
                    padding 0, dilation 1, bias as given
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True):
        super().__init__()
        # TODO: create self.depthwise and self.pointwise
        raise NotImplementedError("DepthwiseSeparableConv2d.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        # TODO
        raise NotImplementedError("DepthwiseSeparableConv2d.forward")


def conv_cost(in_channels: int, out_channels: int, kernel_size, output_size, *,
              separable: bool = False, bias: bool = True) -> tuple[int, int]:
    """(parameters, multiply-accumulates) of one conv layer for ONE input sample.

    kernel_size, output_size: an int k (meaning (k, k)) or an (h, w) pair; output_size is the
    spatial size of the layer's output.
    separable=False: a standard nn.Conv2d(in_channels, out_channels, kernel_size, bias=bias).
    separable=True:  DepthwiseSeparableConv2d(in_channels, out_channels, kernel_size, bias=bias).
    Bias terms count as parameters but not as multiply-accumulates.
    Returns a tuple of two Python ints.
    """
    # TODO
    raise NotImplementedError("conv_cost")
