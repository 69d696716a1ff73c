"""WRONG: hands the convolution to torch's quantised kernel (torch.ops.quantized.conv2d on
quantised tensors). Refused by the static pass and at run time in every int8_conv2d call.
Caught by: test_requantize, test_bias"""

import torch

def quantize_weight(weight):
    k = weight.shape[0]
    amax = weight.detach().abs().reshape(k, -1).amax(dim=1)
    scale = torch.where(amax == 0, torch.ones_like(amax), amax / 127)
    q = torch.round(weight.detach().double() / scale.double().view(-1, 1, 1, 1))
    return q.clamp(-127, 127).to(torch.int8), scale

def activation_qparams(x):
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    if hi == lo:
        return 1.0, 0
    scale = (hi - lo) / 255
    return scale, -round(lo / scale)

def quantize_activation(x, scale, zero_point):
    return (torch.round(x.detach().double() / scale) + zero_point).clamp(0, 255).to(torch.uint8)

def dequantize(q, scale, zero_point=0):
    return ((q.to(torch.float64) - zero_point) * scale).to(torch.float32)

def conv2d_int32(x_q, x_zero_point, w_q, stride=1, padding=0):
    import torch.nn.functional as F
    xi = (x_q.to(torch.float64) - x_zero_point)
    return F.conv2d(xi, w_q.double(), stride=stride, padding=padding).round().to(torch.int32)

def int8_conv2d(x_q, x_scale, x_zero_point, w_q, w_scale, bias, out_scale, out_zero_point,
                stride=1, padding=0):
    pair = (lambda v: [v, v] if isinstance(v, int) else list(v))
    qx = torch._make_per_tensor_quantized_tensor(x_q, x_scale, x_zero_point)
    qw = torch._make_per_channel_quantized_tensor(
        w_q, w_scale.double(), torch.zeros(w_q.shape[0], dtype=torch.long), 0)
    packed = torch.ops.quantized.conv2d_prepack(qw, bias, pair(stride), pair(padding), [1, 1], 1)
    return torch.ops.quantized.conv2d(qx, packed, out_scale, out_zero_point).int_repr()
