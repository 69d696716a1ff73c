"""Hidden checks for `triton-bias-relu`: the candidate's fused bias + ReLU Triton kernel.

On a CPU-only machine the grading child sets TRITON_INTERPRET=1 before anything imports
triton, so the kernel runs in Triton's interpreter; with a GPU it is compiled and the tensors
live on h.device(). PyTorch's element-wise ops are forbidden at run time (forbidden_ops in
exercise.toml), so the result must come from the kernel; test_kernel_launched also checks that
`bias_relu_kernel` is a Triton kernel and that `bias_relu` launches it once.

The oracle is relu(x + bias) in float64 on copies, cast to x's dtype: one rounding, which a
fused kernel in float16 or float32 reproduces to within the float16 tolerance.
"""

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "bias_relu"
F16 = torch.float16
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


# ------------------------------------------------------------------------------------ helpers

def randn(*shape, dtype=torch.float32):
    return h.randn(*shape, dtype=dtype).to(h.device())


def _oracle(x, bias):
    with torch.no_grad():
        x64, b64 = x.detach().double(), bias.detach().double()
        return torch.relu(x64 + b64.view(1, -1, 1, 1)).to(x.dtype)


def check(x, bias, label=""):
    """Call the candidate's bias_relu(x, bias) and compare with relu(x + bias). `label` names
    the case in the failure message."""
    bias_relu = h.candidate(MODULE).bias_relu
    expected = _oracle(x, bias)
    got = h.call(bias_relu, x, bias)
    call = f"[{label}] {h.last_call()}" if label else h.last_call()
    h.assert_close(got, expected, call=call, reduction=2,
                   expected_from="relu(x + bias[None, :, None, None])")
    return got


class _CountingKernel:
    """Stands in for the candidate's kernel: counts `kernel[grid](...)` launches."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.launches = []

    def __getitem__(self, grid):
        launch = self.kernel[grid]

        def run(*args, **kwargs):
            self.launches.append(grid)
            return launch(*args, **kwargs)
        return run

    def __getattr__(self, name):
        return getattr(self.kernel, name)


# ------------------------------------------------------------------------------------- checks

def test_kernel_launched():
    """bias_relu_kernel is a Triton kernel, and bias_relu launches it exactly once"""
    import triton

    mod = h.candidate(MODULE)
    kernel = getattr(mod, "bias_relu_kernel", None)
    h.check(isinstance(kernel, triton.runtime.jit.KernelInterface),
            "bias_relu.py must define bias_relu_kernel as a Triton kernel (decorated with "
            f"@triton.jit); found {h.describe(kernel)}")
    counter = _CountingKernel(kernel)
    mod.bias_relu_kernel = counter
    try:                       # the values are the other checks' business: launches only
        h.call(mod.bias_relu, randn(2, 3, 4, 5), randn(3))
    finally:
        mod.bias_relu_kernel = kernel
    h.check(len(counter.launches) == 1,
            f"bias_relu(Tensor[2, 3, 4, 5], Tensor[3]) launched bias_relu_kernel "
            f"{len(counter.launches)} times; expected exactly one launch "
            "(bias_relu_kernel[grid](...), by its module-level name)")


def test_basic():
    """basic case: shape, dtype and values"""
    check(randn(2, 3, 4, 5), randn(3))
    x = torch.tensor([[[[-1.0, 2.0]], [[0.5, -3.0]]]], device=h.device())
    got = check(x, torch.tensor([0.5, 1.0], device=h.device()))
    h.check(got.shape == (1, 2, 1, 2), f"bias_relu returned shape {list(got.shape)}")


def test_sizes_not_multiple_of_block():
    """sizes that are not a multiple of the block size (the last block is partial)"""
    for shape in [(1, 1, 1, 1), (1, 3, 7, 11), (2, 3, 17, 19), (3, 5, 13, 17), (1, 2, 33, 31)]:
        check(randn(*shape), randn(shape[1]))


def test_channels_and_batches():
    """the right bias for every channel, across batches and channel counts"""
    for shape in [(4, 16, 3, 3), (3, 7, 5, 2), (1, 64, 2, 3), (5, 2, 4, 4)]:
        check(randn(*shape), randn(shape[1]))


def test_one_by_one_maps():
    """1x1 spatial maps (H = W = 1) and single rows or columns"""
    check(randn(3, 10, 1, 1), randn(10))
    check(randn(2, 4, 1, 9), randn(4))
    check(randn(2, 4, 9, 1), randn(4))


def test_large_tensor():
    """a tensor of many blocks (many programs)"""
    check(randn(2, 32, 40, 40), randn(32))


def test_non_contiguous():
    """non-contiguous inputs: channels-last, transposed, sliced"""
    check(randn(2, 6, 5, 7).contiguous(memory_format=torch.channels_last), randn(6),
          label="channels-last x")
    check(randn(2, 3, 7, 5).transpose(2, 3), randn(3), label="transposed x")
    check(randn(2, 8, 6, 6)[:, ::2], randn(8)[1::2], label="sliced x, strided bias")


def test_float16():
    """float16 in, float16 out"""
    # whole blocks (1024 and 2048 elements): partial blocks are another check's business
    check(randn(2, 4, 8, 16, dtype=F16), randn(4, dtype=F16))
    check(randn(1, 16, 8, 16, dtype=F16), randn(16, dtype=F16))


def test_inputs_unchanged():
    """arguments left unchanged (in every memory layout), and the result is a new tensor"""
    bias_relu = h.candidate(MODULE).bias_relu
    # x.contiguous() copies only when x is not contiguous already (and
    # .contiguous(memory_format=torch.channels_last) only when it is not channels-last): a
    # launcher that writes into what it takes for a private copy overwrites the caller's x
    # in one of these layouts. Layout support itself is test_non_contiguous's business: for
    # the non-contiguous layouts only "unchanged" is judged, even if the call failed.
    for layout in ("contiguous", "channels_last", "transposed"):
        x = h.in_layout(randn(2, 4, 6, 5), layout)
        bias = randn(8)[::2] if layout != "contiguous" else randn(4)
        saved = (x.clone(), bias.clone())
        try:
            got = h.call(bias_relu, x, bias)
        except h.Tampered:
            raise
        except h.CheckFailed:
            if layout == "contiguous":
                raise
            got = None
        call = f"[{layout} x] {h.last_call()}"
        h.assert_unchanged(saved[0], x, f"x ({layout})", call=call)
        h.assert_unchanged(saved[1], bias, "bias", call=call)
        h.check(got is None or type(got) is not torch.Tensor or got.data_ptr() != x.data_ptr(),
                f"{call} returned x itself; return a new tensor")


@pytest.mark.points(2)
@settings(max_examples=20, **HYPOTHESIS)
@given(n=st.integers(1, 3), c=st.integers(1, 9), hh=st.integers(1, 12), ww=st.integers(1, 12),
       half=st.booleans(), layout=st.sampled_from(["contiguous", "channels_last"]),
       seed=st.integers(0, 2**20))
def test_random(n, c, hh, ww, half, layout, seed):
    """combined: random shapes, dtypes and layouts"""
    gen = h.generator(seed)
    dtype = F16 if half else torch.float32
    x = h.randn(n, c, hh, ww, dtype=dtype, gen=gen).to(h.device())
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    check(x, h.randn(c, dtype=dtype, gen=gen).to(h.device()), label=f"{layout} {dtype}")
