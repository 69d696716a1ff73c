"""Hidden checks for `depthwise-conv-triton`: the candidate's depthwise 3x3 Triton kernel.

On a CPU-only machine the grading child sets TRITON_INTERPRET=1 before anything imports
triton, so the kernel runs in Triton's interpreter (about 40 ms per program: the shapes here
are tiny on purpose); with a GPU it is compiled and the tensors live on h.device(). Built-in
convolutions and PyTorch's arithmetic are forbidden at run time (forbidden_ops in
exercise.toml), so the result must come from the kernel; test_kernel_launched also checks that
`depthwise_conv3x3_kernel` is a Triton kernel and that `depthwise_conv3x3` launches it once.

The oracle is F.conv2d(x, weight, bias, padding=1, groups=C) in float64 on copies, cast to x's
dtype, compared with a tolerance for a 9-term reduction. Independent credit: every check runs
at the defaults (float32, contiguous, no bias) except for the property it is named for.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "depthwise_conv"
F16 = torch.float16
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


# ------------------------------------------------------------------------------------ helpers

def randn(*shape, dtype=torch.float32, gen=None):
    return h.randn(*shape, dtype=dtype, gen=gen).to(h.device())


def _oracle(x, weight, bias=None):
    with torch.no_grad():
        b64 = None if bias is None else bias.detach().double()
        out = F.conv2d(x.detach().double(), weight.detach().double(), b64, padding=1,
                       groups=x.shape[1])
    return out.to(x.dtype)


def check(x, weight, bias=None, label=""):
    """Call the candidate's depthwise_conv3x3(x, weight[, bias]) and compare with F.conv2d.
    `label` names the case in the failure message."""
    fn = h.candidate(MODULE).depthwise_conv3x3
    expected = _oracle(x, weight, bias)
    got = h.call(fn, x, weight) if bias is None else h.call(fn, x, weight, bias)
    call = f"[{label}] {h.last_call()}" if label else h.last_call()
    h.assert_close(got, expected, call=call, reduction=9,
                   expected_from="F.conv2d(x, weight, bias, padding=1, groups=C)")
    return got


def case(n, c, hh, ww, dtype=torch.float32):
    """x (n, c, hh, ww) and weight (c, 1, 3, 3) from the secret seed."""
    return randn(n, c, hh, ww, dtype=dtype), randn(c, 1, 3, 3, dtype=dtype)


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
    """depthwise_conv3x3_kernel is a Triton kernel, and depthwise_conv3x3 launches it once"""
    import triton

    mod = h.candidate(MODULE)
    kernel = getattr(mod, "depthwise_conv3x3_kernel", None)
    h.check(isinstance(kernel, triton.runtime.jit.KernelInterface),
            "depthwise_conv.py must define depthwise_conv3x3_kernel as a Triton kernel "
            f"(decorated with @triton.jit); found {h.describe(kernel)}")
    counter = _CountingKernel(kernel)
    mod.depthwise_conv3x3_kernel = counter
    try:                       # the values are the other checks' business: launches only
        h.call(mod.depthwise_conv3x3, *case(2, 2, 5, 5))
    finally:
        mod.depthwise_conv3x3_kernel = kernel
    h.check(len(counter.launches) == 1,
            f"depthwise_conv3x3(Tensor[2, 2, 5, 5], Tensor[2, 1, 3, 3]) launched "
            f"depthwise_conv3x3_kernel {len(counter.launches)} times; expected exactly one "
            "launch (depthwise_conv3x3_kernel[grid](...), by its module-level name)")


def test_basic():
    """basic case: shape, dtype and values (float32 in, float32 out)"""
    x = torch.arange(9.0, device=h.device()).reshape(1, 1, 3, 3)
    w = torch.zeros(1, 1, 3, 3, device=h.device())
    w[0, 0, 1, 1] = 1.0
    w[0, 0, 0, 0] = 10.0                             # the top-left tap reads x[h-1, w-1]
    got = check(x, w)
    h.check(got.shape == (1, 1, 3, 3), f"depthwise_conv3x3 returned shape {list(got.shape)}")
    check(*case(1, 3, 6, 6))


def test_not_flipped():
    """cross-correlation: weight[c, 0, i, j] multiplies x[c, h + i - 1, w + j - 1], no flip"""
    fn = h.candidate(MODULE).depthwise_conv3x3
    x, w = case(1, 2, 5, 5)
    flipped = _oracle(x, w.flip(-1, -2))
    got = h.call(fn, x, w)
    call = h.last_call()
    if (type(got) is torch.Tensor and got.shape == flipped.shape and got.dtype == flipped.dtype
            and got.device == flipped.device
            and bool(torch.isclose(got, flipped, rtol=1e-4, atol=1e-4).all())):
        raise h.CheckFailed(f"{call} flipped the kernel (a textbook convolution); conv2d is a "
                            "cross-correlation: out[h, w] = sum weight[i, j] * x[h+i-1, w+j-1]")
    h.assert_close(got, _oracle(x, w), call=call, reduction=9,
                   expected_from="F.conv2d(x, weight, padding=1, groups=C)")


def test_zero_padding_at_borders():
    """padding 1 with zeros: taps outside the image read 0 (not a clamped or wrapped pixel)"""
    ones = torch.ones(1, 1, 4, 5, device=h.device())
    check(ones, torch.ones(1, 1, 3, 3, device=h.device()), label="all ones: 4 at the corners")
    # off-centre taps only: every border pixel's value depends on what the padding reads
    x, w = case(1, 2, 5, 6)
    w[:, :, 1, 1] = 0.0
    check(x, w, label="centre tap zero")


def test_sizes_not_multiple_of_block():
    """H and W not multiples of the block (partial last tiles), and images of several tiles"""
    for shape in [(1, 1, 7, 11), (1, 1, 17, 19), (1, 1, 37, 5), (1, 1, 6, 41)]:
        check(*case(*shape), label=f"{shape[2]}x{shape[3]} image")


def test_thin_images():
    """1x1 images, single rows and single columns (most taps are padding)"""
    for shape in [(1, 1, 1, 1), (1, 2, 1, 9), (1, 2, 9, 1), (1, 1, 2, 2)]:
        check(*case(*shape), label=f"{shape[2]}x{shape[3]} image")


def test_channels():
    """every channel is convolved with its own 3x3 filter"""
    check(*case(1, 16, 4, 4))
    check(*case(1, 5, 3, 7))


def test_batches():
    """a batch of images: image n, channel c uses weight[c] (planes are n*C + c)"""
    check(*case(4, 3, 4, 4))
    check(*case(3, 2, 5, 3))


def test_bias():
    """bias[c] is added to every pixel of channel c (also a strided view); bias=None adds 0"""
    x, w = case(2, 4, 5, 5)
    check(x, w, randn(4), label="bias")
    check(x, w, randn(8)[1::2], label="strided bias view")
    fn = h.candidate(MODULE).depthwise_conv3x3
    got = h.call(fn, x, w, None)
    h.assert_close(got, _oracle(x, w), call=h.last_call(), reduction=9,
                   expected_from="F.conv2d(x, weight, None, padding=1, groups=C)")


def test_non_contiguous():
    """non-contiguous x (channels-last, transposed, sliced) and a strided weight view"""
    x, w = case(1, 3, 5, 6)
    check(x.contiguous(memory_format=torch.channels_last), w, label="channels-last x")
    x, w = case(1, 2, 6, 5)
    check(x.transpose(2, 3), w, label="transposed x")
    x, w = case(1, 6, 4, 4)
    check(x[:, ::2], w[::2], label="sliced x, strided weight")
    x, w = case(1, 2, 4, 5)
    check(x, randn(2, 2, 3, 3)[:, :1], label="weight a slice of a bigger tensor")


def test_float16():
    """float16 in, float16 out"""
    check(*case(1, 2, 8, 8, dtype=F16))
    check(*case(2, 3, 4, 4, dtype=F16))


def test_inputs_unchanged():
    """arguments left unchanged (in every memory layout), and the result is a new tensor"""
    fn = h.candidate(MODULE).depthwise_conv3x3
    # For the non-contiguous layouts only "unchanged" is judged, even if the call failed:
    # layout support itself is test_non_contiguous's business.
    for layout in ("contiguous", "channels_last", "transposed"):
        x, w = case(1, 2, 5, 5)
        x = h.in_layout(x, layout)
        saved = (x.clone(), w.clone())
        try:
            got = h.call(fn, x, w)
        except h.Tampered:
            raise
        except h.CheckFailed:
            if layout == "contiguous":
                raise
            got = None
        call = f"[{layout} x] {h.last_call()}"
        h.assert_unchanged(saved[0], x, f"x ({layout})", call=call)
        h.assert_unchanged(saved[1], w, "weight", call=call)
        h.check(got is None or type(got) is not torch.Tensor or got.data_ptr() != x.data_ptr(),
                f"{call} returned x itself; return a new tensor")


@pytest.mark.points(2)
@settings(max_examples=10, **HYPOTHESIS)
@given(n=st.integers(1, 2), c=st.integers(1, 4), hh=st.integers(1, 20), ww=st.integers(1, 20),
       bias=st.booleans(), half=st.booleans(),
       layout=st.sampled_from(["contiguous", "channels_last", "transposed"]),
       seed=st.integers(0, 2**20))
def test_random(n, c, hh, ww, bias, half, layout, seed):
    """combined: random shapes, bias, dtypes and layouts"""
    gen = h.generator(seed)
    dtype = F16 if half else torch.float32
    x = h.in_layout(randn(n, c, hh, ww, dtype=dtype, gen=gen), layout)
    w = randn(c, 1, 3, 3, dtype=dtype, gen=gen)
    b = randn(c, dtype=dtype, gen=gen) if bias else None
    check(x, w, b, label=f"{layout} {dtype}{' with bias' if bias else ''}")
