"""WRONG: grid = n // BLOCK_SIZE (floor) instead of cdiv: the last, partial block is never run,
so the tail of the output is whatever torch.empty_like left there. Right only when the size is
a multiple of 1024. Caught by test_sizes_not_multiple_of_block (and most small cases)."""

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
    x = tl.load(x_ptr + offsets, mask=mask)
    b = tl.load(bias_ptr + (offsets // hw) % channels, mask=mask)
    tl.store(out_ptr + offsets, tl.maximum(x + b, 0.0), mask=mask)


def bias_relu(x, bias):
    x = x.contiguous()
    bias = bias.contiguous()
    out = torch.empty_like(x)
    n = x.numel()
    _, channels, height, width = x.shape
    grid = (max(n // BLOCK_SIZE, 1),)
    bias_relu_kernel[grid](x, bias, out, n, height * width, channels, BLOCK_SIZE=BLOCK_SIZE)
    return out
