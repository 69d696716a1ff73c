"""Quantised conv2d, another way: the quantisers in float32, the integer core as a float64
F.conv2d, the requantisation through torch.where-free arithmetic in float64.

float32 quantisers (x / scale in float32) may round a value within float32's rounding error of
a tie differently from a float64 division: the README allows it, and this solution proves the
checks do. The float64 convolution of integer-valued tensors is exact: every product and every
partial sum is an integer below 2**53.
"""

import torch
import torch.nn.functional as F


def quantize_weight(weight):
    k = weight.shape[0]
    amax = weight.detach().abs().amax(dim=(1, 2, 3))
    scale = amax / 127
    scale[amax == 0] = 1.0
    q = torch.round(weight.detach() / scale.view(k, 1, 1, 1))      # float32 throughout
    return torch.clamp(q, -127, 127).to(torch.int8), scale


def activation_qparams(x):
    lo = torch.clamp(x.detach().min(), max=0.0)
    hi = torch.clamp(x.detach().max(), min=0.0)
    if bool(hi == lo):
        return 1.0, 0
    scale = (hi - lo) / 255.0                                       # float32, like the observer
    zero_point = int(torch.round(-lo / scale).clamp(0, 255))
    return float(scale), zero_point


def quantize_activation(x, scale, zero_point):
    q = torch.round(x.detach() / scale) + zero_point               # float32
    return torch.clamp(q, 0, 255).to(torch.uint8)


def dequantize(q, scale, zero_point=0):
    return (q.to(torch.int32) - zero_point).to(torch.float32) * scale


def conv2d_int32(x_q, x_zero_point, w_q, stride=1, padding=0):
    xi = x_q.to(torch.float64) - x_zero_point          # conv2d's zero padding is a real zero
    acc = F.conv2d(xi, w_q.to(torch.float64), stride=stride, padding=padding)
    return acc.to(torch.int32)                          # exact integers: no rounding needed


def int8_conv2d(x_q, x_scale, x_zero_point, w_q, w_scale, bias, out_scale, out_zero_point,
                stride=1, padding=0):
    acc = conv2d_int32(x_q, x_zero_point, w_q, stride, padding).to(torch.float64)
    acc_scale = (x_scale * w_scale.to(torch.float64)).view(1, -1, 1, 1)
    if bias is not None:
        acc = acc + torch.round(bias.to(torch.float64).view(1, -1, 1, 1) / acc_scale)
    y = torch.round(acc * acc_scale / out_scale) + out_zero_point
    return torch.clamp(y, 0, 255).to(torch.uint8)
