"""Hidden checks for `conv2d`: the candidate's conv2d against torch.nn.functional.conv2d.

The oracle always runs on its own copies of the inputs, in float64, and is cast back to the
input's dtype; float32 results get a tolerance that grows with the reduction size
C/groups * kh * kw (h.assert_close(..., reduction=...)). Gradients are compared in float64
with autograd through F.conv2d; the candidate's backward pass runs under the same guard as its
forward (no built-in convolution there either).
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "conv2d"
F64 = torch.float64
# No "explain" phase: it re-runs failing examples under a tracer and costs seconds per check.
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


# ------------------------------------------------------------------------------------ helpers

def _reduction(weight):
    """How many products each output sums over: C/groups * kh * kw (weight is (K, C/g, kh, kw))."""
    return weight.shape[1] * weight.shape[2] * weight.shape[3]


def _oracle(x, w, b=None, **kw):
    """F.conv2d on float64 copies, cast back to x's dtype: the expected value."""
    with torch.no_grad():
        b64 = None if b is None else b.detach().to(F64)
        out = F.conv2d(x.detach().to(F64), w.detach().to(F64), b64, **kw)
    return out.to(x.dtype)


def check_forward(x, w, b=None, **kw):
    """Call the candidate's conv2d(x, w, b, **kw) and compare with F.conv2d."""
    conv2d = h.candidate(MODULE).conv2d
    expected = _oracle(x, w, b, **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(conv2d, *args, **kw)
    h.assert_close(got, expected, call=h.last_call(), reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
    return got


def autograd_backward(output, inputs, grad_output):
    """torch.autograd.grad through the candidate's graph (run under the guard, like its forward)."""
    return torch.autograd.grad(output, inputs, grad_output, allow_unused=True)


def check_gradients(x, w, b=None, gen=None, **kw):
    """float64 gradients of <conv2d(x, w, b), g> for a random g, against autograd via F.conv2d."""
    conv2d = h.candidate(MODULE).conv2d
    names = ["input", "weight"] + ([] if b is None else ["bias"])
    leaves = [t.detach().to(F64).requires_grad_() for t in ([x, w] if b is None else [x, w, b])]
    refs = [t.detach().clone().requires_grad_() for t in leaves]
    expected_out = F.conv2d(*refs[:2], refs[2] if b is not None else None, **kw)
    g = h.randn(*expected_out.shape, dtype=F64, gen=gen)         # dLoss/dout
    expected = torch.autograd.grad(expected_out, refs, g)

    out = h.call(conv2d, *leaves, **kw)
    call = h.last_call()
    h.assert_close(out, expected_out.detach(), call=call, reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
    h.check(out.requires_grad,
            f"{call} returned a tensor that does not require grad, although input, weight"
            " and bias do; build the output from differentiable tensor ops (no .detach(),"
            " .numpy(), .item() or torch.no_grad)")
    grads = h.call(autograd_backward, out, leaves, g)
    for name, got, want in zip(names, grads, expected):
        h.check(got is not None,
                f"after {call}, autograd found no path from the output back to '{name}': the"
                f" gradient for '{name}' is None; expected a tensor of shape {list(want.shape)}")
        h.assert_close(got, want, call=f"backward through {call}",
                       what=f"the gradient for '{name}'",
                       expected_from="autograd through F.conv2d")


# -------------------------------------------------------------------------- hypothesis cases

@st.composite
def conv_cases(draw, float32=True):
    """A random valid conv2d call: (shapes, keyword arguments, bias?, dtype, data seed)."""
    groups = draw(st.integers(1, 3))
    cg, kg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["int", "pair", "valid", "same"]))
    kwargs = {}
    if mode == "same":
        ph = pw = None
        kwargs["padding"] = "same"
    else:
        sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if mode == "int":
            sw = sh
            ph = pw = draw(st.integers(0, 2))
            kwargs["padding"] = ph
        elif mode == "pair":
            ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
            kwargs["padding"] = (ph, pw)
        else:
            ph = pw = 0
            kwargs["padding"] = "valid"
        kwargs["stride"] = sh if sh == sw and draw(st.booleans()) else (sh, sw)
    kwargs["dilation"] = dh if dh == dw and draw(st.booleans()) else (dh, dw)
    if groups > 1:
        kwargs["groups"] = groups
    # Smallest input with at least one output pixel, then up to 6 more.
    eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    min_h = 1 if ph is None else max(1, eff_h - 2 * ph)
    min_w = 1 if pw is None else max(1, eff_w - 2 * pw)
    hh, ww = draw(st.integers(min_h, min_h + 6)), draw(st.integers(min_w, min_w + 6))
    dtype = draw(st.sampled_from([torch.float32, F64])) if float32 else F64
    case = {"x": (n, groups * cg, hh, ww), "w": (groups * kg, cg, kh, kw),
            "bias": draw(st.booleans()), "dtype": dtype, "kwargs": kwargs,
            "seed": draw(st.integers(0, 2**20))}
    return case


def make_tensors(case):
    """Data for a drawn case: a function of the case and the run's secret seed."""
    gen = h.generator(case["seed"])
    dtype = case["dtype"]
    x = h.randn(*case["x"], dtype=dtype, gen=gen)
    w = h.randn(*case["w"], dtype=dtype, gen=gen)
    b = h.randn(case["w"][0], dtype=dtype, gen=gen) if case["bias"] else None
    return x, w, b


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """basic case: output shape and values"""
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3))
    check_forward(h.randn(1, 1, 5, 5), h.randn(1, 1, 1, 1))


def test_not_flipped():
    """cross-correlation: the kernel is not flipped"""
    conv2d = h.candidate(MODULE).conv2d
    x = h.randn(1, 2, 6, 7, dtype=F64)
    w = h.randn(3, 2, 3, 2, dtype=F64)
    got = h.call(conv2d, x, w)
    call = h.last_call()
    flipped = F.conv2d(x.clone(), w.clone().flip(-1, -2))
    if type(got) is torch.Tensor and got.shape == flipped.shape and bool(
            torch.allclose(got.detach(), flipped, rtol=1e-9, atol=1e-9)):
        raise h.CheckFailed(f"{call} computed a textbook convolution (kernel flipped in both"
                            " directions); torch.nn.functional.conv2d is a cross-correlation:"
                            " out[y, x] sums weight[i, j] * input[y + i, x + j], no flip")
    h.assert_close(got, _oracle(x, w), call=call, expected_from="torch.nn.functional.conv2d")


def test_stride():
    """stride as int and pair, including sizes that do not divide evenly"""
    for hw, k, stride in [((9, 9), 3, 2), ((8, 8), 3, 2), ((10, 11), 2, 3),
                          ((9, 10), 3, (2, 1)), ((7, 12), (2, 3), (1, 3))]:
        check_forward(h.randn(2, 3, *hw), h.randn(4, 3, *((k, k) if isinstance(k, int) else k)),
                      stride=stride)


def test_padding_int_and_pair():
    """padding as int and as (ph, pw)"""
    for padding, stride in [(1, 1), (2, 1), ((1, 2), 1), ((0, 3), 2), ((2, 0), (2, 3))]:
        check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), h.randn(4),
                      padding=padding, stride=stride)


def test_padding_valid_and_same_odd():
    """padding "valid" and "same" with odd kernels"""
    check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), padding="valid")
    check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), padding="same")
    check_forward(h.randn(1, 2, 6, 9), h.randn(3, 2, 3, 5), padding="same")
    check_forward(h.randn(1, 2, 9, 8), h.randn(3, 2, 3, 3), padding="same", dilation=2)


def test_padding_same_even():
    """padding "same" with even kernels (PyTorch pads the extra pixel right/bottom)"""
    for k, dilation in [((2, 2), 1), ((4, 4), 1), ((2, 3), 1), ((3, 4), 1), ((4, 1), 3),
                        ((2, 2), (1, 3))]:
        check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, *k), h.randn(4),
                      padding="same", dilation=dilation)


def test_dilation():
    """dilation as int and pair"""
    for dilation, padding in [(2, 0), (3, 1), ((1, 2), 0), ((2, 3), (1, 2))]:
        check_forward(h.randn(2, 3, 11, 12), h.randn(4, 3, 3, 3), dilation=dilation,
                      padding=padding)


def test_stride_padding_dilation_together():
    """stride, padding and dilation together"""
    for stride, padding, dilation in [(2, 1, 2), ((2, 3), (2, 1), (1, 2)), (3, 2, 2)]:
        check_forward(h.randn(2, 3, 13, 12), h.randn(5, 3, 3, 3), h.randn(5),
                      stride=stride, padding=padding, dilation=dilation)


def test_groups():
    """groups: channels split into independent slices"""
    check_forward(h.randn(2, 4, 7, 7), h.randn(6, 2, 3, 3), groups=2)
    check_forward(h.randn(2, 6, 7, 8), h.randn(3, 2, 3, 2), h.randn(3), groups=3, padding=1)
    check_forward(h.randn(1, 6, 8, 8), h.randn(9, 2, 3, 3), groups=3, stride=2, dilation=2)


def test_depthwise():
    """depthwise convolution (groups = in_channels), with channel multiplier"""
    check_forward(h.randn(2, 5, 8, 8), h.randn(5, 1, 3, 3), groups=5, padding=1)
    check_forward(h.randn(2, 4, 8, 9), h.randn(8, 1, 3, 3), h.randn(8), groups=4, stride=2)


def test_bias():
    """bias added once per output channel"""
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4))
    check_forward(h.randn(2, 3, 6, 5), h.randn(5, 3, 2, 2), h.randn(5), stride=2, padding=1)
    check_forward(h.randn(1, 4, 5, 5), h.randn(4, 2, 1, 1), h.randn(4), groups=2)


def test_non_square():
    """non-square inputs, kernels, strides, paddings and dilations"""
    check_forward(h.randn(2, 3, 6, 11), h.randn(4, 3, 2, 5))
    check_forward(h.randn(2, 3, 12, 7), h.randn(4, 3, 5, 1), h.randn(4),
                  stride=(3, 1), padding=(2, 0), dilation=(1, 2))
    check_forward(h.randn(1, 2, 5, 13), h.randn(3, 2, 1, 4), stride=(1, 2), padding=(0, 1),
                  dilation=(2, 3))


def test_batches():
    """batches: every image is convolved independently"""
    for n in (1, 3, 5):
        check_forward(h.randn(n, 3, 6, 7), h.randn(4, 3, 3, 3), h.randn(4), padding=1)


def test_non_contiguous():
    """non-contiguous inputs (transposed, sliced, channels-last)"""
    x_t = h.randn(2, 3, 9, 8).transpose(2, 3)                 # (2, 3, 8, 9), transposed
    check_forward(x_t, h.randn(4, 3, 3, 3), padding=1)
    x_s = h.randn(2, 6, 8, 8)[:, ::2]                          # (2, 3, 8, 8), every other channel
    check_forward(x_s, h.randn(4, 3, 2, 3), stride=2)
    x_cl = h.randn(2, 8, 7, 4).permute(0, 3, 1, 2)             # (2, 4, 8, 7), channels-last
    w_nc = h.randn(3, 3, 2, 6).permute(3, 2, 0, 1)             # (6, 2, 3, 3), permuted
    b_nc = h.randn(12)[::2]                                    # (6,), strided
    check_forward(x_cl, w_nc, b_nc, groups=2, padding=(1, 0))


def test_dtype_preserved():
    """dtype preserved: float64 in, float64 out (tight tolerance); float32 in, float32 out"""
    check_forward(h.randn(2, 3, 7, 7, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                  h.randn(4, dtype=F64), padding=1)
    check_forward(h.randn(1, 4, 6, 6, dtype=F64), h.randn(4, 2, 2, 2, dtype=F64),
                  groups=2, padding="same")
    check_forward(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), h.randn(4), stride=2)


def test_inputs_unchanged():
    """arguments left unchanged (values, shape, dtype)"""
    conv2d = h.candidate(MODULE).conv2d
    for kw in [dict(padding=2, groups=2), dict(padding="same"), dict(stride=2, padding=(1, 0))]:
        x, w, b = h.randn(2, 4, 6, 6), h.randn(4, 4 // kw.get("groups", 1), 3, 3), h.randn(4)
        saved = [t.clone() for t in (x, w, b)]
        h.call(conv2d, x, w, b, **kw)
        call = h.last_call()
        for name, before, after in zip(["input", "weight", "bias"], saved, (x, w, b)):
            h.assert_unchanged(before, after, name, call=call)


@pytest.mark.points(1.5)
def test_gradient_input():
    """gradient with respect to input (float64, against autograd through F.conv2d)"""
    check_gradients(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3))
    check_gradients(h.randn(2, 4, 9, 8), h.randn(6, 2, 3, 2), h.randn(6),
                    stride=2, padding=(1, 2), dilation=(2, 1), groups=2)


@pytest.mark.points(1.5)
def test_gradient_weight_and_bias():
    """gradients with respect to weight and bias (float64, against autograd through F.conv2d)"""
    check_gradients(h.randn(2, 3, 6, 7), h.randn(4, 3, 3, 3), h.randn(4), padding=1)
    check_gradients(h.randn(3, 4, 8, 8), h.randn(4, 1, 2, 3), h.randn(4),
                    padding="same", dilation=(1, 2), groups=4)


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=conv_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, dilation, groups, bias and dtype together"""
    x, w, b = make_tensors(case)
    check_forward(x, w, b, **case["kwargs"])


@pytest.mark.points(2)
@settings(max_examples=15, **HYPOTHESIS)
@given(case=conv_cases(float32=False))
def test_random_gradients(case):
    """random cases: gradients for input, weight and bias"""
    x, w, b = make_tensors(case)
    check_gradients(x, w, b, gen=h.generator(case["seed"] + 1), **case["kwargs"])
