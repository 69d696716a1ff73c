"""WRONG: works in NHWC order on x.contiguous(memory_format=torch.channels_last), and writes
the result into that "private copy" to save an allocation. For a contiguous (NCHW) x the
copy is real; for a channels-last x it is x itself, and the caller's activations are
overwritten. Values are always right. Caught by test_inputs_unchanged (channels-last case)."""

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
    channel = offsets % channels                             # NHWC: o = ((n*H + h)*W + w)*C + c
    b = tl.load(bias_ptr + channel, mask=mask)
    y = tl.maximum(x + b, 0.0)
    tl.store(out_ptr + offsets, y, mask=mask)


def bias_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    x = x.contiguous(memory_format=torch.channels_last)   # NHWC order ("a private copy")
    bias = bias.contiguous()
    out = x                                  # reuse the copy's memory
    n = x.numel()
    if n == 0:
        return out
    _, channels, height, width = x.shape
    grid = (triton.cdiv(n, BLOCK_SIZE),)
    bias_relu_kernel[grid](x, bias, out, n, height * width, channels, BLOCK_SIZE=BLOCK_SIZE)
    return out
