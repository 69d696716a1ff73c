"""Comparing a candidate's tensor with PyTorch's: dtype-appropriate tolerances, and a mismatch
told in numbers the candidate can act on (the worst element, its index, absolute and relative
error, the tolerance, with enough digits to see the difference)."""

from __future__ import annotations

import math

import torch

from grader.checks.describe import describe

# captured at import, before candidate code can patch them
_isclose, _isfinite, _abs, _argmax, _where = torch.isclose, torch.isfinite, torch.abs, torch.argmax, torch.where
_tensor_type, _finfo, _no_grad, _full = torch.Tensor, torch.finfo, torch.no_grad, torch.full
_float64 = torch.float64


def rms_atol(expected: torch.Tensor, reduction: int) -> float:
    """8 * eps * sqrt(R) * RMS(expected): the rounding error of a length-R sum grows with the
    size of its terms, and with standard-normal data a conv output is about sqrt(R) in size,
    so an atol from sqrt(R) alone fails a few correct elements near zero on large outputs."""
    with _no_grad():
        rms = float(expected.detach().double().pow(2).mean().sqrt())
    return 8 * _finfo(expected.dtype).eps * math.sqrt(reduction) * rms


def tolerances(dtype: torch.dtype, reduction: int = 1) -> tuple[float, float]:
    """(rtol, atol) for comparing a from-scratch result with PyTorch's.

    Defaults follow torch.testing.assert_close; summation order differs between a from-scratch
    kernel and oneDNN/cuDNN, so the absolute tolerance grows with sqrt(reduction size).
    """
    base = {torch.float16: (1e-3, 1e-5), torch.bfloat16: (1.6e-2, 1e-5),
            torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}
    rtol, atol = base.get(dtype, (0.0, 0.0))
    if dtype.is_floating_point:
        eps = _finfo(dtype).eps
        atol = max(atol, 8 * eps * math.sqrt(max(reduction, 1)))
        rtol = max(rtol, 8 * eps * math.sqrt(max(reduction, 1)))
    return rtol, atol


def distinct(got: float, want: float) -> tuple[str, str]:
    """The two numbers with the fewest significant digits (at least 6) that tell them apart:
    "got 11.31012, expected 11.31008", never "got 11.3101, expected 11.3101"."""
    for digits in range(6, 18):
        a, b = f"{got:.{digits}g}", f"{want:.{digits}g}"
        if a != b:
            return a, b
    return f"{got!r}", f"{want!r}"


def mismatch(actual, expected: torch.Tensor, *, prefix: str, rtol: float | None = None,
             atol: float | None = None, reduction: int = 1, expected_from: str = "PyTorch") -> str:
    """'' when `actual` matches `expected` (type, shape, dtype, device, values), else the message."""
    if type(actual) is not _tensor_type:
        return (f"{prefix}: {describe(actual)}; expected a plain torch.Tensor "
                f"like {describe(expected)}")
    if tuple(actual.shape) != tuple(expected.shape):
        return (f"{prefix} with shape {list(actual.shape)}; "
                f"expected shape {list(expected.shape)} ({expected_from})")
    if actual.dtype != expected.dtype:
        return (f"{prefix} with dtype {actual.dtype}; expected {expected.dtype} "
                "(keep the input's dtype)")
    if actual.device != expected.device:
        return f"{prefix} on device {actual.device}; expected {expected.device}"
    d_rtol, d_atol = tolerances(expected.dtype, reduction)
    if reduction > 1 and expected.dtype in (torch.float16, torch.bfloat16, torch.float32) \
            and expected.numel():
        d_atol = max(d_atol, rms_atol(expected, reduction))
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    with _no_grad():
        a, e = actual.detach(), expected.detach()
        if a.numel() == 0:
            return ""
        ok = _isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        if bool(ok.all()):
            return ""
        bad = int((~ok).sum())
        diff = _where(_isfinite(a - e), _abs(a.double() - e.double()),
                      _full(a.shape, float("inf"), dtype=_float64))
        idx = int(_argmax(diff))
        index = _unravel(idx, tuple(a.shape))
        got, want = a.reshape(-1)[idx].item(), e.reshape(-1)[idx].item()
        worst = float(diff.reshape(-1)[idx])
    shown_got, shown_want = distinct(got, want)
    relative = worst / abs(want) if want and math.isfinite(worst) else math.inf
    return (f"{prefix} that differs from {expected_from} at {bad} of {a.numel()} elements; "
            f"worst at index {list(index)}: got {shown_got}, expected {shown_want} "
            f"(abs error {worst:.3g}, rel error {relative:.3g}; "
            f"tolerance rtol={rtol:.2g}, atol={atol:.2g})")


def _unravel(flat: int, shape: tuple) -> tuple:
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return tuple(reversed(out))
