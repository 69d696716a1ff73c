"""Hidden checks for conv-output-shape: answers compared with the shapes PyTorch produces.

Independent credit: a check named for one property varies only that property (ints, stride 1,
no padding, no dilation otherwise); (h, w) pairs are judged by test_pairs, everything at once by
test_everything_non_square. Value checks compare the numbers (an int-valued float counts as its
value); only test_return_type judges that a tuple of two Python ints comes back.
solutions/conv-output-shape/contract.toml maps every README clause to its check and wrong/
variant; partial/ holds implementations lacking one feature each, with the checks they are
allowed to fail.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "shape"
# report_multiple_bugs=False: one failure, with its message, instead of an ExceptionGroup.
SETTINGS = dict(deadline=None, database=None, report_multiple_bugs=False)


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


def _number(v):
    """v as an int if it is an int or an int-valued float (never a bool), else None."""
    if type(v) is int:
        return v
    if type(v) is float and v == v and abs(v) != float("inf") and v == int(v):
        return int(v)
    return None


def expect(got, call, want):
    """The values must be PyTorch's; the exact type is test_return_type's business."""
    h.check(type(got) in (tuple, list) and len(got) == 2,
            f"{call} returned {h.describe(got)} ({type(got).__name__}); expected a pair "
            f"(out_h, out_w) like {want}")
    values = tuple(_number(v) for v in got)
    h.check(None not in values,
            f"{call} returned {h.describe(got)}; expected two integers like {want}")
    h.check(values == want, f"{call} returned {values}; PyTorch produces {want}")


sizes = st.integers(1, 40)
kernels = st.integers(1, 7)


def test_plain():
    """a plain 3x3 kernel"""
    for size, kernel in [(28, 3), (5, 5), (9, 1)]:
        got, call = answer(input_size=size, kernel_size=kernel)
        expect(got, call, torch_shape(size, kernel))


@settings(max_examples=25, **SETTINGS)
@given(size=st.integers(8, 40), kernel=st.integers(1, 5), stride=st.integers(1, 4))
def test_stride(size, kernel, stride):
    """stride (an int), rounding down"""
    got, call = answer(input_size=size, kernel_size=kernel, stride=stride)
    expect(got, call, torch_shape(size, kernel, stride=stride))


@settings(max_examples=25, **SETTINGS)
@given(size=sizes, kernel=kernels, padding=st.integers(0, 4))
@example(size=1, kernel=3, padding=1)      # fits only thanks to the padding on both sides
@example(size=2, kernel=5, padding=2)
def test_padding(size, kernel, padding):
    """integer padding (added on both sides)"""
    if size + 2 * padding < kernel:
        return
    got, call = answer(input_size=size, kernel_size=kernel, padding=padding)
    expect(got, call, torch_shape(size, kernel, padding=padding))


@settings(max_examples=25, **SETTINGS)
@given(size=st.integers(10, 40), kernel=kernels, dilation=st.integers(1, 3))
def test_dilation(size, kernel, dilation):
    """dilation (an int)"""
    if size < dilation * (kernel - 1) + 1:
        return
    got, call = answer(input_size=size, kernel_size=kernel, dilation=dilation)
    expect(got, call, torch_shape(size, kernel, dilation=dilation))


@settings(max_examples=20, **SETTINGS)
@given(size=sizes, kernel=st.integers(1, 6))
def test_same(size, kernel):
    """padding='same' (odd and even kernels)"""
    if size < kernel:
        return
    got, call = answer(input_size=size, kernel_size=kernel, padding="same")
    expect(got, call, torch_shape(size, kernel, padding="same"))


@settings(max_examples=20, **SETTINGS)
@given(size=st.integers(8, 30), kernel=kernels)
def test_valid(size, kernel):
    """padding='valid'"""
    got, call = answer(input_size=size, kernel_size=kernel, padding="valid")
    expect(got, call, torch_shape(size, kernel, padding="valid"))


PAIR_CASES = [
    dict(input_size=(32, 20), kernel_size=3),
    dict(input_size=24, kernel_size=(3, 5)),
    dict(input_size=(17, 30), kernel_size=(1, 7)),
    dict(input_size=20, kernel_size=3, stride=(2, 1)),
    dict(input_size=20, kernel_size=3, stride=(1, 3)),
    dict(input_size=20, kernel_size=3, padding=(2, 0)),
    dict(input_size=20, kernel_size=3, padding=(0, 1)),
]


def test_pairs():
    """input_size, kernel_size, stride and padding given as (h, w) pairs"""
    for kwargs in PAIR_CASES:
        got, call = answer(**kwargs)
        expect(got, call, torch_shape(kwargs["input_size"], kwargs["kernel_size"],
                                      kwargs.get("stride", 1), kwargs.get("padding", 0)))


@settings(max_examples=25, **SETTINGS)
@given(h_=st.integers(6, 40), w_=st.integers(6, 40), kh=kernels, kw=kernels,
       sh=st.integers(1, 3), sw=st.integers(1, 3), ph=st.integers(0, 3), pw=st.integers(0, 3),
       dh=st.integers(1, 2), dw=st.integers(1, 2),
       mode=st.sampled_from(["pair", "pair", "valid", "same"]))
def test_everything_non_square(h_, w_, kh, kw, sh, sw, ph, pw, dh, dw, mode):
    """non-square sizes with every parameter at once"""
    padding = (ph, pw) if mode == "pair" else mode
    stride = (1, 1) if mode == "same" else (sh, sw)
    if mode != "same":
        pad = (ph, pw) if mode == "pair" else (0, 0)
        if h_ + 2 * pad[0] < dh * (kh - 1) + 1 or w_ + 2 * pad[1] < dw * (kw - 1) + 1:
            return
    got, call = answer(input_size=(h_, w_), kernel_size=(kh, kw), stride=stride,
                       padding=padding, dilation=(dh, dw))
    expect(got, call, torch_shape((h_, w_), (kh, kw), stride, padding, (dh, dw)))


@pytest.mark.parametrize("kwargs", [
    {"input_size": 28, "kernel_size": 3},
    {"input_size": 28, "kernel_size": 3, "stride": 2, "padding": 1},
], ids=["plain", "strided"])
def test_return_type(kwargs):
    """returns a tuple of two plain Python ints"""
    got, call = answer(**kwargs)
    h.check(type(got) is tuple,
            f"{call} returned {h.describe(got)}, a {type(got).__name__}; expected a tuple "
            "(out_h, out_w)")
    h.check(len(got) == 2 and all(type(v) is int for v in got),
            f"{call} returned ({', '.join(type(v).__name__ for v in got)}); expected two "
            "plain Python ints (use // for the division; no float(), math.floor of floats, "
            "numpy or bool values)")


def _raises_value_error(fn):
    """conv2d_output_shape with ValueError turned into a result (other exceptions propagate to
    h.call, which explains them)."""
    def conv2d_output_shape(**kwargs):
        try:
            return False, fn(**kwargs)
        except ValueError:
            return True, None
    conv2d_output_shape.__qualname__ = "conv2d_output_shape"
    return conv2d_output_shape


@pytest.mark.parametrize("kwargs", [
    {"input_size": 3, "kernel_size": 5},
    {"input_size": 5, "kernel_size": 3, "dilation": 3},
    {"input_size": 8, "kernel_size": 3, "stride": 2, "padding": "same"},
    {"input_size": 8, "kernel_size": 3, "stride": 0},
    {"input_size": 0, "kernel_size": 1, "padding": 1},
    {"input_size": 8, "kernel_size": 3, "dilation": 0},
    {"input_size": 8, "kernel_size": 0},
    {"input_size": (8, 0), "kernel_size": 1, "padding": 1},
    {"input_size": 3, "kernel_size": 6, "padding": 1},
    {"input_size": 8, "kernel_size": 3, "padding": -1},
], ids=["kernel-too-large", "dilated-too-large", "same-with-stride", "zero-stride",
        "zero-input-size", "zero-dilation", "zero-kernel-size", "zero-in-a-pair",
        "too-large-despite-padding", "negative-padding"])
def test_errors(kwargs):
    """raises ValueError where PyTorch refuses"""
    fn = h.candidate(MODULE).conv2d_output_shape
    try:
        raised, got = h.call(_raises_value_error(fn), **kwargs)
    except h.Tampered:
        raise
    except h.CheckFailed as exc:
        raise h.CheckFailed(f"{h.safe_str(exc, 1500)}; expected a ValueError") from None
    call = h.last_call()
    h.check(raised, f"{call} returned {h.describe(got)}; expected a ValueError (PyTorch "
            "refuses this convolution)")
