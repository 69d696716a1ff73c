"""WRONG: always allocates a float32 output: float16 in, float32 out. Caught by test_float16.
"""

import torch
import triton
import triton.language as tl

BLOCK_SIZE = 1024


@triton.jit
def bias_relu_kernel(x_ptr, bias_ptr, out_ptr, n_elements, hw, channels,
                     BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    b = tl.load(bias_ptr + (offsets // hw) % channels, mask=mask).to(tl.float32)
    tl.store(out_ptr + offsets, tl.maximum(x + b, 0.0), mask=mask)


def bias_relu(x, bias):
    x = x.contiguous()
    bias = bias.contiguous()
    out = torch.empty(x.shape, dtype=torch.float32, device=x.device)
    n = x.numel()
    _, channels, height, width = x.shape
    bias_relu_kernel[(triton.cdiv(n, BLOCK_SIZE),)](x, bias, out, n, height * width, channels,
                                                    BLOCK_SIZE=BLOCK_SIZE)
    return out
