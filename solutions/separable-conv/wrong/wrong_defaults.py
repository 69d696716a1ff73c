"""Wrong: bias defaults to False (and stride to 2): a layer built with only the channels and kernel
size differs from nn.Conv2d's defaults.
Violates: the defaults of __init__ are nn.Conv2d's. Caught by: test_defaults.
"""

import torch
from torch import nn


class DepthwiseSeparableConv2d(nn.Module):
    """depthwise k x k conv (one filter per channel) followed by a pointwise 1 x 1 conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=2, padding=0,
                 dilation=1, bias: bool = False):
        super().__init__()
        # groups=in_channels: each input channel gets its own (1, kh, kw) filter;
        # all spatial work (stride, padding, dilation) happens here.
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride,
                                   padding=padding, dilation=dilation, groups=in_channels,
                                   bias=bias)
        # 1x1 conv: mixes channels pixel by pixel, never changes the spatial size.
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, C_in, H, W) -> (N, C_in, H_out, W_out) -> (N, C_out, H_out, W_out)
        return self.pointwise(self.depthwise(x))


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_cost(in_channels: int, out_channels: int, kernel_size, output_size, *,
              separable: bool = False, bias: bool = True) -> tuple[int, int]:
    """(parameters, multiply-accumulates) of one conv layer for one input sample.
    Bias terms are parameters but cost no multiply-accumulates."""
    kh, kw = _pair(kernel_size)
    oh, ow = _pair(output_size)
    pixels = oh * ow
    if not separable:
        params = out_channels * in_channels * kh * kw + (out_channels if bias else 0)
        # every output element: a dot product over C_in * kh * kw inputs
        macs = out_channels * pixels * in_channels * kh * kw
        return params, macs
    # depthwise: C_in filters of kh * kw; each output element sees one channel's window
    dw_params = in_channels * kh * kw + (in_channels if bias else 0)
    dw_macs = in_channels * pixels * kh * kw
    # pointwise: a C_out x C_in matrix applied at every pixel
    pw_params = out_channels * in_channels + (out_channels if bias else 0)
    pw_macs = out_channels * pixels * in_channels
    return dw_params + pw_params, dw_macs + pw_macs
