"""Hidden checks for `conv_transpose2d`: the candidate's op against F.conv_transpose2d.

The oracle always runs on its own copies of the inputs, in float64, and is cast back to the
input's dtype; float32 results get a tolerance that grows with the reduction size
C_in/groups * kh * kw (h.assert_close(..., reduction=...)). Gradients are compared in float64
with autograd through F.conv_transpose2d; the candidate's backward pass runs under the same
guard as its forward (no built-in convolution there either).

Independent credit: a check named for one property varies only that property. Everything else
stays at the defaults: square float32 contiguous input (N=2, C_in=3), C_out=4, square kernel,
no bias, stride 1, padding 0, output_padding 0, one group, dilation 1. output_padding needs a
stride (or a dilation) above 1, so its checks set that too. Interactions are checked by
test_all_together and test_random_*. solutions/conv-transpose2d/contract.toml maps every
clause of the README to its check and to the wrong/ variant that violates only it.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "conv_transpose2d"
F64 = torch.float64
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
GRAD_NAMES = ("input", "weight", "bias")
REF = "torch.nn.functional.conv_transpose2d"


# ------------------------------------------------------------------------------------ helpers

def _reduction(weight, groups=1):
    """Most products one output sums: C_in/groups * kh * kw (weight is (C_in, C_out/g, kh, kw))."""
    return (weight.shape[0] // groups) * weight.shape[2] * weight.shape[3]


def _oracle(x, w, b=None, **kw):
    """F.conv_transpose2d on float64 copies, cast back to x's dtype: the expected value."""
    with torch.no_grad():
        b64 = None if b is None else b.detach().to(F64)
        out = F.conv_transpose2d(x.detach().to(F64), w.detach().to(F64), b64, **kw)
    return out.to(x.dtype)


def check_forward(x, w, b=None, case="", **kw):
    """Call the candidate's conv_transpose2d(x, w, b, **kw) and compare with the oracle."""
    fn = h.candidate(MODULE).conv_transpose2d
    expected = _oracle(x, w, b, **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(fn, *args, **kw)
    h.assert_close(got, expected, call=h.labelled(h.last_call(), case),
                   reduction=_reduction(w, kw.get("groups", 1)), expected_from=REF)
    return got


def autograd_backward(output, inputs, grad_output):
    """torch.autograd.grad through the candidate's graph (run under the guard, like its forward)."""
    return torch.autograd.grad(output, inputs, grad_output, allow_unused=True)


def check_gradients(x, w, b=None, gen=None, wrt=GRAD_NAMES, case="", **kw):
    """Gradients of <conv_transpose2d(x, w, b), g> for a random g, against autograd through
    F.conv_transpose2d (float64, cast to the arguments' dtype). Every argument requires grad;
    only the gradients named in `wrt` are judged."""
    fn = h.candidate(MODULE).conv_transpose2d
    dtype = x.dtype
    names = list(GRAD_NAMES[:2] if b is None else GRAD_NAMES)
    leaves = [t.detach().clone().requires_grad_() for t in ([x, w] if b is None else [x, w, b])]
    refs = [t.detach().to(F64).requires_grad_() for t in leaves]
    expected_out = F.conv_transpose2d(*refs[:2], refs[2] if b is not None else None, **kw)
    g = h.randn(*expected_out.shape, dtype=F64, gen=gen)
    expected = [e.to(dtype) for e in torch.autograd.grad(expected_out, refs, g)]
    n, _, ho, wo = expected_out.shape
    groups = kw.get("groups", 1)
    reductions = {"input": w.shape[1] * w.shape[2] * w.shape[3],
                  "weight": n * x.shape[2] * x.shape[3], "bias": n * ho * wo}

    out = h.call(fn, *leaves, **kw)
    call = h.labelled(h.last_call(), case)
    h.assert_close(out, expected_out.detach().to(dtype), call=call,
                   reduction=_reduction(w, groups), expected_from=REF)
    h.check(out.requires_grad,
            f"{call} returned a tensor that does not require grad, although its arguments"
            " do; build the output from differentiable tensor ops (no .detach(), .data,"
            " .numpy(), .item() or torch.no_grad)")
    grads = h.call(autograd_backward, out, leaves, g.to(dtype))
    for name, got, want in zip(names, grads, expected):
        if name not in wrt:
            continue
        h.check(got is not None,
                f"after {call}, autograd found no path from the output back to '{name}': the"
                f" gradient for '{name}' is None; expected a tensor of shape {list(want.shape)}"
                f" (was '{name}' used through .detach(), .data or torch.no_grad?)")
        h.assert_close(got, want, call=f"backward through {call}",
                       what=f"the gradient for '{name}'", reduction=reductions[name],
                       expected_from=f"autograd through {REF}")


# -------------------------------------------------------------------------- hypothesis cases

def _arg(a, b, draw):
    """An int when both halves agree (sometimes), else the (h, w) pair."""
    return a if a == b and draw(st.booleans()) else (a, b)


@st.composite
def transpose_cases(draw, float32=True):
    """A random valid conv_transpose2d call: shapes, keyword arguments, bias?, dtype, layout."""
    groups = draw(st.integers(1, 3))
    cg, kg = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    oh = draw(st.integers(0, max(sh, dh) - 1))     # output_padding < max(stride, dilation)
    ow = draw(st.integers(0, max(sw, dw) - 1))
    kwargs = {"stride": _arg(sh, sw, draw), "padding": _arg(ph, pw, draw),
              "output_padding": _arg(oh, ow, draw), "dilation": _arg(dh, dw, draw)}
    if groups > 1:
        kwargs["groups"] = groups
    # Smallest input with at least one output pixel, then up to 5 more.
    min_h = max(1, -(-(2 * ph - dh * (kh - 1) - oh) // sh) + 1)
    min_w = max(1, -(-(2 * pw - dw * (kw - 1) - ow) // sw) + 1)
    hh, ww = draw(st.integers(min_h, min_h + 5)), draw(st.integers(min_w, min_w + 5))
    dtype = draw(st.sampled_from([torch.float32, F64])) if float32 else F64
    return {"x": (n, groups * cg, hh, ww), "w": (groups * cg, kg, kh, kw),
            "bias": draw(st.booleans()), "dtype": dtype, "kwargs": kwargs,
            "layout": draw(st.sampled_from(["contiguous", "contiguous", "channels_last",
                                            "transposed"])),
            "seed": draw(st.integers(0, 2**20))}


def make_tensors(case):
    """Data for a drawn case: a function of the case and the run's secret seed."""
    gen = h.generator(case["seed"])
    dtype = case["dtype"]
    x = h.in_layout(h.randn(*case["x"], dtype=dtype, gen=gen), case["layout"])
    w = h.randn(*case["w"], dtype=dtype, gen=gen)
    b = h.randn(case["w"][1] * case["kwargs"].get("groups", 1), dtype=dtype, gen=gen) \
        if case["bias"] else None
    return x, w, b


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """basic case: output shape and values, weight laid out (C_in, C_out, kh, kw)"""
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3))
    check_forward(h.randn(2, 4, 6, 6), h.randn(4, 2, 2, 2))
    check_forward(h.randn(1, 1, 4, 4), h.randn(1, 1, 1, 1))


def test_kernel_orientation():
    """input pixel (y, x) scatters weight[c, k, i, j] to output (y + i, x + j): no flip"""
    fn = h.candidate(MODULE).conv_transpose2d
    x, w = h.randn(1, 2, 5, 5), h.randn(2, 3, 3, 3)
    flipped = _oracle(x, w.flip(-1, -2))
    got = h.call(fn, x, w)
    call = h.last_call()
    if (type(got) is torch.Tensor and got.shape == flipped.shape
            and got.dtype == flipped.dtype and got.device == flipped.device
            and bool(torch.isclose(got.detach(), flipped, rtol=1e-4, atol=1e-4).all())):
        raise h.CheckFailed(f"{call} used the kernel flipped in both directions; in"
                            " F.conv_transpose2d input pixel (y, x) adds weight[c, k, i, j] *"
                            " input[n, c, y, x] to output (y*sh + i*dh - ph, x*sw + j*dw - pw)")
    h.assert_close(got, _oracle(x, w), call=call, reduction=_reduction(w), expected_from=REF)


def test_stride():
    """stride as an int: Ho = (H - 1) * stride + kh"""
    for size, k, stride in [(4, 3, 2), (5, 2, 2), (3, 3, 3), (4, 1, 3), (3, 2, 4)]:
        check_forward(h.randn(2, 3, size, size), h.randn(3, 4, k, k), stride=stride,
                      case=f"{size}x{size} input, {k}x{k} kernel, stride {stride}")


def test_padding():
    """padding as an int: crops padding rows/columns off every side of the output"""
    for size, k, padding in [(5, 3, 1), (6, 3, 2), (5, 4, 1), (6, 1, 2), (4, 5, 2)]:
        check_forward(h.randn(2, 3, size, size), h.randn(3, 4, k, k), padding=padding,
                      case=f"{size}x{size} input, {k}x{k} kernel, padding {padding}")


def test_output_padding():
    """output_padding as an int (with the stride it needs): extra rows/columns at the bottom/right"""
    cases = [(4, 3, dict(stride=2, output_padding=1)),
             (4, 3, dict(stride=3, output_padding=2)),
             (5, 3, dict(stride=2, output_padding=1, padding=1)),
             (4, 2, dict(stride=3, output_padding=1, padding=2)),
             (3, 1, dict(stride=2, output_padding=1))]
    for size, k, kw in cases:
        check_forward(h.randn(2, 3, size, size), h.randn(3, 4, k, k),
                      case=f"{size}x{size} input, {k}x{k} kernel", **kw)


def test_output_padding_dilation():
    """output_padding allowed by a dilation alone (stride 1): output_padding < max(stride, dilation)"""
    for size, dilation, op in [(4, 2, 1), (5, 3, 2), (4, 3, 1)]:
        check_forward(h.randn(2, 3, size, size), h.randn(3, 4, 3, 3), dilation=dilation,
                      output_padding=op, case=f"{size}x{size} input, stride 1")


def test_dilation():
    """dilation as an int: taps dilation apart"""
    for size, k, dilation in [(5, 3, 2), (4, 3, 3), (6, 2, 2)]:
        check_forward(h.randn(2, 3, size, size), h.randn(3, 4, k, k), dilation=dilation,
                      case=f"{size}x{size} input, {k}x{k} kernel, dilation {dilation}")


def test_pair_arguments():
    """stride, padding, output_padding and dilation given as (h, w) pairs"""
    cases = [dict(stride=(2, 1)), dict(stride=(1, 3)), dict(padding=(1, 0)),
             dict(padding=(0, 2)), dict(dilation=(2, 1)), dict(dilation=(1, 3)),
             dict(stride=(2, 3), output_padding=(1, 0)),
             dict(stride=(2, 3), output_padding=(0, 2)),
             dict(stride=(3, 2), output_padding=(1, 1))]
    for kw in cases:
        check_forward(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), **kw)


def test_all_together():
    """stride, padding, output_padding and dilation combined, as ints and (h, w) pairs"""
    cases = [
        ((2, 3, 5, 6), (3, 4, 3, 3), dict(stride=2, padding=1, output_padding=1, dilation=2)),
        ((2, 3, 5, 6), (3, 4, 3, 3), dict(stride=(2, 3), padding=(2, 1), output_padding=(1, 2),
                                          dilation=(1, 2))),
        ((2, 3, 4, 5), (3, 2, 2, 3), dict(stride=3, padding=2, output_padding=2, dilation=2)),
        ((1, 2, 6, 4), (2, 3, 4, 2), dict(stride=(1, 2), padding=(1, 2), dilation=(3, 1),
                                          output_padding=(2, 1))),
        ((2, 3, 4, 4), (3, 4, 3, 3), dict(stride=(3, 1), dilation=(1, 2), output_padding=(2, 1))),
    ]
    for xs, ws, kw in cases:
        check_forward(h.randn(*xs), h.randn(*ws), **kw)


def test_groups():
    """groups: input channel group g feeds output channels [g*C_out/G, (g+1)*C_out/G)"""
    check_forward(h.randn(2, 4, 5, 5), h.randn(4, 3, 3, 3), groups=2)
    check_forward(h.randn(2, 6, 5, 5), h.randn(6, 1, 3, 3), groups=3)
    check_forward(h.randn(1, 6, 4, 4), h.randn(6, 2, 2, 2), groups=2)


def test_depthwise():
    """depthwise (groups = C_in), with a channel multiplier"""
    check_forward(h.randn(2, 5, 5, 5), h.randn(5, 1, 3, 3), groups=5,
                  case="depthwise, multiplier 1")
    check_forward(h.randn(2, 4, 5, 5), h.randn(4, 2, 3, 3), groups=4,
                  case="depthwise, multiplier 2")


def test_bias():
    """bias added once per output channel (contiguous or strided; left unchanged)"""
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), h.randn(4))
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 5, 2, 2), h.randn(5))
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 6, 3, 3), h.randn(12)[::2],
                  case="bias is a strided view")
    fn = h.candidate(MODULE).conv_transpose2d
    x, w, b = h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), h.randn(4)
    saved, stride = b.clone(), b.stride()
    h.call(fn, x, w, b)
    call = h.last_call()
    h.assert_unchanged(saved, b, "bias", call=call)
    h.check(b.stride() == stride,
            f"{call} changed the strides of its argument 'bias' from {stride} to {b.stride()}"
            " (an in-place view or resize); arguments must be left unchanged")


def test_non_square():
    """non-square inputs and kernels"""
    check_forward(h.randn(2, 3, 4, 7), h.randn(3, 4, 2, 5))
    check_forward(h.randn(2, 3, 6, 3), h.randn(3, 4, 4, 1))
    check_forward(h.randn(1, 2, 3, 8), h.randn(2, 3, 1, 3))
    check_forward(h.randn(2, 3, 7, 4), h.randn(3, 4, 3, 3))


def test_batches():
    """batches: every image is transformed independently"""
    for n in (1, 3, 5):
        check_forward(h.randn(n, 3, 5, 5), h.randn(3, 4, 3, 3), case=f"batch of {n}")


def test_non_contiguous():
    """non-contiguous input and weight (transposed, sliced, channels-last, permuted)"""
    check_forward(h.randn(2, 3, 6, 6).transpose(2, 3), h.randn(3, 4, 3, 3),
                  case="transposed input")
    check_forward(h.randn(2, 6, 5, 5)[:, ::2], h.randn(3, 4, 3, 3),
                  case="input sliced along channels")
    check_forward(h.randn(2, 5, 5, 3).permute(0, 3, 1, 2), h.randn(3, 4, 3, 3),
                  case="channels-last input")
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 3, 3, 4).permute(2, 3, 0, 1),
                  case="permuted weight")
    check_forward(h.randn(2, 3, 5, 7)[..., 1:], h.randn(3, 4, 3, 4)[..., :3],
                  case="input and weight sliced along width")


def test_dtype_preserved():
    """dtype preserved: float64 in, float64 out (tight tolerance); float32 in, float32 out"""
    check_forward(h.randn(2, 3, 5, 5, dtype=F64), h.randn(3, 4, 3, 3, dtype=F64),
                  case="float64")
    check_forward(h.randn(1, 4, 4, 4, dtype=F64), h.randn(4, 4, 2, 2, dtype=F64),
                  case="float64", stride=2)
    check_forward(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), case="float32")


def test_inputs_unchanged():
    """arguments left unchanged (contiguous, channels-last and non-contiguous inputs)"""
    fn = h.candidate(MODULE).conv_transpose2d
    for layout in ("contiguous", "channels_last", "transposed"):
        x = h.in_layout(h.randn(2, 3, 5, 5), layout)
        w = h.in_layout(h.randn(3, 4, 3, 3), layout)
        saved = [(t.clone(), t.stride()) for t in (x, w)]
        h.call(fn, x, w, stride=2, padding=1)
        call = h.labelled(h.last_call(), f"{layout.replace('_', '-')} input and weight")
        for name, (before, stride), after in zip(["input", "weight"], saved, (x, w)):
            h.assert_unchanged(before, after, name, call=call)
            h.check(after.stride() == stride,
                    f"{call} changed the strides of its argument '{name}' from {stride} to"
                    f" {after.stride()}; arguments must be left unchanged (work on a copy)")


@pytest.mark.points(1.5)
def test_gradient_input():
    """gradient with respect to input (against autograd through F.conv_transpose2d)"""
    check_gradients(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), wrt=("input",))
    check_gradients(h.randn(2, 3, 4, 4), h.randn(3, 4, 3, 3), wrt=("input",),
                    stride=2, padding=1)


def test_gradient_weight():
    """gradient with respect to weight (against autograd through F.conv_transpose2d)"""
    check_gradients(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), wrt=("weight",))
    check_gradients(h.randn(2, 3, 4, 4), h.randn(3, 4, 3, 3), wrt=("weight",),
                    stride=2, padding=1)


@pytest.mark.points(0.5)
def test_gradient_bias():
    """gradient with respect to bias (against autograd through F.conv_transpose2d)"""
    check_gradients(h.randn(2, 3, 5, 5), h.randn(3, 4, 3, 3), h.randn(4), wrt=("bias",))


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=transpose_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, output_padding, dilation, groups, bias, dtype, layout"""
    x, w, b = make_tensors(case)
    check_forward(x, w, b, **case["kwargs"])


@pytest.mark.points(2)
@settings(max_examples=15, **HYPOTHESIS)
@given(case=transpose_cases(float32=False))
def test_random_gradients(case):
    """random cases: gradients for input, weight and bias (float64)"""
    x, w, b = make_tensors(case)
    check_gradients(x, w, b, gen=h.generator(case["seed"] + 1), **case["kwargs"])
