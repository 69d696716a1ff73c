"""WRONG: no kernel at all, eager PyTorch does the work. Refused by the static pass (torch.relu)
and at run time (aten.relu / aten.add) in every check; Caught by: test_kernel_launched, which also
finds the kernel never launched."""

import torch
import triton
import triton.language as tl


@triton.jit
def bias_relu_kernel(x_ptr, bias_ptr, out_ptr, n_elements, hw, channels,
                     BLOCK_SIZE: tl.constexpr):
    pass


def bias_relu(x, bias):
    return torch.relu(x + bias.view(1, -1, 1, 1))
