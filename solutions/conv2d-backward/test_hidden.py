"""Hidden checks for `conv2d-backward`: the candidate's hand-written gradients against autograd.

The oracle is computed here, never by candidate code: F.conv2d forward on float64 copies and
torch.autograd.grad, then cast to the inputs' dtype. float64 results are held to
torch.testing's float64 tolerances; float32 ones to a tolerance that grows with the size of
the reduction behind each gradient (grad_input: Kg*kh*kw terms per pixel; grad_weight and
grad_bias: N*Ho*Wo terms) and with the magnitude of the result.

Independent credit: a check named for one property varies only that property; everything else
stays at the defaults (float64, contiguous, square input and kernel, stride 1, padding 0,
dilation 1, groups 1). Interactions are checked by test_stride_and_dilation and
test_random_all_parameters. solutions/conv2d-backward/contract.toml maps every clause of the
README to its check and to the wrong/ variant that violates only it; partial/ holds correct
implementations lacking one feature each, with the checks they are allowed to fail.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "conv_backward"
F64 = torch.float64
NAMES = ("grad_input", "grad_weight", "grad_bias")
ALL = NAMES
INPUT_WEIGHT = ("grad_input", "grad_weight")
# No "explain" phase: it re-runs failing examples under a tracer and costs seconds per check.
# report_multiple_bugs=False: one failure, with its message, instead of an ExceptionGroup.
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


# ------------------------------------------------------------------------------------ helpers

def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def make_case(n, c, hw, k_out, kernel, stride=1, padding=0, dilation=1, groups=1,
              dtype=F64, gen=None):
    """(grad_output, input, weight, kwargs) for a conv2d with these parameters."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = (_pair(kernel), _pair(stride), _pair(padding),
                                              _pair(dilation))
    ho, wo = _out_size(hw[0], kh, sh, ph, dh), _out_size(hw[1], kw, sw, pw, dw)
    x = h.randn(n, c, *hw, dtype=dtype, gen=gen)
    w = h.randn(k_out, c // groups, kh, kw, dtype=dtype, gen=gen)
    go = h.randn(n, k_out, ho, wo, dtype=dtype, gen=gen)
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    return go, x, w, kwargs


def _oracle(go, x, w, **kw):
    """(grad_input, grad_weight, grad_bias) by autograd through F.conv2d, in float64."""
    x64 = x.detach().to(F64).requires_grad_()
    w64 = w.detach().to(F64).requires_grad_()
    b64 = torch.zeros(w.shape[0], dtype=F64, requires_grad=True)
    out = F.conv2d(x64, w64, b64, **kw)
    grads = torch.autograd.grad(out, (x64, w64, b64), go.detach().to(F64))
    return [g.to(x.dtype) for g in grads]


def _tolerance(expected, reduction):
    rtol, atol = h.tolerances(expected.dtype, reduction)
    if expected.dtype == torch.float32 and expected.numel():
        # float32 rounding error of a sum grows with the number of terms and their magnitude.
        rms = float(expected.double().pow(2).mean().sqrt())
        atol = max(atol, 8 * torch.finfo(torch.float32).eps * math.sqrt(reduction) * rms)
    return rtol, atol


def _as_triple(got, call):
    h.check(type(got) in (tuple, list) and len(got) == 3,
            f"{call} returned {h.describe(got)}; expected a tuple of three tensors "
            "(grad_input, grad_weight, grad_bias)")
    return tuple(got)


def check_backward(go, x, w, which=ALL, case="", **kw):
    """Call conv2d_backward(go, x, w, **kw); compare the gradients named in `which`."""
    conv2d_backward = h.candidate(MODULE).conv2d_backward
    expected = _oracle(go, x, w, **kw)
    got = h.call(conv2d_backward, go, x, w, **kw)
    call = h.labelled(h.last_call(), case)
    got = _as_triple(got, call)
    n, ho, wo = go.shape[0], go.shape[2], go.shape[3]
    k, kh, kw_ = w.shape[0], w.shape[2], w.shape[3]
    groups = kw.get("groups", 1)
    reductions = {"grad_input": (k // groups) * kh * kw_, "grad_weight": n * ho * wo,
                  "grad_bias": n * ho * wo}
    for name, g, e in zip(NAMES, got, expected):
        if name in which:
            rtol, atol = _tolerance(e, reductions[name])
            h.assert_close(g, e, call=call, what=name, rtol=rtol, atol=atol,
                           expected_from="autograd through F.conv2d")
    return got


@st.composite
def backward_cases(draw):
    """A random valid conv2d configuration (padding int or pair), dtype and data seed."""
    groups = draw(st.integers(1, 3))
    cg, kg, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    min_h = max(1, dh * (kh - 1) + 1 - 2 * ph)
    min_w = max(1, dw * (kw - 1) + 1 - 2 * pw)
    hh, ww = draw(st.integers(min_h, min_h + 7)), draw(st.integers(min_w, min_w + 7))
    pack = lambda a, b: a if a == b and draw(st.booleans()) else (a, b)  # noqa: E731
    return {"n": n, "c": groups * cg, "hw": (hh, ww), "k_out": groups * kg,
            "kernel": (kh, kw), "stride": pack(sh, sw), "padding": pack(ph, pw),
            "dilation": pack(dh, dw), "groups": groups,
            "dtype": draw(st.sampled_from([torch.float32, F64])),
            "layout": draw(st.sampled_from(["contiguous", "contiguous", "channels_last",
                                            "transposed"])),
            "seed": draw(st.integers(0, 2**20))}


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """basic case (stride 1, no padding): grad_input and grad_weight"""
    check_backward(*make_case(2, 3, (6, 6), 4, 3)[:3], which=INPUT_WEIGHT)
    check_backward(*make_case(1, 2, (5, 5), 3, 2)[:3], which=INPUT_WEIGHT)


def test_stride():
    """stride (an int)"""
    for size, kernel, stride in [(9, 3, 2), (10, 2, 2), (9, 3, 3)]:
        go, x, w, kw = make_case(2, 3, (size, size), 4, kernel, stride=stride)
        check_backward(go, x, w, which=INPUT_WEIGHT,
                       case=f"{size}x{size} input, {kernel}x{kernel} kernel, stride {stride}", **kw)


def test_padding():
    """padding (an int), including padding wider than the kernel"""
    for padding in [1, 2, 3]:
        go, x, w, kw = make_case(2, 3, (6, 6), 4, 3, padding=padding)
        check_backward(go, x, w, which=INPUT_WEIGHT, case=f"3x3 kernel, padding {padding}", **kw)


def test_dilation():
    """dilation (an int)"""
    for dilation, size in [(2, 11), (3, 12)]:
        go, x, w, kw = make_case(2, 3, (size, size), 4, 3, dilation=dilation)
        check_backward(go, x, w, which=INPUT_WEIGHT, case=f"dilation {dilation}", **kw)


def test_pair_arguments():
    """stride and padding given as (h, w) pairs"""
    for extra in [{"stride": (2, 1)}, {"stride": (1, 3)}, {"padding": (2, 0)},
                  {"padding": (0, 1)}, {"stride": (3, 2), "padding": (1, 2)}]:
        go, x, w, kw = make_case(2, 3, (9, 9), 4, 3, **extra)
        check_backward(go, x, w, which=INPUT_WEIGHT, **kw)


def test_stride_and_dilation():
    """stride and dilation together (their roles swap in grad_weight), as ints and pairs"""
    for stride, dilation, padding in [(2, 2, 1), (3, 2, 0), (2, 3, 0), (1, (1, 3), 1),
                                      (1, (3, 2), (2, 1)), ((2, 3), (3, 1), (1, 2))]:
        go, x, w, kw = make_case(2, 3, (13, 13), 4, 3, stride=stride, dilation=dilation,
                                 padding=padding)
        check_backward(go, x, w, which=INPUT_WEIGHT, **kw)


@pytest.mark.points(1.5)
def test_output_padding_odd_sizes():
    """sizes the stride does not divide (H=8, k=3, stride 2, padding 1 and similar)"""
    for size, kernel, stride, padding in [(8, 3, 2, 1), (9, 3, 2, 0), (10, 2, 3, 0),
                                          (7, 2, 3, 1), (10, 3, 4, 1)]:
        go, x, w, kw = make_case(2, 3, (size, size), 4, kernel, stride=stride, padding=padding)
        check_backward(go, x, w, which=INPUT_WEIGHT,
                       case=f"H=W={size}, k={kernel}, stride {stride}, padding {padding}", **kw)


def test_groups():
    """groups > 1"""
    for c, k_out, groups in [(4, 6, 2), (6, 3, 3), (6, 9, 3)]:
        go, x, w, kw = make_case(2, c, (8, 8), k_out, 3, groups=groups)
        check_backward(go, x, w, which=INPUT_WEIGHT, case=f"C={c}, K={k_out}, groups {groups}",
                       **kw)


def test_depthwise():
    """depthwise (groups = channels), with channel multiplier"""
    for c, k_out in [(5, 5), (4, 8)]:
        go, x, w, kw = make_case(2, c, (8, 8), k_out, 3, groups=c)
        check_backward(go, x, w, which=INPUT_WEIGHT,
                       case=f"depthwise, multiplier {k_out // c}", **kw)


@pytest.mark.points(1.5)
def test_grad_bias():
    """grad_bias: shape (K,), the sum of grad_output over batch, height and width"""
    for n in (1, 3, 4):
        go, x, w, kw = make_case(n, 4, (6, 6), 6, 3)
        check_backward(go, x, w, which=("grad_bias",), case=f"batch of {n}", **kw)


def test_shapes():
    """shapes and dtypes: (N, C, H, W), (K, C/groups, kh, kw) and (K,)"""
    conv2d_backward = h.candidate(MODULE).conv2d_backward
    for size, kernel, extra in [(8, 3, {}), (8, 3, {"stride": 2, "padding": 1})]:
        go, x, w, kw = make_case(2, 4, (size, size), 6, kernel, **extra)
        got = h.call(conv2d_backward, go, x, w, **kw)
        call = h.last_call()
        got = _as_triple(got, call)
        for name, g, shape in zip(NAMES, got, [x.shape, w.shape, w.shape[:1]]):
            h.check(type(g) is torch.Tensor,
                    f"{call} returned {name} = {h.describe(g)}; expected a plain torch.Tensor")
            h.check(tuple(g.shape) == tuple(shape),
                    f"{call} returned {name} with shape {list(g.shape)}; expected shape "
                    f"{list(shape)}")
            h.check(g.dtype == x.dtype,
                    f"{call} returned {name} with dtype {g.dtype}; expected {x.dtype} "
                    "(the inputs' dtype)")


@pytest.mark.points(1.5)
def test_float32():
    """float32 in, float32 out (tolerance scaled to the reduction size)"""
    for n, c, size, k_out in [(4, 8, 12, 8), (2, 6, 11, 6)]:
        go, x, w, kw = make_case(n, c, (size, size), k_out, 3, dtype=torch.float32)
        check_backward(go, x, w, **kw)


def test_float64_tight():
    """float64 in, float64 out, to float64 precision"""
    go, x, w, kw = make_case(3, 4, (9, 9), 6, 3)
    check_backward(go, x, w, **kw)


def test_non_square():
    """non-square inputs and kernels"""
    for hw, kernel in [((6, 13), (1, 4)), ((12, 7), (5, 1)), ((9, 6), (3, 3)), ((7, 7), (2, 3))]:
        go, x, w, kw = make_case(2, 3, hw, 4, kernel)
        check_backward(go, x, w, which=INPUT_WEIGHT, **kw)


def test_non_contiguous():
    """non-contiguous grad_output, input and weight (transposed, expanded, channels-last)"""
    go, x, w, kw = make_case(2, 4, (8, 8), 6, 3)
    check_backward(h.in_layout(go, "transposed"), h.in_layout(x, "channels_last"),
                   w.permute(2, 3, 0, 1).contiguous().permute(2, 3, 0, 1),
                   case="transposed grad_output, channels-last input, permuted weight", **kw)
    check_backward(go, h.in_layout(x, "transposed"), h.in_layout(w, "channels_last"),
                   case="transposed input, channels-last weight", **kw)
    # The gradient of out.sum() arrives as an expanded tensor with zero strides.
    go1 = h.randn(1, 6, 1, 1, dtype=F64).expand(2, 6, 6, 6)
    check_backward(go1, x, w, case="expanded grad_output (zero strides)", **kw)


def test_inputs_unchanged():
    """grad_output, input and weight left unchanged (contiguous, channels-last, non-contiguous)"""
    conv2d_backward = h.candidate(MODULE).conv2d_backward
    for layout in ("contiguous", "channels_last", "transposed"):
        go, x, w, kw = make_case(2, 4, (8, 8), 6, 3, padding=1)
        go, x, w = h.in_layout(go, layout), h.in_layout(x, layout), h.in_layout(w, layout)
        saved = [(t.clone(), t.stride()) for t in (go, x, w)]
        h.call(conv2d_backward, go, x, w, **kw)
        call = h.labelled(h.last_call(), f"{layout.replace('_', '-')} arguments")
        for name, (before, stride), after in zip(["grad_output", "input", "weight"], saved,
                                                 (go, x, w)):
            h.assert_unchanged(before, after, name, call=call)
            h.check(after.stride() == stride,
                    f"{call} changed the strides of its argument '{name}' from {stride} to"
                    f" {after.stride()}; arguments must be left unchanged")


@pytest.mark.points(3)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=backward_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, dilation, groups, dtype and layout: all three gradients"""
    case = dict(case)
    gen = h.generator(case.pop("seed"))
    layout = case.pop("layout")
    go, x, w, kw = make_case(gen=gen, **case)
    check_backward(go, h.in_layout(x, layout), w, **kw)
