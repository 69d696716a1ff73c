"""WRONG VARIANT: scales the weight along dim 1 (input channels) instead of dim 0 (output
channels); it even runs whenever C_in / groups == C_out or 1.

Caught by: test_matches_float64, test_matches_float32[1e-05], test_matches_float32[0.001], test_square_channels_scaled_per_output
"""

import torch
from torch import nn


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A new nn.Conv2d, with a bias, such that folded(x) == bn(conv(x)) with bn in eval mode.

    Eval-mode BatchNorm is, per output channel o, an affine map of the conv's output z:
        y[o] = gamma[o] * (z[o] - mean[o]) / sqrt(var[o] + eps) + beta[o]
             = scale[o] * z[o] + (beta[o] - scale[o] * mean[o])
    and z[o] = (W[o] * x) + b[o] is linear in W[o], so
        W'[o] = scale[o] * W[o]          b'[o] = scale[o] * (b[o] - mean[o]) + beta[o]
    """
    with torch.no_grad():
        weight = conv.weight.detach()                        # (C_out, C_in/groups, kh, kw)
        mean, var = bn.running_mean, bn.running_var          # (C_out,), running statistics
        scale = torch.rsqrt(var + bn.eps)                    # (C_out,)
        shift = -mean * scale
        if bn.affine:
            scale, shift = scale * bn.weight, shift * bn.weight + bn.bias
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(mean)

        folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                           stride=conv.stride, padding=conv.padding, dilation=conv.dilation,
                           groups=conv.groups, bias=True, padding_mode=conv.padding_mode,
                           device=weight.device, dtype=weight.dtype)
        # scale along dim 0: output channel o of the conv is scaled by scale[o]
        folded.weight.copy_(weight * scale.reshape(1, -1, 1, 1))
        folded.bias.copy_(bias * scale + shift)
    return folded
