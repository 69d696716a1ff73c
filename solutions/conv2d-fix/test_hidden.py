"""Hidden checks for `conv2d-fix`: the repaired wrapper must equal F.conv2d for every argument
and let gradients reach the very tensors the caller passed in (weight.grad, bias.grad,
input.grad after out.backward()).

The oracle runs on its own detached copies of the inputs, computed before the candidate runs.

Independent credit: a check named for one property varies only that property; everything else
stays at the defaults (square float32 contiguous input, square kernel, no bias, stride 1,
padding 0, dilation 1, groups 1). Interactions are checked by test_stride_padding_dilation
and test_random_*. solutions/conv2d-fix/contract.toml maps every clause of the README to its
check and to the wrong/ variant that violates only it; partial/ holds correct wrappers that
lack one feature each, with the checks they are allowed to fail.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "conv_fix"
F64 = torch.float64
# No "explain" phase: it re-runs failing examples under a tracer and costs seconds per check.
# report_multiple_bugs=False: one failure, with its message, instead of an ExceptionGroup.
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
NO_GRAD_HELP = ("no gradient reached the '{name}' tensor that was passed in. A module's "
                "parameters are its own leaf tensors: copying the argument into them (.data, "
                "nn.Parameter(...), .detach()) cuts the caller's tensor out of the graph")


# ------------------------------------------------------------------------------------ helpers

def _reduction(weight):
    return weight.shape[1] * weight.shape[2] * weight.shape[3]


def check_forward(x, w, b=None, case="", **kw):
    """The candidate's conv2d(x, w, b, **kw) must equal F.conv2d on the same arguments."""
    conv2d = h.candidate(MODULE).conv2d
    with torch.no_grad():
        expected = F.conv2d(x.clone(), w.clone(), None if b is None else b.clone(), **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(conv2d, *args, **kw)
    h.assert_close(got, expected, call=h.labelled(h.last_call(), case), reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")


def run_backward(output, grad_output):
    """output.backward(grad_output), as the caller of the wrapper would do."""
    output.backward(grad_output)


def check_gradients(x, w, b=None, only=None, gen=None, case="", **kw):
    """After out = conv2d(x, w, b); out.backward(g), the caller's x.grad, w.grad and b.grad (or
    just those named in `only`) must equal autograd through F.conv2d (computed in float64, cast
    to the arguments' dtype; float32 gets a tolerance scaled to each gradient's reduction)."""
    conv2d = h.candidate(MODULE).conv2d
    dtype = x.dtype
    names = ["input", "weight"] + ([] if b is None else ["bias"])
    leaves = [t.detach().clone().requires_grad_() for t in ([x, w] if b is None else [x, w, b])]
    refs = [t.detach().to(F64).requires_grad_() for t in leaves]
    expected_out = F.conv2d(refs[0], refs[1], refs[2] if b is not None else None, **kw)
    g = h.randn(*expected_out.shape, dtype=F64, gen=gen)         # dLoss/dout
    expected = [e.to(dtype) for e in torch.autograd.grad(expected_out, refs, g)]
    n, k, ho, wo = expected_out.shape
    reductions = {"input": k // kw.get("groups", 1) * w.shape[2] * w.shape[3],
                  "weight": n * ho * wo, "bias": n * ho * wo}

    out = h.call(conv2d, *leaves, **kw)
    call = h.labelled(h.last_call(), case)
    h.assert_close(out, expected_out.detach().to(dtype), call=call, reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
    h.check(out.requires_grad,
            f"{call} returned a tensor that does not require grad although input, weight and"
            " bias do: the result must be computed from the tensors you were given")
    h.call(run_backward, out, g.to(dtype))
    for name, leaf, want in zip(names, leaves, expected):
        if only is not None and name not in only:
            continue
        got = leaf.grad
        h.check(got is not None,
                f"after out = {call} and out.backward(grad), the caller's {name}.grad is None: "
                + NO_GRAD_HELP.format(name=name))
        h.assert_close(got, want, call=f"out.backward(grad) after {call}",
                       what=f"{name}.grad", reduction=reductions[name],
                       expected_from="autograd through F.conv2d")


@st.composite
def conv_cases(draw, float32=True):
    """A random valid F.conv2d call: shapes, keyword arguments, bias or not, dtype, data seed."""
    groups = draw(st.integers(1, 3))
    cg, kg, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["int", "pair", "valid", "same"]))
    kwargs = {}
    ph = pw = 0
    if mode == "same":
        kwargs["padding"] = "same"
    else:
        sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        if mode == "int":
            ph = pw = draw(st.integers(0, 2))
            kwargs["padding"] = ph
        elif mode == "pair":
            ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
            kwargs["padding"] = (ph, pw)
        else:
            kwargs["padding"] = "valid"
        kwargs["stride"] = sh if sh == sw else (sh, sw)
    kwargs["dilation"] = dh if dh == dw else (dh, dw)
    if groups > 1 or draw(st.booleans()):
        kwargs["groups"] = groups
    eff_h, eff_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    min_h = 1 if mode == "same" else max(1, eff_h - 2 * ph)
    min_w = 1 if mode == "same" else max(1, eff_w - 2 * pw)
    hh, ww = draw(st.integers(min_h, min_h + 6)), draw(st.integers(min_w, min_w + 6))
    return {"x": (n, groups * cg, hh, ww), "w": (groups * kg, cg, kh, kw),
            "bias": draw(st.booleans()), "kwargs": kwargs,
            "layout": draw(st.sampled_from(["contiguous", "contiguous", "channels_last",
                                            "transposed"])),
            "dtype": draw(st.sampled_from([torch.float32, F64])) if float32 else F64,
            "seed": draw(st.integers(0, 2**20))}


def make_tensors(case):
    gen = h.generator(case["seed"])
    x = h.in_layout(h.randn(*case["x"], dtype=case["dtype"], gen=gen), case["layout"])
    w = h.randn(*case["w"], dtype=case["dtype"], gen=gen)
    b = h.randn(case["w"][0], dtype=case["dtype"], gen=gen) if case["bias"] else None
    return x, w, b


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """equals F.conv2d with default arguments"""
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3))
    check_forward(h.randn(1, 1, 5, 5), h.randn(2, 1, 1, 1))


def test_stride():
    """stride (an int) is honoured"""
    for stride in (2, 3):
        check_forward(h.randn(2, 3, 11, 11), h.randn(4, 3, 3, 3), stride=stride)


def test_padding():
    """padding (an int) is honoured"""
    for padding in (1, 2):
        check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3), padding=padding)


def test_dilation():
    """dilation (an int) is honoured"""
    for dilation in (2, 3):
        check_forward(h.randn(2, 3, 11, 11), h.randn(4, 3, 3, 3), dilation=dilation)


def test_stride_padding_dilation():
    """stride, padding and dilation together, as ints and (h, w) pairs"""
    for kw in [dict(stride=(2, 1)), dict(padding=(2, 0)), dict(dilation=(1, 3)),
               dict(stride=2, padding=(1, 2), dilation=(2, 1)),
               dict(stride=3, padding=2, dilation=2),
               dict(padding="same", dilation=(1, 2))]:
        check_forward(h.randn(2, 3, 11, 10), h.randn(4, 3, 3, 3), **kw)


def test_padding_strings():
    """padding "valid" and "same" (odd and even kernels)"""
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3), padding="valid", case="valid")
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3), padding="same", case="same, odd")
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 2, 2), padding="same", case="same, even")
    check_forward(h.randn(2, 3, 7, 7), h.randn(4, 3, 4, 4), padding="same", case="same, even")


@pytest.mark.points(1.5)
def test_groups():
    """groups > 1 and depthwise: in_channels is C, not weight.size(1)"""
    check_forward(h.randn(2, 4, 7, 7), h.randn(6, 2, 3, 3), groups=2, case="groups 2")
    check_forward(h.randn(2, 6, 8, 8), h.randn(3, 2, 3, 3), groups=3, case="groups 3")
    check_forward(h.randn(1, 5, 8, 8), h.randn(10, 1, 3, 3), groups=5,
                  case="depthwise, multiplier 2")


def test_bias():
    """bias is used when given (and left unchanged), and bias=None works"""
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4), case="bias given")
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), None, case="bias=None")
    conv2d = h.candidate(MODULE).conv2d
    x, w, b = h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4)
    saved, stride = b.clone(), b.stride()
    h.call(conv2d, x, w, b)
    call = h.last_call()
    h.assert_unchanged(saved, b, "bias", call=call)
    h.check(b.stride() == stride,
            f"{call} changed the strides of its argument 'bias' from {stride} to {b.stride()};"
            " arguments must be left unchanged")


def test_non_square_kernel():
    """non-square kernels and inputs"""
    check_forward(h.randn(2, 3, 6, 11), h.randn(4, 3, 2, 5))
    check_forward(h.randn(1, 2, 12, 7), h.randn(3, 2, 5, 1))
    check_forward(h.randn(2, 3, 9, 6), h.randn(4, 3, 3, 3))


def test_float64():
    """float64 in, float64 out"""
    check_forward(h.randn(2, 3, 7, 7, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64))


def test_inputs_unchanged():
    """arguments left unchanged (contiguous, channels-last and non-contiguous arguments)"""
    conv2d = h.candidate(MODULE).conv2d
    for layout in ("contiguous", "channels_last", "transposed"):
        x = h.in_layout(h.randn(2, 3, 7, 7), layout)
        w = h.in_layout(h.randn(4, 3, 3, 3), layout)
        saved = [(t.clone(), t.stride()) for t in (x, w)]
        h.call(conv2d, x, w, padding=1)
        call = h.labelled(h.last_call(), f"{layout.replace('_', '-')} input and weight")
        for name, (before, stride), after in zip(["input", "weight"], saved, (x, w)):
            h.assert_unchanged(before, after, name, call=call)
            h.check(after.stride() == stride,
                    f"{call} changed the strides of its argument '{name}' from {stride} to"
                    f" {after.stride()}; arguments must be left unchanged")


@pytest.mark.points(2)
def test_weight_gradient():
    """gradient reaches the caller's weight tensor (weight.grad after backward)"""
    check_gradients(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), only=["weight"])
    check_gradients(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3), stride=2, padding=1,
                    only=["weight"])


@pytest.mark.points(2)
def test_bias_gradient():
    """gradient reaches the caller's bias tensor (bias.grad after backward)"""
    check_gradients(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4), only=["bias"])


def test_input_gradient():
    """gradient reaches the input (input.grad after backward)"""
    check_gradients(h.randn(2, 3, 9, 9), h.randn(5, 3, 3, 3), stride=2, only=["input"])


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=conv_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, dilation, groups, bias, dtype and layout: equals F.conv2d"""
    x, w, b = make_tensors(case)
    check_forward(x, w, b, **case["kwargs"])


@pytest.mark.points(2)
@settings(max_examples=15, **HYPOTHESIS)
@given(case=conv_cases(float32=False))
def test_random_gradients(case):
    """random cases: gradients reach the caller's input, weight and bias (float64)"""
    x, w, b = make_tensors(case)
    check_gradients(x, w, b, gen=h.generator(case["seed"] + 1), **case["kwargs"])
