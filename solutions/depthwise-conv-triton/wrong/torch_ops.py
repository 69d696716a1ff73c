"""WRONG: no kernel at all, PyTorch's own depthwise convolution does the work. Refused by the
static pass (torch.nn.functional.conv2d) and at run time (the aten convolution ops) in every
check. Caught by: test_kernel_launched, which also finds the kernel never launched."""

import torch
import torch.nn.functional as F
import triton
import triton.language as tl


@triton.jit
def depthwise_conv3x3_kernel(x_ptr, w_ptr, b_ptr, out_ptr, C, H, W, HAS_BIAS: tl.constexpr,
                             BLOCK_H: tl.constexpr, BLOCK_W: tl.constexpr):
    pass


def depthwise_conv3x3(x: torch.Tensor, weight: torch.Tensor, bias=None) -> torch.Tensor:
    return F.conv2d(x, weight, bias, padding=1, groups=x.shape[1])
