"""WRONG: converts the input to channels-last with .contiguous(memory_format=channels_last),
believing it gets a private copy, and rescales that copy in place "against overflow". For an
NCHW input it is a copy; for an input that already is channels-last it is the caller's own
tensor, which is then divided in place. Values are right.
Violates: the arguments must not be modified (whatever their memory layout).
Caught by: test_inputs_unchanged (channels-last case).
"""

import torch
import torch.nn.functional as F


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    x = input.contiguous(memory_format=torch.channels_last)     # "private" copy
    scale = float(x.detach().abs().max()) or 1.0
    x.div_(scale)
    out = F.conv2d(x, weight, None, stride=stride, padding=padding, dilation=dilation,
                   groups=groups) * scale
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)
