"""ALTERNATIVE: compute the folded weight and bias in float64 (whatever the conv's dtype), cast
them back, and install them as brand-new nn.Parameters on a conv rebuilt from the input's
hyper-parameters; the result is handed back in eval mode, with gradients enabled on its
parameters as for any freshly built module.
"""

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    dtype, device = conv.weight.dtype, conv.weight.device
    with torch.no_grad():
        std = (bn.running_var.double() + bn.eps).sqrt()
        gamma = bn.weight.double() if bn.weight is not None else torch.ones_like(std)
        beta = bn.bias.double() if bn.bias is not None else torch.zeros_like(std)
        b = conv.bias.double() if conv.bias is not None else torch.zeros_like(std)
        scale = gamma / std
        w_new = conv.weight.double() * scale[:, None, None, None]
        b_new = (b - bn.running_mean.double()) * scale + beta
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                       conv.padding, conv.dilation, conv.groups, True, conv.padding_mode,
                       device=device, dtype=dtype)
    folded.weight = nn.Parameter(w_new.to(dtype))
    folded.bias = nn.Parameter(b_new.to(dtype))
    return folded.eval()
