"""Hidden checks for `fast-conv2d`: correctness of the candidate's fast conv2d (forward only).

Speed is not checked here: grader/timing.py times the candidate against F.conv2d on the
[timing] cases of exercise.toml once every check below has passed (and checks the result again
at that size, under the same forbidden-op guard).

The oracle is torch.nn.functional.conv2d on float64 copies of the inputs, cast back to the
input's dtype. The tolerance is h.tolerances(dtype, C*R*S), with the absolute part raised to
4 * eps * sqrt(C*R*S) * RMS(expected): the rounding error of a sum of n products grows like
eps * sqrt(n) * (size of the partial sums), and on a ResNet-sized output (400k elements) the
sqrt(n)-only default is exceeded by a few correct elements near zero.
The result may have any memory layout (a channels-last permuted view is fine): shape, dtype,
device and values are compared, not strides.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "fast_conv"
F64 = torch.float64
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


# ------------------------------------------------------------------------------------ helpers

def _oracle(x, w, b=None, **kw):
    """F.conv2d on float64 copies, cast back to x's dtype: the expected value."""
    with torch.no_grad():
        b64 = None if b is None else b.detach().to(F64)
        out = F.conv2d(x.detach().to(F64), w.detach().to(F64), b64, **kw)
    return out.to(x.dtype)


def _atol(expected, reduction):
    """Absolute tolerance: the harness default, or 4 eps sqrt(n) RMS(expected) if larger."""
    _, atol = h.tolerances(expected.dtype, reduction)
    if expected.numel() == 0:
        return atol
    rms = float(expected.double().pow(2).mean().sqrt())
    return max(atol, 4 * torch.finfo(expected.dtype).eps * reduction ** 0.5 * rms)


def check(x, w, b=None, label="", **kw):
    """Call the candidate's conv2d(x, w[, b], **kw) and compare with F.conv2d. `label` names
    the case in the failure message."""
    conv2d = h.candidate(MODULE).conv2d
    expected = _oracle(x, w, b, **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(conv2d, *args, **kw)
    reduction = w[0].numel()
    call = f"[{label}] {h.last_call()}" if label else h.last_call()
    h.assert_close(got, expected, call=call, reduction=reduction,
                   atol=_atol(expected, reduction), expected_from="torch.nn.functional.conv2d")
    return got


def _layout(x, layout):
    """The same values in another memory layout: h.in_layout's, or "sliced"."""
    if layout == "sliced":                                  # every other element of a wider W
        wide = torch.zeros(*x.shape[:3], 2 * x.shape[3], dtype=x.dtype)
        wide[..., ::2] = x
        return wide[..., ::2]
    return h.in_layout(x, layout)


# ------------------------------------------------------------------------------------- checks
# Each check varies one property and leaves everything else at its default (stride 1,
# padding 0, no bias, float32, contiguous); the combined checks say so in their names.

def test_basic():
    """basic 3x3 convolution (no stride, padding or bias): shape and values, kernel not flipped"""
    check(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3))
    check(h.randn(1, 1, 5, 5), h.randn(1, 1, 3, 3))


def test_bias():
    """bias added once per output channel (None means no bias); the bias is left unchanged"""
    conv2d = h.candidate(MODULE).conv2d
    check(h.randn(2, 3, 6, 6), h.randn(5, 3, 3, 3), h.randn(5), label="bias")
    check(h.randn(2, 4, 7, 5), h.randn(5, 4, 2, 2), h.randn(5), label="bias, Q == K")
    check(h.randn(1, 2, 6, 6), h.randn(2, 2, 3, 3), None, label="bias=None")
    check(h.randn(2, 3, 5, 5), h.randn(6, 3, 3, 3), h.randn(12)[::2], label="strided bias")
    x, w, b = h.randn(2, 3, 5, 5), h.randn(4, 3, 3, 3), h.randn(4)
    saved = b.clone()
    h.call(conv2d, x, w, b)
    h.assert_unchanged(saved, b, "bias", call=h.last_call())


def test_stride_int():
    """stride as an int, including sizes the stride does not divide"""
    for hw, k, stride in [((9, 9), 3, 2), ((8, 8), 3, 2), ((10, 11), 2, 3), ((7, 7), 2, 3)]:
        check(h.randn(2, 3, *hw), h.randn(4, 3, k, k), stride=stride, label=f"stride={stride}")


def test_stride_pair():
    """stride as a pair (sh, sw), including sizes the stride does not divide"""
    for hw, k, stride in [((9, 10), 3, (2, 1)), ((7, 12), 2, (1, 3)), ((11, 8), 3, (3, 2))]:
        check(h.randn(2, 3, *hw), h.randn(4, 3, k, k), stride=stride, label=f"stride={stride}")


def test_padding_int():
    """padding as an int, including padding as large as the kernel"""
    for padding in (1, 2, 3):
        check(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), padding=padding,
              label=f"padding={padding}")


def test_padding_pair():
    """padding as a pair (ph, pw): ph on both sides of H, pw on both sides of W"""
    for padding in [(1, 2), (0, 3), (2, 0)]:
        check(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), padding=padding,
              label=f"padding={padding}")


def test_pointwise_1x1():
    """1x1 kernels"""
    check(h.randn(2, 8, 5, 6), h.randn(4, 8, 1, 1))
    check(h.randn(1, 3, 5, 5), h.randn(6, 3, 1, 1))


def test_pointwise_1x1_with_stride_and_padding():
    """combined: 1x1 kernels with stride and with padding"""
    check(h.randn(2, 8, 7, 6), h.randn(4, 8, 1, 1), stride=2, label="1x1, stride=2")
    check(h.randn(1, 3, 5, 5), h.randn(6, 3, 1, 1), padding=1, label="1x1, padding=1")
    check(h.randn(1, 3, 6, 5), h.randn(6, 3, 1, 1), stride=2, padding=1,
          label="1x1, stride=2, padding=1")


def test_non_square():
    """non-square inputs and kernels"""
    check(h.randn(2, 3, 6, 11), h.randn(4, 3, 2, 5))
    check(h.randn(2, 3, 12, 7), h.randn(4, 3, 5, 1))
    check(h.randn(1, 2, 5, 13), h.randn(3, 2, 1, 4))
    # one tap short of 1x1 either way: a shortcut for 1x1 kernels must test both sizes
    check(h.randn(2, 3, 7, 9), h.randn(4, 3, 1, 2))
    check(h.randn(1, 2, 8, 6), h.randn(3, 2, 2, 1))


def test_single_output_pixel():
    """kernel as large as the image: a 1x1 output; single channel and filter"""
    check(h.randn(3, 4, 5, 5), h.randn(2, 4, 5, 5))
    check(h.randn(1, 1, 4, 4), h.randn(1, 1, 4, 4))


def test_non_contiguous():
    """non-contiguous inputs and weights: transposed, sliced, channels-last"""
    for layout in ("transposed", "sliced", "channels_last"):
        for k in (3, 1):
            x = _layout(h.randn(2, 4, 7, 8), layout)
            check(x, h.randn(5, 4, k, k), label=f"{layout} input, {k}x{k} kernel")
    x_s = h.randn(2, 6, 8, 8)[:, ::2]                          # (2, 3, 8, 8), every other channel
    check(x_s, h.randn(4, 3, 3, 3), label="every other channel of the input")
    w_nc = h.randn(3, 3, 4, 6).permute(3, 2, 0, 1)             # (6, 4, 3, 3), permuted
    check(h.randn(2, 4, 6, 7), w_nc, label="permuted weight")
    check(_layout(h.randn(2, 4, 6, 7), "channels_last"), _layout(h.randn(6, 4, 3, 3),
          "channels_last"), label="channels-last input and weight")


def test_dtype_float64():
    """dtype preserved: float64 in, float64 out (tight tolerance)"""
    check(h.randn(2, 3, 7, 7, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64))
    check(h.randn(1, 4, 6, 6, dtype=F64), h.randn(4, 4, 1, 1, dtype=F64))


def test_inputs_unchanged():
    """arguments left unchanged (values, shape, dtype), whatever their memory layout"""
    conv2d = h.candidate(MODULE).conv2d
    # A kernel that believes it works on a private copy must get one: .contiguous() (and
    # .permute(0, 2, 3, 1).contiguous()) copy only when the layout differs, so the input
    # comes in all three kinds of layout.
    for layout in ("contiguous", "channels_last", "transposed"):
        for r in (3, 1):
            x = _layout(h.randn(2, 4, 6, 6), layout)
            w = _layout(h.randn(4, 4, r, r), layout)
            saved = [t.clone() for t in (x, w)]
            h.call(conv2d, x, w)
            call = h.last_call()
            for name, before, after in zip(["input", "weight"], saved, (x, w)):
                h.assert_unchanged(before, after, f"{name} ({layout} layout, {r}x{r} kernel)",
                                   call=call)


def test_timing_sized():
    """a ResNet-sized layer, the size of the timed case (8 x 64 x 28 x 28, 3x3, 64 filters)"""
    x, w = h.randn(8, 64, 28, 28), h.randn(64, 64, 3, 3)
    check(x, w)


@st.composite
def conv_cases(draw):
    """A random valid call: shapes, stride, padding, bias and dtype."""
    n, c, k = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    r, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    min_h, min_w = max(1, r - 2 * ph), max(1, s - 2 * pw)    # at least one output pixel
    hh, ww = draw(st.integers(min_h, min_h + 7)), draw(st.integers(min_w, min_w + 7))
    kwargs = {
        "stride": sh if sh == sw and draw(st.booleans()) else (sh, sw),
        "padding": ph if ph == pw and draw(st.booleans()) else (ph, pw),
    }
    return {"x": (n, c, hh, ww), "w": (k, c, r, s), "bias": draw(st.booleans()),
            "layout": draw(st.sampled_from(["contiguous", "channels_last", "transposed"])),
            "dtype": draw(st.sampled_from([torch.float32, F64])), "kwargs": kwargs,
            "seed": draw(st.integers(0, 2**20))}


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=conv_cases())
def test_random(case):
    """combined: random shapes, strides, paddings, bias, dtype and memory layout"""
    gen = h.generator(case["seed"])
    x = _layout(h.randn(*case["x"], dtype=case["dtype"], gen=gen), case["layout"])
    w = h.randn(*case["w"], dtype=case["dtype"], gen=gen)
    b = h.randn(case["w"][0], dtype=case["dtype"], gen=gen) if case["bias"] else None
    check(x, w, b, **case["kwargs"])
