"""Depthwise 3x3 in Triton, another way: one program per (n, c) plane, looping over its tiles.

The nine weights and the bias are loaded once per program (scalars), then the program walks
the plane in BLOCK_H x BLOCK_W tiles with runtime loops. Fewer, longer programs: good for
small maps with many channels, poor for one large image (only N*C programs run in parallel).
"""

import torch
import triton
import triton.language as tl

BLOCK_H = 8
BLOCK_W = 32


@triton.jit
def depthwise_conv3x3_kernel(x_ptr, w_ptr, b_ptr, out_ptr, C, H, W, HAS_BIAS: tl.constexpr,
                             BLOCK_H: tl.constexpr, BLOCK_W: tl.constexpr):
    plane = tl.program_id(0)
    c = plane % C
    base = plane.to(tl.int64) * H * W
    bias = 0.0
    if HAS_BIAS:
        bias = tl.load(b_ptr + c).to(tl.float32)
    for r0 in tl.range(0, H, BLOCK_H):
        for c0 in tl.range(0, W, BLOCK_W):
            rows = r0 + tl.arange(0, BLOCK_H)[:, None]
            cols = c0 + tl.arange(0, BLOCK_W)[None, :]
            acc = tl.full((BLOCK_H, BLOCK_W), 0.0, tl.float32) + bias
            for di in tl.static_range(-1, 2):
                r = rows + di
                row_ok = (r >= 0) & (r < H)
                for dj in tl.static_range(-1, 2):
                    q = cols + dj
                    v = tl.load(x_ptr + base + r * W + q, mask=row_ok & (q >= 0) & (q < W),
                                other=0.0)
                    wt = tl.load(w_ptr + c * 9 + (di + 1) * 3 + (dj + 1))
                    acc += v.to(tl.float32) * wt.to(tl.float32)
            tl.store(out_ptr + base + rows * W + cols, acc.to(out_ptr.dtype.element_ty),
                     mask=(rows < H) & (cols < W))


def depthwise_conv3x3(x, weight, bias=None):
    x = x.contiguous()
    weight = weight.contiguous()
    n, c, height, width = x.shape
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    b = bias.contiguous() if bias is not None else weight
    depthwise_conv3x3_kernel[(n * c,)](x, weight, b, out, c, height, width,
                                       HAS_BIAS=bias is not None, BLOCK_H=BLOCK_H,
                                       BLOCK_W=BLOCK_W)
    return out
