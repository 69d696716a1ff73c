"""Fused bias + ReLU in Triton: out = max(x + bias[channel], 0) in a single kernel.

Write the kernel (`bias_relu_kernel`, a @triton.jit function) and its launcher (`bias_relu`).
Without a GPU, the grader runs Triton's interpreter (TRITON_INTERPRET=1, set before triton is
imported); the public tests do the same.
"""

import torch
import triton
import triton.language as tl

BLOCK_SIZE = 1024


@triton.jit
def bias_relu_kernel(x_ptr, bias_ptr, out_ptr, n_elements, hw, channels,
                     BLOCK_SIZE: tl.constexpr):
    """One program: BLOCK_SIZE consecutive elements of the flattened contiguous (N, C, H, W) x.

    x_ptr, out_ptr: n_elements values; bias_ptr: `channels` values; hw = H * W.
    """
    # TODO: this program's offsets, a mask for the partial last block, the channel of every
    # element, load x and bias, store max(x + bias, 0).
    pass


def bias_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """relu(x + bias[None, :, None, None]), computed by bias_relu_kernel.

    Args:
        x:    (N, C, H, W) float32 or float16, on the device the kernel runs on; any layout.
        bias: (C,), same dtype and device.

    Returns:
        a new (N, C, H, W) tensor with x's dtype; x and bias are left unchanged.
        Launch the kernel by its module-level name: bias_relu_kernel[grid](...).
    """
    # TODO: make x contiguous, allocate the output, compute the grid, launch the kernel.
    raise NotImplementedError("bias_relu")
