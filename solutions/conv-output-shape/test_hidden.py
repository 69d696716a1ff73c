"""Hidden checks for conv-output-shape: answers compared with the shapes PyTorch produces."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "shape"


def pair(n):
    return (n, n) if isinstance(n, int) else tuple(n)


def torch_shape(size, kernel, stride=1, padding=0, dilation=1):
    """The oracle: run a real (tiny) convolution and read its output shape."""
    x = torch.zeros(1, 1, *pair(size))
    w = torch.zeros(1, 1, *pair(kernel))
    return tuple(F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation).shape[2:])


def answer(**kwargs):
    fn = h.candidate(MODULE).conv2d_output_shape
    return h.call(fn, **kwargs), h.last_call()


def expect(got, call, want):
    h.check(type(got) is tuple and len(got) == 2 and all(type(v) is int for v in got),
            f"{call} returned {h.describe(got)} ({type(got).__name__}); expected a tuple of two "
            f"Python ints like {want}")
    h.check(got == want, f"{call} returned {got}; PyTorch produces {want}")


sizes = st.integers(1, 40)
kernels = st.integers(1, 7)
pairs = lambda s: st.one_of(s, st.tuples(s, s))  # noqa: E731


def test_plain():
    """a plain 3x3 kernel"""
    got, call = answer(input_size=28, kernel_size=3)
    expect(got, call, (26, 26))


@settings(max_examples=25)
@given(size=st.tuples(st.integers(8, 40), st.integers(8, 40)), kernel=pairs(st.integers(1, 5)),
       stride=pairs(st.integers(1, 4)))
def test_stride(size, kernel, stride):
    """stride (int and pairs)"""
    got, call = answer(input_size=size, kernel_size=kernel, stride=stride)
    expect(got, call, torch_shape(size, kernel, stride=stride))


@settings(max_examples=25)
@given(size=pairs(sizes), kernel=pairs(kernels), padding=pairs(st.integers(0, 4)),
       stride=st.integers(1, 3))
def test_padding(size, kernel, padding, stride):
    """integer and pair padding"""
    kh, kw = pair(kernel)
    sh, sw = pair(size)
    ph, pw = pair(padding)
    if sh + 2 * ph < kh or sw + 2 * pw < kw:
        return
    got, call = answer(input_size=size, kernel_size=kernel, stride=stride, padding=padding)
    expect(got, call, torch_shape(size, kernel, stride=stride, padding=padding))


@settings(max_examples=25)
@given(size=pairs(st.integers(10, 40)), kernel=pairs(kernels), dilation=pairs(st.integers(1, 3)),
       padding=st.integers(0, 2))
def test_dilation(size, kernel, dilation, padding):
    """dilation"""
    if any(n + 2 * padding < d * (k - 1) + 1 for n, k, d in zip(pair(size), pair(kernel), pair(dilation))):
        return
    got, call = answer(input_size=size, kernel_size=kernel, dilation=dilation, padding=padding)
    expect(got, call, torch_shape(size, kernel, dilation=dilation, padding=padding))


@settings(max_examples=20)
@given(size=pairs(sizes), kernel=pairs(st.integers(1, 6)), dilation=pairs(st.integers(1, 2)))
def test_same(size, kernel, dilation):
    """padding='same' (odd and even kernels)"""
    if any(n < d * (k - 1) + 1 for n, k, d in zip(pair(size), pair(kernel), pair(dilation))):
        return
    got, call = answer(input_size=size, kernel_size=kernel, padding="same", dilation=dilation)
    expect(got, call, torch_shape(size, kernel, padding="same", dilation=dilation))


@settings(max_examples=20)
@given(size=pairs(st.integers(8, 30)), kernel=pairs(kernels), stride=pairs(st.integers(1, 3)))
def test_valid(size, kernel, stride):
    """padding='valid'"""
    got, call = answer(input_size=size, kernel_size=kernel, stride=stride, padding="valid")
    expect(got, call, torch_shape(size, kernel, stride=stride, padding="valid"))


@settings(max_examples=25)
@given(h_=st.integers(6, 40), w_=st.integers(6, 40), kh=kernels, kw=kernels,
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 3), pw=st.integers(0, 3),
       dh=st.integers(1, 2), dw=st.integers(1, 2))
def test_everything_non_square(h_, w_, kh, kw, sh, sw, ph, pw, dh, dw):
    """non-square sizes with every parameter at once"""
    if h_ + 2 * ph < dh * (kh - 1) + 1 or w_ + 2 * pw < dw * (kw - 1) + 1:
        return
    got, call = answer(input_size=(h_, w_), kernel_size=(kh, kw), stride=(sh, sw),
                       padding=(ph, pw), dilation=(dh, dw))
    expect(got, call, torch_shape((h_, w_), (kh, kw), (sh, sw), (ph, pw), (dh, dw)))


@pytest.mark.parametrize("kwargs", [
    {"input_size": 3, "kernel_size": 5},
    {"input_size": 5, "kernel_size": 3, "dilation": 3},
    {"input_size": 8, "kernel_size": 3, "stride": 2, "padding": "same"},
    {"input_size": 8, "kernel_size": 3, "stride": 0},
], ids=["kernel-too-large", "dilated-too-large", "same-with-stride", "zero-stride"])
def test_errors(kwargs):
    """raises ValueError where PyTorch refuses"""
    fn = h.candidate(MODULE).conv2d_output_shape
    call = h.format_call("conv2d_output_shape", (), kwargs)
    try:
        got = fn(**kwargs)
    except ValueError:
        return
    except Exception as exc:  # noqa: BLE001
        raise h.CheckFailed(f"{call} raised {type(exc).__name__}; expected ValueError") from None
    raise h.CheckFailed(f"{call} returned {h.safe_str(got)}; expected a ValueError "
                        "(PyTorch refuses this convolution)")
