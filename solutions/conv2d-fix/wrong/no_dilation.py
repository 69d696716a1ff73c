"""WRONG: passes stride, padding and groups to the module, forgets dilation.

Runs the caller's tensors through the module correctly (functional_call), so only dilated
cases go wrong. Caught by: test_dilation, test_stride_padding_dilation, test_random_*.
"""

import torch.nn as nn
from torch.func import functional_call


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    K, Cg, kh, kw = weight.shape
    conv = nn.Conv2d(input.size(1), K, (kh, kw), stride=stride, padding=padding,
                     groups=groups, bias=bias is not None, device="meta")
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    return functional_call(conv, params, (input,))
