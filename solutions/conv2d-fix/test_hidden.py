"""Hidden checks for `conv2d-fix`: the repaired wrapper must equal F.conv2d for every argument
and let gradients reach the very tensors the caller passed in (weight.grad, bias.grad,
input.grad after out.backward()).

The oracle runs on its own detached copies of the inputs, computed before the candidate runs.
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
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
NO_GRAD_HELP = ("no gradient reached the '{name}' tensor that was passed in. A module's "
                "parameters are its own leaf tensors: copying the argument into them (.data, "
                "nn.Parameter(...), .detach()) cuts the caller's tensor out of the graph")


# ------------------------------------------------------------------------------------ helpers

def _reduction(weight):
    return weight.shape[1] * weight.shape[2] * weight.shape[3]


def check_forward(x, w, b=None, **kw):
    """The candidate's conv2d(x, w, b, **kw) must equal F.conv2d on the same arguments."""
    conv2d = h.candidate(MODULE).conv2d
    with torch.no_grad():
        expected = F.conv2d(x.clone(), w.clone(), None if b is None else b.clone(), **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(conv2d, *args, **kw)
    h.assert_close(got, expected, call=h.last_call(), reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")


def run_backward(output, grad_output):
    """output.backward(grad_output), as the caller of the wrapper would do."""
    output.backward(grad_output)


def check_gradients(x, w, b=None, only=None, gen=None, **kw):
    """float64: after out = conv2d(x, w, b); out.backward(g), the caller's x.grad, w.grad and
    b.grad (or just those named in `only`) must equal autograd through F.conv2d."""
    conv2d = h.candidate(MODULE).conv2d
    names = ["input", "weight"] + ([] if b is None else ["bias"])
    leaves = [t.detach().to(F64).requires_grad_() for t in ([x, w] if b is None else [x, w, b])]
    refs = [t.detach().clone().requires_grad_() for t in leaves]
    expected_out = F.conv2d(refs[0], refs[1], refs[2] if b is not None else None, **kw)
    g = h.randn(*expected_out.shape, dtype=F64, gen=gen)         # dLoss/dout
    expected = torch.autograd.grad(expected_out, refs, g)

    out = h.call(conv2d, *leaves, **kw)
    call = h.last_call()
    h.assert_close(out, expected_out.detach(), call=call, reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
    h.check(out.requires_grad,
            f"{call} returned a tensor that does not require grad although input, weight and"
            " bias do: the result must be computed from the tensors you were given")
    h.call(run_backward, out, g)
    for name, leaf, want in zip(names, leaves, expected):
        if only is not None and name not in only:
            continue
        h.check(leaf.grad is not None,
                f"after out = {call} and out.backward(grad), the caller's {name}.grad is None: "
                + NO_GRAD_HELP.format(name=name))
        h.assert_close(leaf.grad, want, call=f"out.backward(grad) after {call}",
                       what=f"{name}.grad", expected_from="autograd through F.conv2d")


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
            "dtype": draw(st.sampled_from([torch.float32, F64])) if float32 else F64,
            "seed": draw(st.integers(0, 2**20))}


def make_tensors(case):
    gen = h.generator(case["seed"])
    x = h.randn(*case["x"], dtype=case["dtype"], gen=gen)
    w = h.randn(*case["w"], dtype=case["dtype"], gen=gen)
    b = h.randn(case["w"][0], dtype=case["dtype"], gen=gen) if case["bias"] else None
    return x, w, b


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """equals F.conv2d with default arguments"""
    check_forward(h.randn(2, 3, 8, 8), h.randn(4, 3, 3, 3))
    check_forward(h.randn(1, 1, 5, 6), h.randn(2, 1, 1, 1))


def test_stride_padding_dilation():
    """stride, padding and dilation (int and pair) are honoured"""
    for kw in [dict(stride=2), dict(padding=1), dict(dilation=2), dict(stride=(2, 1)),
               dict(padding=(2, 0)), dict(dilation=(1, 3)),
               dict(stride=2, padding=(1, 2), dilation=(2, 1))]:
        check_forward(h.randn(2, 3, 11, 10), h.randn(4, 3, 3, 3), h.randn(4), **kw)


def test_padding_strings():
    """padding "valid" and "same" (odd and even kernels)"""
    check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), padding="valid")
    check_forward(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), h.randn(4), padding="same")
    check_forward(h.randn(1, 2, 7, 8), h.randn(3, 2, 2, 4), padding="same", dilation=(1, 2))


@pytest.mark.points(1.5)
def test_groups():
    """groups > 1 and depthwise: in_channels is C, not weight.size(1)"""
    check_forward(h.randn(2, 4, 7, 7), h.randn(6, 2, 3, 3), groups=2)
    check_forward(h.randn(2, 6, 8, 7), h.randn(3, 2, 3, 2), h.randn(3), groups=3, padding=1)
    check_forward(h.randn(1, 5, 8, 8), h.randn(10, 1, 3, 3), h.randn(10), groups=5, stride=2)


def test_bias():
    """bias is used when given, and bias=None works"""
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4))
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), None, padding=1)
    check_forward(h.randn(1, 4, 5, 5), h.randn(4, 2, 2, 2), h.randn(4), groups=2)


def test_non_square_kernel():
    """non-square kernels and inputs"""
    check_forward(h.randn(2, 3, 6, 11), h.randn(4, 3, 2, 5))
    check_forward(h.randn(1, 2, 12, 7), h.randn(3, 2, 5, 1), h.randn(3), stride=(3, 1),
                  padding=(2, 0))


def test_float64():
    """float64 in, float64 out"""
    check_forward(h.randn(2, 3, 7, 7, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                  h.randn(4, dtype=F64), padding=1)


def test_inputs_unchanged():
    """arguments left unchanged"""
    conv2d = h.candidate(MODULE).conv2d
    x, w, b = h.randn(2, 4, 6, 6), h.randn(6, 2, 3, 3), h.randn(6)
    saved = [t.clone() for t in (x, w, b)]
    h.call(conv2d, x, w, b, stride=1, padding=1, groups=2)
    call = h.last_call()
    for name, before, after in zip(["input", "weight", "bias"], saved, (x, w, b)):
        h.assert_unchanged(before, after, name, call=call)


@pytest.mark.points(2)
def test_weight_gradient():
    """gradient reaches the caller's weight tensor (weight.grad after backward)"""
    check_gradients(h.randn(2, 3, 7, 8), h.randn(4, 3, 3, 3), only=["weight"])
    check_gradients(h.randn(2, 4, 8, 8), h.randn(4, 2, 3, 2), stride=2, padding=1, groups=2,
                    only=["weight"])


@pytest.mark.points(2)
def test_bias_gradient():
    """gradient reaches the caller's bias tensor (bias.grad after backward)"""
    check_gradients(h.randn(2, 3, 6, 7), h.randn(4, 3, 3, 3), h.randn(4), padding=1,
                    only=["bias"])
    check_gradients(h.randn(1, 6, 7, 7), h.randn(6, 1, 3, 3), h.randn(6), groups=6,
                    dilation=2, padding="same", only=["bias"])


def test_input_gradient():
    """gradient reaches the input (input.grad after backward)"""
    check_gradients(h.randn(2, 3, 9, 8), h.randn(5, 3, 2, 3), h.randn(5), stride=(2, 1),
                    dilation=(1, 2), only=["input"])


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=conv_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, dilation, groups, bias and dtype: equals F.conv2d"""
    x, w, b = make_tensors(case)
    check_forward(x, w, b, **case["kwargs"])


@pytest.mark.points(2)
@settings(max_examples=15, **HYPOTHESIS)
@given(case=conv_cases(float32=False))
def test_random_gradients(case):
    """random cases: gradients reach the caller's input, weight and bias"""
    x, w, b = make_tensors(case)
    check_gradients(x, w, b, gen=h.generator(case["seed"] + 1), **case["kwargs"])
