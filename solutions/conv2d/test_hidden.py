"""Hidden checks for `conv2d`: the candidate's conv2d against torch.nn.functional.conv2d.

The oracle always runs on its own copies of the inputs, in float64, and is cast back to the
input's dtype; float32 results get a tolerance that grows with the reduction size
C/groups * kh * kw (h.assert_close(..., reduction=...)). Gradients are compared in float64
with autograd through F.conv2d; the candidate's backward pass runs under the same guard as its
forward (no built-in convolution there either).

Independent credit: a check named for one property varies only that property. Everything else
stays at the defaults: square float32 contiguous input (N=2, C=3), square kernel, no bias,
stride 1, padding 0, dilation 1, groups 1. Interactions are checked by the checks that say so
(test_stride_padding_dilation_together, test_random_*). solutions/conv2d/contract.toml maps
every clause of the README to its check and to the wrong/ variant that violates only it;
solutions/conv2d/partial/ holds correct implementations lacking one feature each, with the
checks they are allowed to fail.
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
# report_multiple_bugs=False: one failure, with its message, instead of an ExceptionGroup.
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])
GRAD_NAMES = ("input", "weight", "bias")


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


def check_forward(x, w, b=None, case="", **kw):
    """Call the candidate's conv2d(x, w, b, **kw) and compare with F.conv2d."""
    conv2d = h.candidate(MODULE).conv2d
    expected = _oracle(x, w, b, **kw)
    args = (x, w) if b is None else (x, w, b)
    got = h.call(conv2d, *args, **kw)
    h.assert_close(got, expected, call=h.labelled(h.last_call(), case), reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
    return got


def autograd_backward(output, inputs, grad_output):
    """torch.autograd.grad through the candidate's graph (run under the guard, like its forward)."""
    return torch.autograd.grad(output, inputs, grad_output, allow_unused=True)


def check_gradients(x, w, b=None, gen=None, wrt=GRAD_NAMES, case="", **kw):
    """Gradients of <conv2d(x, w, b), g> for a random g, against autograd through F.conv2d
    (computed in float64, cast to the arguments' dtype). float32 arguments get a tolerance
    scaled to each gradient's reduction size (input: K/groups*kh*kw terms per pixel; weight
    and bias: N*Ho*Wo terms).

    Every argument requires grad (as in training); only the gradients named in `wrt` are
    judged, so a check about one gradient does not depend on the others."""
    conv2d = h.candidate(MODULE).conv2d
    dtype = x.dtype
    names = list(GRAD_NAMES[:2] if b is None else GRAD_NAMES)
    leaves = [t.detach().clone().requires_grad_() for t in ([x, w] if b is None else [x, w, b])]
    refs = [t.detach().to(F64).requires_grad_() for t in leaves]
    expected_out = F.conv2d(*refs[:2], refs[2] if b is not None else None, **kw)
    g = h.randn(*expected_out.shape, dtype=F64, gen=gen)         # dLoss/dout
    expected = [e.to(dtype) for e in torch.autograd.grad(expected_out, refs, g)]
    n, k, ho, wo = expected_out.shape
    groups = kw.get("groups", 1)
    reductions = {"input": (k // groups) * w.shape[2] * w.shape[3], "weight": n * ho * wo,
                  "bias": n * ho * wo}

    out = h.call(conv2d, *leaves, **kw)
    call = h.labelled(h.last_call(), case)
    h.assert_close(out, expected_out.detach().to(dtype), call=call, reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")
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
                       expected_from="autograd through F.conv2d")


# -------------------------------------------------------------------------- hypothesis cases

@st.composite
def conv_cases(draw, float32=True):
    """A random valid conv2d call: (shapes, keyword arguments, bias?, dtype, layout, seed)."""
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
            "layout": draw(st.sampled_from(["contiguous", "contiguous", "channels_last",
                                            "transposed"])),
            "seed": draw(st.integers(0, 2**20))}
    return case


def make_tensors(case):
    """Data for a drawn case: a function of the case and the run's secret seed."""
    gen = h.generator(case["seed"])
    dtype = case["dtype"]
    x = h.in_layout(h.randn(*case["x"], dtype=dtype, gen=gen), case["layout"])
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
    x, w = h.randn(1, 2, 7, 7), h.randn(3, 2, 3, 3)
    flipped = _oracle(x, w.flip(-1, -2))
    got = h.call(conv2d, x, w)
    call = h.last_call()
    if (type(got) is torch.Tensor and got.shape == flipped.shape
            and got.dtype == flipped.dtype and got.device == flipped.device
            and bool(torch.isclose(got.detach(), flipped, rtol=1e-4, atol=1e-4).all())):
        raise h.CheckFailed(f"{call} computed a textbook convolution (kernel flipped in both"
                            " directions); torch.nn.functional.conv2d is a cross-correlation:"
                            " out[y, x] sums weight[i, j] * input[y + i, x + j], no flip")
    h.assert_close(got, _oracle(x, w), call=call, reduction=_reduction(w),
                   expected_from="torch.nn.functional.conv2d")


def test_stride():
    """stride as an int, including sizes the stride does not divide"""
    for size, k, stride in [(9, 3, 2), (8, 3, 2), (10, 2, 3), (11, 3, 3), (7, 1, 4)]:
        check_forward(h.randn(2, 3, size, size), h.randn(4, 3, k, k), stride=stride,
                      case=f"{size}x{size} input, {k}x{k} kernel, stride {stride}")


def test_padding_int():
    """padding as an int"""
    for padding, k in [(1, 3), (2, 3), (3, 2), (1, 1)]:
        check_forward(h.randn(2, 3, 7, 7), h.randn(4, 3, k, k), padding=padding,
                      case=f"{k}x{k} kernel, padding {padding}")


def test_pair_arguments():
    """stride and padding given as (h, w) pairs"""
    for kw in [dict(stride=(2, 1)), dict(stride=(1, 3)), dict(padding=(1, 2)),
               dict(padding=(0, 3)), dict(stride=(2, 3), padding=(2, 0))]:
        check_forward(h.randn(2, 3, 9, 9), h.randn(4, 3, 3, 3), **kw)


@pytest.mark.points(0.5)
def test_padding_valid():
    """padding "valid" (no padding)"""
    check_forward(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), padding="valid")
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 2, 2), padding="valid")


def test_padding_same_odd():
    """padding "same" with odd kernels"""
    for size, k in [(7, 3), (8, 5), (5, 1), (6, 3)]:
        check_forward(h.randn(2, 3, size, size), h.randn(4, 3, k, k), padding="same",
                      case=f"{size}x{size} input, {k}x{k} kernel")


def test_padding_same_even():
    """padding "same" with even kernels (PyTorch pads the extra pixel right/bottom)"""
    for size, k in [(7, 2), (8, 2), (8, 4), (5, 4)]:
        check_forward(h.randn(2, 3, size, size), h.randn(4, 3, k, k), padding="same",
                      case=f"{size}x{size} input, {k}x{k} kernel")


def test_dilation():
    """dilation as an int"""
    for dilation, size in [(2, 11), (3, 12), (2, 5)]:
        check_forward(h.randn(2, 3, size, size), h.randn(4, 3, 3, 3), dilation=dilation,
                      case=f"{size}x{size} input, dilation {dilation}")


def test_stride_padding_dilation_together():
    """stride, padding ("same" included) and dilation combined, as ints and (h, w) pairs"""
    cases = [
        ((2, 3, 13, 12), (5, 3, 3, 3), dict(stride=2, padding=1, dilation=2)),
        ((2, 3, 13, 12), (5, 3, 3, 3), dict(stride=(2, 3), padding=(2, 1), dilation=(1, 2))),
        ((2, 3, 13, 12), (5, 3, 3, 3), dict(stride=3, padding=2, dilation=2)),
        ((2, 3, 11, 12), (4, 3, 3, 3), dict(dilation=(1, 2))),
        ((2, 3, 11, 12), (4, 3, 3, 3), dict(dilation=(3, 1), padding=(1, 2))),
        ((2, 3, 12, 7), (4, 3, 5, 1), dict(stride=(3, 1), padding=(2, 0), dilation=(1, 2))),
        ((1, 2, 9, 8), (3, 2, 3, 3), dict(padding="same", dilation=2)),
        ((2, 3, 7, 8), (4, 3, 4, 1), dict(padding="same", dilation=3)),
        ((2, 3, 7, 8), (4, 3, 2, 2), dict(padding="same", dilation=(1, 3))),
        ((2, 3, 7, 8), (4, 3, 2, 3), dict(padding="same")),
        ((2, 3, 7, 8), (4, 3, 3, 4), dict(padding="same")),
        ((1, 2, 6, 9), (3, 2, 3, 5), dict(padding="same")),
    ]
    for xs, ws, kw in cases:
        check_forward(h.randn(*xs), h.randn(*ws), **kw)


def test_groups():
    """groups: channels split into independent slices"""
    check_forward(h.randn(2, 4, 8, 8), h.randn(6, 2, 3, 3), groups=2)
    check_forward(h.randn(2, 6, 8, 8), h.randn(3, 2, 3, 3), groups=3)
    check_forward(h.randn(1, 6, 7, 7), h.randn(9, 2, 3, 3), groups=3)


def test_depthwise():
    """depthwise convolution (groups = in_channels), with channel multiplier"""
    check_forward(h.randn(2, 5, 8, 8), h.randn(5, 1, 3, 3), groups=5,
                  case="depthwise, multiplier 1")
    check_forward(h.randn(2, 4, 8, 8), h.randn(8, 1, 3, 3), groups=4,
                  case="depthwise, multiplier 2")


def test_bias():
    """bias added once per output channel (contiguous or strided; left unchanged)"""
    check_forward(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4))
    check_forward(h.randn(2, 3, 6, 6), h.randn(5, 3, 2, 2), h.randn(5))
    check_forward(h.randn(2, 3, 6, 6), h.randn(6, 3, 3, 3), h.randn(12)[::2],
                  case="bias is a strided view")
    conv2d = h.candidate(MODULE).conv2d
    x, w, b = h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4)
    saved, stride = b.clone(), b.stride()
    h.call(conv2d, x, w, b)
    call = h.last_call()
    h.assert_unchanged(saved, b, "bias", call=call)
    h.check(b.stride() == stride,
            f"{call} changed the strides of its argument 'bias' from {stride} to {b.stride()}"
            " (an in-place view or resize); arguments must be left unchanged")


def test_non_square():
    """non-square inputs and kernels"""
    check_forward(h.randn(2, 3, 6, 11), h.randn(4, 3, 2, 5))
    check_forward(h.randn(2, 3, 12, 7), h.randn(4, 3, 5, 1))
    check_forward(h.randn(1, 2, 5, 13), h.randn(3, 2, 1, 4))
    check_forward(h.randn(2, 3, 9, 6), h.randn(4, 3, 3, 3))


def test_batches():
    """batches: every image is convolved independently"""
    for n in (1, 3, 5):
        check_forward(h.randn(n, 3, 7, 7), h.randn(4, 3, 3, 3), case=f"batch of {n}")


def test_non_contiguous():
    """non-contiguous input and weight (transposed, sliced, channels-last, permuted)"""
    x_t = h.randn(2, 3, 8, 8).transpose(2, 3)                  # transposed view
    check_forward(x_t, h.randn(4, 3, 3, 3), case="transposed input")
    x_s = h.randn(2, 6, 8, 8)[:, ::2]                           # every other channel
    check_forward(x_s, h.randn(4, 3, 3, 3), case="input sliced along channels")
    x_cl = h.randn(2, 8, 8, 3).permute(0, 3, 1, 2)              # (2, 3, 8, 8), channels-last
    check_forward(x_cl, h.randn(4, 3, 3, 3), case="channels-last input")
    w_nc = h.randn(3, 3, 4, 3).permute(2, 3, 0, 1)              # (4, 3, 3, 3), permuted
    check_forward(h.randn(2, 3, 8, 8), w_nc, case="permuted weight")
    check_forward(h.randn(2, 3, 8, 9)[..., 1:], h.randn(4, 3, 3, 4)[..., :3],
                  case="input and weight sliced along width")


def test_dtype_preserved():
    """dtype preserved: float64 in, float64 out (tight tolerance); float32 in, float32 out"""
    check_forward(h.randn(2, 3, 7, 7, dtype=F64), h.randn(4, 3, 3, 3, dtype=F64),
                  case="float64")
    check_forward(h.randn(1, 4, 6, 6, dtype=F64), h.randn(4, 4, 2, 2, dtype=F64),
                  case="float64")
    check_forward(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), case="float32")


def test_inputs_unchanged():
    """arguments left unchanged (contiguous, channels-last and non-contiguous inputs)"""
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
                    f" {after.stride()}; arguments must be left unchanged (work on a copy)")


@pytest.mark.points(1.5)
def test_gradient_input():
    """gradient with respect to input (against autograd through F.conv2d)"""
    check_gradients(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), wrt=("input",))
    check_gradients(h.randn(2, 3, 9, 9), h.randn(4, 3, 3, 3), wrt=("input",),
                    stride=2, padding=1)


def test_gradient_weight():
    """gradient with respect to weight (against autograd through F.conv2d)"""
    check_gradients(h.randn(2, 3, 7, 7), h.randn(4, 3, 3, 3), wrt=("weight",))
    check_gradients(h.randn(2, 3, 9, 9), h.randn(4, 3, 3, 3), wrt=("weight",),
                    stride=2, padding=1)


@pytest.mark.points(0.5)
def test_gradient_bias():
    """gradient with respect to bias (against autograd through F.conv2d)"""
    check_gradients(h.randn(2, 3, 6, 6), h.randn(4, 3, 3, 3), h.randn(4), wrt=("bias",))


@pytest.mark.points(2)
@settings(max_examples=25, **HYPOTHESIS)
@given(case=conv_cases())
def test_random_all_parameters(case):
    """random shapes, stride, padding, dilation, groups, bias, dtype and layout together"""
    x, w, b = make_tensors(case)
    check_forward(x, w, b, **case["kwargs"])


@pytest.mark.points(2)
@settings(max_examples=15, **HYPOTHESIS)
@given(case=conv_cases(float32=False))
def test_random_gradients(case):
    """random cases: gradients for input, weight and bias (float64)"""
    x, w, b = make_tensors(case)
    check_gradients(x, w, b, gen=h.generator(case["seed"] + 1), **case["kwargs"])
