"""Fix that keeps the module: build nn.Conv2d with the right configuration, then run it with
the caller's tensors in place of its parameters via torch.func.functional_call.

in_channels is weight.size(1) * groups (weight holds C // groups input channels per filter),
the kernel size is weight.shape[2:], and the module lives on the "meta" device so no throwaway
weight is allocated or initialised. functional_call substitutes our tensors for the module's
parameters for one call, so the graph runs through them and their .grad gets filled.
"""

import torch.nn as nn
from torch.func import functional_call


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    K, Cg, kh, kw = weight.shape
    conv = nn.Conv2d(Cg * groups, K, (kh, kw), stride=stride, padding=padding,
                     dilation=dilation, groups=groups, bias=bias is not None,
                     device="meta", dtype=weight.dtype)
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    return functional_call(conv, params, (input,))
