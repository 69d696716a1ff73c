"""WRONG: channel = offset % C, the channels-last formula, on an NCHW tensor: every element gets
the bias of the wrong channel (right only when H*W == 1). Caught by test_basic and most others.
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
    x = tl.load(x_ptr + offsets, mask=mask)
    b = tl.load(bias_ptr + offsets % channels, mask=mask)
    tl.store(out_ptr + offsets, tl.maximum(x + b, 0.0), mask=mask)


def bias_relu(x, bias):
    x = x.contiguous()
    bias = bias.contiguous()
    out = torch.empty_like(x)
    n = x.numel()
    _, channels, height, width = x.shape
    bias_relu_kernel[(triton.cdiv(n, BLOCK_SIZE),)](x, bias, out, n, height * width, channels,
                                                    BLOCK_SIZE=BLOCK_SIZE)
    return out
