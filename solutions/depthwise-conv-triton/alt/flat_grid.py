"""Depthwise 3x3 in Triton, another way: a flat 1-D grid over every output element.

Program i handles BLOCK consecutive elements of the flattened contiguous (N, C, H, W) output;
each element recovers its (plane, h, w) with integer division and gathers its channel's nine
weights. Simple and correct; the gathers of weights cost more than the tiled reference's
scalar loads, and the divisions are not free on a GPU.
"""

import torch
import triton
import triton.language as tl

BLOCK = 256


@triton.jit
def depthwise_conv3x3_kernel(x_ptr, w_ptr, b_ptr, out_ptr, total, C, H, W,
                             HAS_BIAS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    valid = offs < total
    hw = H * W
    plane = offs // hw
    h = (offs % hw) // W
    w = offs % W
    c = plane % C
    acc = tl.full((BLOCK,), 0.0, tl.float32)
    for k in tl.static_range(9):
        r = h + (k // 3 - 1)
        q = w + (k % 3 - 1)
        ok = valid & (r >= 0) & (r < H) & (q >= 0) & (q < W)
        v = tl.load(x_ptr + plane * hw + r * W + q, mask=ok, other=0.0).to(tl.float32)
        wt = tl.load(w_ptr + c * 9 + k, mask=valid, other=0.0).to(tl.float32)
        acc += v * wt
    if HAS_BIAS:
        acc += tl.load(b_ptr + c, mask=valid, other=0.0).to(tl.float32)
    tl.store(out_ptr + offs, acc.to(out_ptr.dtype.element_ty), mask=valid)


def depthwise_conv3x3(x, weight, bias=None):
    x = x.contiguous()
    weight = weight.reshape(-1).contiguous()          # (C*9,): a copy whenever it must be
    out = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    n, c, height, width = x.shape
    total = out.numel()
    b = weight if bias is None else bias.contiguous()
    depthwise_conv3x3_kernel[(triton.cdiv(total, BLOCK),)](
        x, weight, b, out, total, c, height, width, HAS_BIAS=bias is not None, BLOCK=BLOCK)
    return out
