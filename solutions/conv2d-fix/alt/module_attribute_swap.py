"""Fix that keeps nn.Conv2d and calls the module itself: build it on the "meta" device with the
right configuration (in_channels = weight.size(1) * groups, kernel_size = weight.shape[2:]),
remove its own parameters and put the caller's tensors in their place as plain attributes.
Conv2d.forward then runs F.conv2d on the caller's weight and bias, so autograd records the
operation on them and out.backward() fills their .grad.
"""

import torch.nn as nn


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    conv = nn.Conv2d(weight.size(1) * groups, weight.size(0), tuple(weight.shape[2:]),
                     stride=stride, padding=padding, dilation=dilation, groups=groups,
                     bias=bias is not None, device="meta")
    del conv.weight
    conv.weight = weight          # a plain tensor attribute, not a new Parameter
    if bias is not None:
        del conv.bias
        conv.bias = bias
    return conv(input)
