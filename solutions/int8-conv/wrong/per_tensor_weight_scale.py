"""WRONG: one scale for the whole weight tensor (max over all channels), repeated K times:
channels with small weights lose their precision.
Caught by: test_quantize_weight_per_channel, test_matches_torch_quantize_per_channel
"""

import torch
import torch.nn.functional as F

W_QMIN, W_QMAX = -127, 127          # symmetric int8 weights
QMIN, QMAX = 0, 255                 # uint8 activations and outputs


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def quantize_weight(weight):
    k = weight.shape[0]
    amax = weight.detach().abs().amax().expand(k).clone()             # float32, exact
    scale = amax / W_QMAX                                              # float32 division
    scale = torch.where(amax == 0, torch.ones_like(scale), scale)     # all-zero channel: 1.0
    t = weight.detach().double() / scale.double().view(-1, 1, 1, 1)
    q = torch.round(t).clamp(W_QMIN, W_QMAX).to(torch.int8)
    return q, scale


def activation_qparams(x):
    lo = min(float(x.min()), 0.0)                                      # the range holds 0
    hi = max(float(x.max()), 0.0)
    if hi == lo:
        return 1.0, 0
    scale = (hi - lo) / (QMAX - QMIN)
    return scale, QMIN - round(lo / scale)       # round(): half to even; in [0, 255] already


def quantize_activation(x, scale, zero_point):
    t = torch.round(x.detach().double() / scale) + zero_point
    return t.clamp(QMIN, QMAX).to(torch.uint8)


def dequantize(q, scale, zero_point=0):
    return ((q.to(torch.float64) - zero_point) * scale).to(torch.float32)


def conv2d_int32(x_q, x_zero_point, w_q, stride=1, padding=0):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    xi = F.pad(x_q.to(torch.int64) - x_zero_point, (pw, pw, ph, ph))  # pads real zeros
    n, c, hp, wp = xi.shape
    k, _, kh, kw = w_q.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    w64 = w_q.to(torch.int64)
    acc = torch.zeros(n, k, ho, wo, dtype=torch.int64)
    for i in range(kh):
        for j in range(kw):
            window = xi[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]
            acc += torch.einsum("nchw,kc->nkhw", window, w64[:, :, i, j])
    return acc.to(torch.int32)


def int8_conv2d(x_q, x_scale, x_zero_point, w_q, w_scale, bias, out_scale, out_zero_point,
                stride=1, padding=0):
    acc = conv2d_int32(x_q, x_zero_point, w_q, stride, padding).to(torch.int64)
    acc_scale = x_scale * w_scale.to(torch.float64)                    # (K,)
    if bias is not None:
        acc = acc + torch.round(bias.to(torch.float64) / acc_scale).to(torch.int64).view(1, -1, 1, 1)
    t = acc.to(torch.float64) * (acc_scale / out_scale).view(1, -1, 1, 1)
    return (torch.round(t) + out_zero_point).clamp(QMIN, QMAX).to(torch.uint8)
