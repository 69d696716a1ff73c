"""Partial: the reference without float16 support.

Missing: float16. Allowed to fail: test_float16, test_random
"""

import torch
import triton
import triton.language as tl

BLOCK_SIZE = 1024


@triton.jit
def bias_relu_kernel(x_ptr, bias_ptr, out_ptr, n_elements, hw, channels,
                     BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)   # (BLOCK_SIZE,) flat indices
    mask = offsets < n_elements                              # the last block is partial
    x = tl.load(x_ptr + offsets, mask=mask)
    channel = (offsets // hw) % channels                     # NCHW: o = ((n*C + c)*H + h)*W + w
    b = tl.load(bias_ptr + channel, mask=mask)
    y = tl.maximum(x + b, 0.0)
    tl.store(out_ptr + offsets, y, mask=mask)


def bias_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.float16:
        raise NotImplementedError("float16")
    x = x.contiguous()
    bias = bias.contiguous()
    out = torch.empty_like(x)                # (N, C, H, W), x's dtype and device
    n = x.numel()
    if n == 0:
        return out
    _, channels, height, width = x.shape
    grid = (triton.cdiv(n, BLOCK_SIZE),)
    bias_relu_kernel[grid](x, bias, out, n, height * width, channels, BLOCK_SIZE=BLOCK_SIZE)
    return out
