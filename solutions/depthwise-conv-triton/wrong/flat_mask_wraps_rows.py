"""WRONG: masks the taps with the flat offset only (0 <= r*W + q < H*W) instead of the row and
column separately: column -1 of row r reads the last pixel of row r - 1 and column W reads
the first of row r + 1, instead of the zero padding. Right only when W == 1.
Caught by: test_zero_padding_at_borders, test_thin_images
"""

import torch
import triton
import triton.language as tl

BLOCK_H = 16
BLOCK_W = 16


@triton.jit
def depthwise_conv3x3_kernel(x_ptr, w_ptr, b_ptr, out_ptr, C, H, W, HAS_BIAS: tl.constexpr,
                             BLOCK_H: tl.constexpr, BLOCK_W: tl.constexpr):
    plane = tl.program_id(0)                                      # n * C + c
    c = plane % C
    rows = tl.program_id(1) * BLOCK_H + tl.arange(0, BLOCK_H)[:, None]
    cols = tl.program_id(2) * BLOCK_W + tl.arange(0, BLOCK_W)[None, :]
    base = plane.to(tl.int64) * H * W
    acc = tl.full((BLOCK_H, BLOCK_W), 0.0, tl.float32)   # (tl.zeros: see the README)
    for i in tl.static_range(3):
        for j in tl.static_range(3):
            r = rows + (i - 1)                                    # tap (i, j) reads x[r, q]
            q = cols + (j - 1)
            inside = (r * W + q >= 0) & (r * W + q < H * W)      # outside: zero padding
            v = tl.load(x_ptr + base + r * W + q, mask=inside, other=0.0)
            wt = tl.load(w_ptr + c * 9 + i * 3 + j)               # weight[c, 0, i, j]
            acc += v.to(tl.float32) * wt.to(tl.float32)
    if HAS_BIAS:
        acc += tl.load(b_ptr + c).to(tl.float32)
    keep = (rows < H) & (cols < W)                                # the partial last tile
    tl.store(out_ptr + base + rows * W + cols, acc.to(out_ptr.dtype.element_ty), mask=keep)


def depthwise_conv3x3(x: torch.Tensor, weight: torch.Tensor, bias=None) -> torch.Tensor:
    x = x.contiguous()                        # the offsets assume NCHW (no-op when it is)
    weight = weight.contiguous()
    n, c, height, width = x.shape
    out = torch.empty((n, c, height, width), dtype=x.dtype, device=x.device)
    has_bias = bias is not None
    b = bias.contiguous() if has_bias else weight     # any pointer: never read without bias
    grid = (n * c, triton.cdiv(height, BLOCK_H), triton.cdiv(width, BLOCK_W))
    depthwise_conv3x3_kernel[grid](x, weight, b, out, c, height, width, HAS_BIAS=has_bias,
                                   BLOCK_H=BLOCK_H, BLOCK_W=BLOCK_W)
    return out
