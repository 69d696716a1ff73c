"""Hidden checks for `max-pool2d`: the candidate's max pooling and hand-written backward.

Oracle, computed here and never by candidate code: F.max_pool2d(..., return_indices=True) on
a float64 copy, and torch.autograd.grad through it. Max pooling selects, it does not compute:
outputs and indices must match exactly (rtol = atol = 0, in float32 too); gradients are sums
of at most kh*kw grad_output values and are held to the dtype's default tolerances.

Independent credit: a check named for one property varies only that property; everything else
stays at the defaults (float64, contiguous, 4x4-ish square input, kernel 2, stride = kernel,
padding 0, dilation 1, floor mode, return_indices False, no gradient). Output values, indices
and gradients are separate checks: a candidate without return_indices loses only the index
checks, one without a backward only the gradient checks. Data are standard normal (no ties)
except in the checks named for ties and for -inf padding. No check builds a configuration in
which a window covers no input element (README: not tested).
solutions/max-pool2d/contract.toml maps every README clause to its check and wrong/ variant;
partial/ holds correct implementations lacking one feature each.
"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

from grader import harness as h

MODULE = "max_pool2d"
F64 = torch.float64
HYPOTHESIS = dict(deadline=None, database=None, print_blob=False, report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.reuse, Phase.generate])
# No shrink phase either: a failing candidate (or mutant) must fail fast; the first failing
# example is reported as drawn.


# ------------------------------------------------------------------------------------ helpers

def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _out_size(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows_hit_input(size, k, s, p, d, ceil_mode):
    """Whether every window covers at least one input element (along one dimension)."""
    out = _out_size(size, k, s, p, d, ceil_mode)
    return out >= 1 and all(any(0 <= o * s - p + i * d < size for i in range(k))
                            for o in range(out))


def _kwargs(kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False):
    kw = {"kernel_size": kernel_size}
    if stride is not None:
        kw["stride"] = stride
    if padding:
        kw["padding"] = padding
    if dilation != 1:
        kw["dilation"] = dilation
    if ceil_mode:
        kw["ceil_mode"] = True
    return kw


def _oracle(x, **kw):
    """(output, indices, leaf) by F.max_pool2d on a float64 copy that requires grad."""
    x64 = x.detach().to(F64).requires_grad_()
    out, idx = F.max_pool2d(x64, return_indices=True, **kw)
    return out, idx, x64


def autograd_grad(output, input, grad_output):
    """torch.autograd.grad(output, input, grad_output): runs the candidate's backward."""
    return torch.autograd.grad(output, input, grad_output)[0]


def check_pool(x, *, indices=False, grad=False, output=True, case="", grad_output=None, **kw):
    """Call max_pool2d(x, **kw) (with return_indices=True when `indices`); compare the output
    exactly, the indices exactly when `indices`, and the gradient of the candidate's output
    (backpropagating `grad_output`, random by default) with autograd's when `grad`."""
    max_pool2d = h.candidate(MODULE).max_pool2d
    exp_out, exp_idx, x64 = _oracle(x, **kw)
    leaf = x.detach().clone().requires_grad_() if grad else x
    if grad and not x.is_contiguous():
        leaf = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
    got = h.call(max_pool2d, leaf, return_indices=True, **kw) if indices else \
        h.call(max_pool2d, leaf, **kw)
    call = h.labelled(h.last_call(), case)
    if indices:
        h.check(type(got) in (tuple, list) and len(got) == 2,
                f"{call} returned {h.describe(got)}; with return_indices=True expected a pair "
                "(output, indices)")
        got_out, got_idx = got
    else:
        got_out = got
    if output or grad:
        h.assert_close(got_out, exp_out.detach().to(x.dtype), call=call, what="the output",
                       rtol=0, atol=0, expected_from="F.max_pool2d")
    if indices:
        h.assert_close(got_idx, exp_idx, call=call, what="indices", rtol=0, atol=0,
                       expected_from="F.max_pool2d(..., return_indices=True)")
    if grad:
        h.check(got_out.requires_grad and got_out.grad_fn is not None,
                f"{call} returned an output that does not require grad for an input that does;"
                " the output must be connected to the input through your autograd.Function")
        go = h.randn(*got_out.shape, dtype=x.dtype) if grad_output is None else grad_output
        expected = torch.autograd.grad(exp_out, x64, go.to(F64))[0].to(x.dtype)
        got_grad = h.call(autograd_grad, got_out, leaf, go)
        h.assert_close(got_grad, expected, call=h.labelled(h.last_call(), case),
                       what="the gradient with respect to the input",
                       expected_from="autograd through F.max_pool2d")
    return got


def _ties(*shape, dtype=F64, gen=None):
    """Small integers: most windows hold their maximum more than once."""
    return torch.randint(-2, 3, shape, generator=gen or h.generator(7)).to(dtype)


def _negative(*shape, dtype=F64):
    """All values below zero: zero padding (instead of -inf) would win every border window."""
    return -(h.randn(*shape, dtype=dtype).abs() + 0.5)


# ------------------------------------------------------------------------------------- checks

def test_basic():
    """kernel 2 and 3, stride defaulting to the kernel size: the output"""
    check_pool(h.randn(2, 3, 6, 6, dtype=F64), kernel_size=2)
    check_pool(h.randn(2, 3, 9, 9, dtype=F64), kernel_size=3)
    check_pool(h.randn(1, 2, 7, 7, dtype=F64), kernel_size=2, case="7x7: the last row and "
               "column fit no window and are dropped")


def test_stride():
    """an explicit stride, smaller and larger than the kernel (overlapping, gapped windows)"""
    for size, kernel, stride in [(7, 3, 1), (8, 3, 2), (9, 2, 3), (6, 2, 1)]:
        check_pool(h.randn(2, 3, size, size, dtype=F64), case=f"{size}x{size} input",
                   **_kwargs(kernel, stride))


def test_padding():
    """padding (an int), kernel 2 to 5 with padding up to half the kernel"""
    for kernel, padding, stride in [(3, 1, 1), (2, 1, 2), (4, 2, 1), (5, 2, 2), (3, 1, 2)]:
        check_pool(h.randn(2, 3, 7, 7, dtype=F64), **_kwargs(kernel, stride, padding))


def test_padding_is_negative_infinity():
    """padding behaves as -inf: with all-negative inputs a border window's maximum is an input"""
    for kernel, padding, stride in [(3, 1, 1), (2, 1, 2), (4, 2, 3)]:
        check_pool(_negative(2, 3, 6, 6), case="all inputs < 0",
                   **_kwargs(kernel, stride, padding))


def test_dilation():
    """dilation (an int), with and without padding"""
    for size, kernel, stride, padding, dilation in [(9, 3, 1, 0, 2), (11, 3, 2, 1, 3),
                                                    (8, 2, 1, 1, 2), (10, 3, 3, 0, 2)]:
        check_pool(h.randn(2, 3, size, size, dtype=F64), case=f"{size}x{size} input",
                   **_kwargs(kernel, stride, padding, dilation))


def test_ceil_mode():
    """ceil_mode: a partial last window is kept (padding and past the edge count as -inf)"""
    for size, kernel, stride, padding in [(5, 2, 2, 0), (7, 3, 2, 0), (6, 3, 2, 1), (8, 3, 3, 1),
                                          (2, 3, 2, 0)]:
        check_pool(h.randn(2, 3, size, size, dtype=F64), case=f"{size}x{size} input",
                   **_kwargs(kernel, stride, padding, ceil_mode=True))
    check_pool(_negative(2, 3, 7, 7), case="7x7, all inputs < 0",
               **_kwargs(2, 2, 0, ceil_mode=True))


def test_ceil_mode_last_window_rule():
    """ceil_mode: a last window that would start in the right/bottom padding is dropped"""
    for size, kernel, stride, padding in [(5, 2, 2, 1), (3, 2, 2, 1), (7, 2, 2, 1), (4, 3, 3, 1)]:
        check_pool(h.randn(2, 3, size, size, dtype=F64), case=f"{size}x{size} input, ceil mode",
                   **_kwargs(kernel, stride, padding, ceil_mode=True))


def test_pair_arguments():
    """kernel_size, stride, padding and dilation as (h, w) pairs"""
    x = h.randn(2, 3, 9, 9, dtype=F64)
    for kw in [{"kernel_size": (2, 3)}, {"kernel_size": (3, 1)}, {"kernel_size": 2, "stride": (1, 2)},
               {"kernel_size": 3, "stride": (3, 1), "padding": (1, 0)},
               {"kernel_size": 3, "stride": 1, "padding": (0, 1)},
               {"kernel_size": 2, "stride": 1, "dilation": (1, 3)},
               {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (2, 3)}]:
        check_pool(x, **kw)


def test_non_square_input():
    """non-square inputs (H != W), square kernel"""
    for hw, kernel, stride in [((6, 11), 2, None), ((10, 5), 3, 2), ((4, 9), 3, 1)]:
        check_pool(h.randn(2, 3, *hw, dtype=F64), **_kwargs(kernel, stride))


def test_return_indices():
    """return_indices=True: flat h * W + w indices into the unpadded input, int64"""
    for size, kw in [(6, _kwargs(2)), (9, _kwargs(3, 2)), ((5, 8), _kwargs(3, 2, 1)),
                     ((7, 6), _kwargs((2, 3), 1)), ((6, 9), _kwargs((3, 2), (1, 2), (1, 0)))]:
        hw = _pair(size)
        check_pool(h.randn(2, 3, *hw, dtype=F64), indices=True, output=False,
                   case=f"{hw[0]}x{hw[1]} input", **kw)


def test_ties_first_maximum():
    """ties: the first maximum of the window in row-major order is chosen (indices)"""
    for kw in [_kwargs(2), _kwargs(3, 1), _kwargs(3, 2, 1), _kwargs((2, 3), 1)]:
        check_pool(_ties(2, 3, 8, 8), indices=True, output=False,
                   case="small-integer inputs, many tied maxima", **kw)


def test_backward():
    """the gradient (hand-written backward): grad_output routed to each window's argmax"""
    check_pool(h.randn(2, 3, 6, 6, dtype=F64), grad=True, output=False, kernel_size=2)
    check_pool(h.randn(2, 3, 7, 7, dtype=F64), grad=True, output=False, kernel_size=3,
               case="7x7: the last row and column get no gradient")


def test_backward_overlapping():
    """the gradient where windows overlap (stride < kernel): contributions accumulate"""
    for kw in [_kwargs(3, 1), _kwargs(2, 1), _kwargs(3, 2)]:
        check_pool(_ties(2, 3, 7, 7), grad=True, output=False,
                   case="small-integer inputs: one element is the maximum of several windows",
                   **kw)


def test_backward_ties():
    """the gradient with tied maxima: all of it goes to the first maximum, none split"""
    check_pool(_ties(2, 3, 8, 8), grad=True, output=False, kernel_size=2,
               case="small-integer inputs, many tied maxima")
    ones = torch.ones(1, 2, 4, 4, dtype=F64)
    check_pool(ones, grad=True, output=False, kernel_size=2, case="all ones")


def test_backward_padding_dilation_ceil():
    """the gradient with padding, dilation and ceil mode (indices into the unpadded input)"""
    for kw in [_kwargs(3, 2, 1), _kwargs(2, 1, 0, 2), _kwargs(3, 2, 0, ceil_mode=True),
               _kwargs(3, 2, 1, 2, ceil_mode=True)]:
        check_pool(h.randn(2, 3, 8, 8, dtype=F64), grad=True, output=False, **kw)


def test_backward_expanded_grad_output():
    """the gradient when grad_output is an expanded view (zero strides, as from out.sum())"""
    x = h.randn(2, 3, 6, 6, dtype=F64)
    go = h.randn(1, 3, 1, 1, dtype=F64).expand(2, 3, 3, 3)
    check_pool(x, grad=True, output=False, grad_output=go, case="expanded grad_output",
               kernel_size=2)


def test_custom_function():
    """the output comes from your autograd.Function (hand-written backward), fed the input as is"""
    mod = h.candidate(MODULE)
    for kw in [_kwargs(2), _kwargs(3, 2, 1)]:
        x = h.randn(2, 3, 7, 7, dtype=F64).requires_grad_()
        out = h.call(mod.max_pool2d, x, **kw)
        call = h.last_call()
        node = getattr(out, "grad_fn", None)
        cls = getattr(node, "_forward_cls", None)
        h.check(isinstance(cls, type) and issubclass(cls, torch.autograd.Function)
                and getattr(cls, "__module__", "") == MODULE,
                f"{call} returned an output whose grad_fn is {type(node).__name__}; expected "
                "the backward node of a torch.autograd.Function subclass defined in "
                f"{MODULE}.py (the backward must be yours, not autograd's)")
        parents = [type(n).__name__ for n, _ in node.next_functions if n is not None]
        h.check(parents == ["AccumulateGrad"],
                f"{call}: your Function's inputs reach the input through {parents}; pass the "
                "input into Function.apply as it is (pad and unfold inside forward)")


def test_float32():
    """float32 in: float32 output (exact) and gradient"""
    x = h.randn(2, 4, 9, 9, dtype=torch.float32)
    check_pool(x, **_kwargs(3, 2, 1))
    check_pool(x, grad=True, output=False, **_kwargs(3, 2, 1))


def test_non_contiguous():
    """channels-last and transposed inputs"""
    x = h.randn(2, 3, 8, 8, dtype=F64)
    check_pool(x.contiguous(memory_format=torch.channels_last), case="channels-last input",
               **_kwargs(3, 2, 1))
    check_pool(x.transpose(2, 3), case="transposed input (a view)", **_kwargs(3, 2, 1))
    check_pool(x[:, :, 1:, ::2], case="sliced input (a view)", **_kwargs(2, 1))


def _layouts():
    for layout in ("contiguous", "channels-last"):
        fmt = torch.channels_last if layout == "channels-last" else torch.contiguous_format
        yield layout, h.randn(2, 3, 6, 6, dtype=F64).contiguous(memory_format=fmt)


def test_input_unchanged():
    """the input is left unchanged by the forward (values and strides)"""
    max_pool2d = h.candidate(MODULE).max_pool2d
    for layout, x in _layouts():
        saved, stride = x.clone(), x.stride()
        h.call(max_pool2d, x, kernel_size=3, stride=2, padding=1)
        call = h.labelled(h.last_call(), f"{layout} input")
        h.assert_unchanged(saved, x, "input", call=call)
        h.check(x.stride() == stride,
                f"{call} changed the strides of its input from {stride} to {x.stride()}")


def test_input_unchanged_by_backward():
    """the input is left unchanged by the backward (values)"""
    max_pool2d = h.candidate(MODULE).max_pool2d
    for layout, x in _layouts():
        saved = x.clone()
        x.requires_grad_()
        out = h.call(max_pool2d, x, kernel_size=3, stride=2, padding=1)
        h.check(isinstance(out, torch.Tensor) and out.requires_grad,
                f"{h.last_call()} returned {h.describe(out)}; expected an output that requires "
                "grad")
        h.call(autograd_grad, out, x, torch.ones_like(out))
        h.assert_unchanged(saved, x.detach(), "input",
                           call=f"[case: {layout} input] backward of max_pool2d")


@pytest.mark.parametrize("kw, size, why", [
    ({"kernel_size": 3, "padding": 2}, 8, "padding 2 > kernel 3 // 2"),
    ({"kernel_size": 2, "padding": 2}, 8, "padding 2 > kernel 2 // 2"),
    ({"kernel_size": (4, 3), "padding": (2, 2)}, 8, "padding width 2 > kernel width 3 // 2"),
    ({"kernel_size": (3, 5), "padding": (2, 1)}, 8, "padding height 2 > kernel height 3 // 2"),
    ({"kernel_size": 3, "padding": 2, "dilation": 2}, 8,
     "padding 2 > kernel 3 // 2; the dilation does not enter PyTorch's rule"),
], ids=["k3-p2", "k2-p2", "pair-width", "pair-height", "dilated"])
def test_padding_too_large(kw, size, why):
    """padding larger than half the kernel (per dimension) raises ValueError, as PyTorch refuses"""
    _expect_value_error(size, kw, why)


@pytest.mark.parametrize("kw, size, why", [
    ({"kernel_size": 3}, (2, 8), "height 2 < kernel 3"),
    ({"kernel_size": 3}, (8, 2), "width 2 < kernel 3"),
    ({"kernel_size": 2, "dilation": 3}, (3, 8), "height 3 < dilated kernel 4"),
], ids=["short", "narrow", "dilated"])
def test_output_too_small(kw, size, why):
    """an input too small for one window (empty output) raises ValueError"""
    _expect_value_error(size, kw, why)


def _raises_value_error(fn):
    """max_pool2d with ValueError turned into a result (other exceptions propagate to h.call,
    which explains them)."""
    def max_pool2d(*args, **kwargs):
        try:
            return False, fn(*args, **kwargs)
        except ValueError:
            return True, None
    max_pool2d.__qualname__ = "max_pool2d"
    return max_pool2d


def _expect_value_error(size, kw, why):
    fn = h.candidate(MODULE).max_pool2d
    x = h.randn(1, 2, *_pair(size), dtype=F64)
    try:
        raised, got = h.call(_raises_value_error(fn), x, **kw)
    except h.Tampered:
        raise
    except h.CheckFailed as exc:
        raise h.CheckFailed(f"{h.safe_str(exc, 1500)}; expected a ValueError ({why})") from None
    h.check(raised, f"{h.last_call()} returned {h.describe(got)}; expected a ValueError ({why}),"
            " as F.max_pool2d refuses this")


@st.composite
def pool_cases(draw):
    """A random valid configuration in which every window covers an input element."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    ceil_mode = draw(st.booleans())
    hh, ww = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    ok = (_windows_hit_input(hh, kh, sh, ph, dh, ceil_mode)
          and _windows_hit_input(ww, kw, sw, pw, dw, ceil_mode))
    if not ok:
        hh, ww = hh + dh * (kh - 1) + 1, ww + dw * (kw - 1) + 1
    assume(_windows_hit_input(hh, kh, sh, ph, dh, ceil_mode)
           and _windows_hit_input(ww, kw, sw, pw, dw, ceil_mode))
    pack = lambda a, b: a if a == b and draw(st.booleans()) else (a, b)  # noqa: E731
    kwargs = {"kernel_size": pack(kh, kw), "stride": pack(sh, sw), "padding": pack(ph, pw),
              "dilation": pack(dh, dw), "ceil_mode": ceil_mode}
    if draw(st.booleans()) and (kh, kw) == (sh, sw):
        del kwargs["stride"]
    return {"shape": (draw(st.integers(1, 2)), draw(st.integers(1, 3)), hh, ww),
            "kwargs": kwargs, "dtype": draw(st.sampled_from([torch.float32, F64])),
            "ties": draw(st.booleans()), "seed": draw(st.integers(0, 2**20))}


@pytest.mark.points(3)
@settings(max_examples=20, **HYPOTHESIS)
@given(case=pool_cases())
@example(case={"shape": (2, 2, 5, 5), "kwargs": {"kernel_size": 2, "stride": 2, "padding": 1,
                                                 "ceil_mode": True},
               "dtype": F64, "ties": True, "seed": 3})
def test_random_all_parameters(case):
    """random shapes, kernel, stride, padding, dilation, ceil mode, dtype, ties: all results"""
    gen = h.generator(case["seed"])
    if case["ties"]:
        x = _ties(*case["shape"], dtype=case["dtype"], gen=gen)
    else:
        x = h.randn(*case["shape"], dtype=case["dtype"], gen=gen)
    check_pool(x, indices=True, grad=True, **case["kwargs"])
