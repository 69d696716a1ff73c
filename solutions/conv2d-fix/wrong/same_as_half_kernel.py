"""WRONG: translates padding="same" into (kh // 2, kw // 2) "for the ONNX exporter": right for
odd kernels, one pixel too large for even ones.
Violates: padding "same" keeps H and W (even kernels too). Caught by: test_padding_strings.
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same":
        padding = (weight.shape[2] // 2, weight.shape[3] // 2)
    return F.conv2d(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                    groups=groups)
