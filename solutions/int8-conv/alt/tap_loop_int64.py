"""Quantised conv2d, another way: the integer core as an explicit loop over the kernel taps
with int64 broadcasting (no matmul), quantisers multiplying by the inverse scale (as torch's
own quantize_per_tensor does), and a per-channel requantisation loop.
"""

import torch
import torch.nn.functional as F


def _two(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def quantize_weight(weight):
    w = weight.detach()
    scales, qs = [], []
    for k in range(w.shape[0]):
        m = w[k].abs().max()
        s = m / 127 if bool(m > 0) else torch.tensor(1.0)
        qs.append(torch.round(w[k].double() * (1.0 / s.double())).clamp(-127, 127))
        scales.append(s.reshape(()))
    return torch.stack(qs).to(torch.int8), torch.stack(scales).to(torch.float32)


def activation_qparams(x):
    lo, hi = min(x.min().item(), 0.0), max(x.max().item(), 0.0)
    if lo == 0.0 and hi == 0.0:
        return 1.0, 0
    scale = (hi - lo) / 255
    return scale, int(torch.round(torch.tensor(-lo / scale, dtype=torch.float64)))


def quantize_activation(x, scale, zero_point):
    q = torch.round(x.detach().double() * (1.0 / scale))
    return (q + zero_point).clamp(0, 255).to(torch.uint8)


def dequantize(q, scale, zero_point=0):
    return (q.to(torch.int64) - zero_point).to(torch.float64).mul(scale).to(torch.float32)


def conv2d_int32(x_q, x_zero_point, w_q, stride=1, padding=0):
    sh, sw = _two(stride)
    ph, pw = _two(padding)
    x = F.pad(x_q.to(torch.int64) - x_zero_point, (pw, pw, ph, ph))
    w = w_q.to(torch.int64)
    n, c, hp, wp = x.shape
    k, _, kh, kw = w.shape
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    out = torch.zeros(n, k, ho, wo, dtype=torch.int64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:, j:][:, :, :sh * ho:sh, :sw * wo:sw]       # (N, C, Ho, Wo)
            out += (patch[:, None] * w[None, :, :, i, j, None, None]).sum(dim=2)
    return out.to(torch.int32)


def int8_conv2d(x_q, x_scale, x_zero_point, w_q, w_scale, bias, out_scale, out_zero_point,
                stride=1, padding=0):
    acc = conv2d_int32(x_q, x_zero_point, w_q, stride, padding).to(torch.int64)
    out = torch.empty(acc.shape, dtype=torch.uint8)
    for k in range(acc.shape[1]):
        s = x_scale * float(w_scale[k])
        a = acc[:, k]
        if bias is not None:
            a = a + int(torch.round(torch.tensor(float(bias[k]) / s, dtype=torch.float64)))
        y = torch.round(a.to(torch.float64) * (s / out_scale)) + out_zero_point
        out[:, k] = y.clamp(0, 255).to(torch.uint8)
    return out
