"""Trusted helpers for hidden checks (`solutions/<slug>/test_hidden.py`).

The grading child imports this module *before* any candidate code runs, so the comparison
functions below are captured while they are still PyTorch's own: a candidate who later
monkeypatches `torch.allclose` or `Tensor.__eq__` changes nothing here.

How a hidden check uses it::

    from grader import harness as h

    def test_stride():
        "handles stride 2"
        mod = h.candidate("conv2d")                 # imported lazily, inside the test
        x, w = h.randn(2, 3, 9, 9), h.randn(4, 3, 3, 3)
        got = h.call(mod.conv2d, x, w, stride=2)     # runs under the forbidden-op guard
        h.assert_close(got, F.conv2d(x, w, stride=2), call=h.last_call())

Every failure raises `CheckFailed` (an AssertionError) whose text is written for the candidate:
what was called, what came back, what was expected.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# Captured at import, before candidate code can patch them.
_isclose = torch.isclose
_isfinite = torch.isfinite
_abs = torch.abs
_max = torch.max
_argmax = torch.argmax
_where = torch.where
_tensor_type = torch.Tensor
_finfo = torch.finfo
_no_grad = torch.no_grad
_equal = torch.equal
_float64 = torch.float64
_import_module = importlib.import_module

# Groups usable in exercise.toml's forbidden_ops: every aten op that performs a convolution.
OP_GROUPS = {
    "group:convolution": (
        "aten.convolution", "aten._convolution", "aten.conv2d", "aten.conv1d", "aten.conv3d",
        "aten.conv_transpose2d", "aten.mkldnn_convolution", "aten._slow_conv2d_forward",
        "aten.thnn_conv2d", "aten.cudnn_convolution", "aten.cudnn_convolution_transpose",
        "aten.miopen_convolution", "aten._nnpack_spatial_convolution",
        "aten.slow_conv_dilated2d", "aten._conv_depthwise2d", "aten.convolution_overrideable",
        "aten.slow_conv_transpose2d", "aten.mkldnn_convolution_transpose",
        "aten._convolution_mode", "aten.conv_tbc",
    ),
    "group:convolution_backward": (
        "aten.convolution_backward", "aten._slow_conv2d_backward",
        "aten.convolution_backward_overrideable", "aten.mkldnn_convolution_backward",
    ),
}

_config = {
    "forbidden_ops": (),
    "candidate_dir": None,     # files under it are "candidate code" in flags
    "on_flag": None,           # callable(kind, detail), set by the grading child
    "seed": int.from_bytes(os.urandom(4), "little"),
    "hidden_data": {},         # name -> bytes of solutions/<slug>/data/*, read before candidate code
    "device": "cpu",           # the grading device ("cpu" or "cuda")
}
_last_call = [""]
_notes: list[str] = []


class CheckFailed(AssertionError):
    """A hidden check failed; the text is shown to the candidate."""


def configure(**options) -> None:
    """Called by the grading child (never by checks) before candidate code is imported."""
    unknown = set(options) - set(_config)
    if unknown:
        raise TypeError(f"unknown harness options {sorted(unknown)}")
    _config.update(options)
    ops = []
    for op in _config["forbidden_ops"]:
        ops.extend(OP_GROUPS.get(op, (op,)))
    _config["forbidden_ops"] = tuple(ops)


def hidden_data(name: str) -> bytes:
    """A file from solutions/<slug>/data/, preloaded by the grading child (the candidate's code
    cannot open the solutions folder). Run standalone, it is read from ./data beside the check."""
    if name in _config["hidden_data"]:
        return _config["hidden_data"][name]
    caller = sys._getframe(1).f_code.co_filename
    with open(os.path.join(os.path.dirname(os.path.abspath(caller)), "data", name), "rb") as fh:
        return fh.read()


def device() -> str:
    """The grading device: checks that can use CUDA create their tensors here."""
    return _config["device"]


def seed() -> int:
    """The per-run secret seed (never in the environment, never the same twice)."""
    return _config["seed"]


def generator(offset: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed() + offset)


def randn(*shape, dtype=torch.float32, gen: torch.Generator | None = None) -> torch.Tensor:
    """Standard-normal test data drawn from the secret seed."""
    return torch.randn(*shape, dtype=dtype, generator=gen or _default_gen())


_gen_holder: list[torch.Generator] = []


def _default_gen() -> torch.Generator:
    if not _gen_holder:
        _gen_holder.append(generator(12345))
    return _gen_holder[0]


# ---------------------------------------------------------------------------- describing values

def safe_str(value, limit: int = 300) -> str:
    """str() that never raises and never floods (candidate objects may do either)."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__ may raise anything
        text = f"<{type(value).__name__} whose str() failed>"
    return text if len(text) <= limit else text[:limit] + "…"


def describe(value) -> str:
    """Short, candidate-facing description: `Tensor[2, 3, 8, 8] float32`."""
    if type(value) is _tensor_type or isinstance(value, _tensor_type):
        kind = "Tensor" if type(value) is _tensor_type else f"{type(value).__name__}(Tensor subclass)"
        dtype = str(value.dtype).replace("torch.", "")
        extra = "" if value.is_contiguous() else " non-contiguous"
        grad = " requires_grad" if value.requires_grad else ""
        dev = "" if value.device.type == "cpu" else f" {value.device}"
        return f"{kind}{list(value.shape)} {dtype}{dev}{extra}{grad}"
    if isinstance(value, (tuple, list)) and len(value) <= 6:
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, torch.nn.Module):
        return f"{type(value).__name__}(...)"
    return safe_str(repr(value) if isinstance(value, str) else value, 80)


def format_call(fn_name: str, args, kwargs) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{fn_name}({', '.join(parts)})"


def last_call() -> str:
    """The description of the last `call(...)`, for failure messages."""
    return _last_call[0]


# ------------------------------------------------------------------------------ running candidates

def candidate(module_name: str):
    """Import the candidate's module (inside a test, never at collection)."""
    try:
        return _import_module(module_name)
    except NotImplementedError as exc:
        raise CheckFailed(f"importing {module_name}.py raised NotImplementedError: {safe_str(exc)}")
    except SyntaxError as exc:
        raise CheckFailed(f"{module_name}.py has a syntax error at line {exc.lineno}: {exc.msg}")
    except Exception as exc:  # noqa: BLE001 - any import-time failure is the candidate's
        raise CheckFailed(f"importing {module_name}.py failed: {_exc_summary(exc)}")


def _exc_summary(exc: BaseException) -> str:
    where = _candidate_location(exc.__traceback__)
    where = f" (at {where})" if where else ""
    return f"{type(exc).__name__}: {safe_str(exc)}{where}"


def _candidate_location(tb) -> str:
    root = _config["candidate_dir"]
    found = ""
    for frame, lineno in traceback.walk_tb(tb) if tb else ():
        name = frame.f_code.co_filename
        if root and name.startswith(root):
            found = f"{os.path.basename(name)}:{lineno}"
    return found


def _caller_in_candidate() -> str:
    root = _config["candidate_dir"]
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if root and name.startswith(root):
            return f"{os.path.basename(name)}:{frame.f_lineno}"
        frame = frame.f_back
    return "candidate code"


class _ForbiddenOpGuard(TorchDispatchMode):
    """Sees every aten op the candidate's call runs, however it was reached
    (getattr tricks, torch.ops, torch._C, exec): the runtime half of the forbidden-API rule."""

    def __init__(self, forbidden):
        super().__init__()
        self.forbidden = frozenset(forbidden)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = "aten." + func._schema.name.split("::", 1)[-1]
        if name in self.forbidden:
            where = _caller_in_candidate()
            detail = f"{name} called at {where}"
            if _config["on_flag"]:
                _config["on_flag"]("forbidden-api", detail)
            raise CheckFailed(f"your code called the forbidden operation {name} ({where}); "
                              "this exercise asks you to implement it yourself")
        return func(*args, **(kwargs or {}))


def call(fn, *args, **kwargs):
    """Call candidate code with the forbidden-op guard; explain any exception it raises."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function")
    _last_call[0] = format_call(safe_str(name, 60), args, kwargs)
    try:
        if _config["forbidden_ops"]:
            with _ForbiddenOpGuard(_config["forbidden_ops"]):
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)
    except CheckFailed:
        raise
    except NotImplementedError as exc:
        raise CheckFailed(f"{_last_call[0]} raised NotImplementedError ({safe_str(exc)}): "
                          "this part is not implemented yet") from None
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(f"{_last_call[0]} raised {_exc_summary(exc)}") from None


# ------------------------------------------------------------------------------------ comparing

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


def note(text: str) -> None:
    """Attach an explanation to the current check; the report shows it whatever the outcome
    (a quiz answer's explanation, the cost ratio of a separable conv)."""
    _notes.append(safe_str(text, 2000))


def take_notes() -> str:
    """Used by the grading child after each check."""
    text = " ".join(_notes)
    _notes.clear()
    return text


def check(condition, message: str) -> None:
    """assert with a candidate-facing message."""
    if not condition:
        raise CheckFailed(message)


def assert_close(actual, expected: torch.Tensor, *, call: str = "", what: str = "the result",
                 rtol: float | None = None, atol: float | None = None, reduction: int = 1,
                 expected_from: str = "PyTorch") -> None:
    """`actual` must be a plain torch.Tensor of expected's shape, dtype and device, and close.

    Exact type is required: a subclass or an object with a lying __eq__ could otherwise pass.
    """
    prefix = f"{call} returned {what}" if call else what.capitalize()
    if type(actual) is not _tensor_type:
        raise CheckFailed(f"{prefix}: {describe(actual)}; expected a plain torch.Tensor "
                          f"like {describe(expected)}")
    if tuple(actual.shape) != tuple(expected.shape):
        raise CheckFailed(f"{prefix} with shape {list(actual.shape)}; "
                          f"expected shape {list(expected.shape)} ({expected_from})")
    if actual.dtype != expected.dtype:
        raise CheckFailed(f"{prefix} with dtype {actual.dtype}; expected {expected.dtype} "
                          "(keep the input's dtype)")
    if actual.device != expected.device:
        raise CheckFailed(f"{prefix} on device {actual.device}; expected {expected.device}")
    d_rtol, d_atol = tolerances(expected.dtype, reduction)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    with _no_grad():
        a, e = actual.detach(), expected.detach()
        if a.numel() == 0:
            return
        ok = _isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        if bool(ok.all()):
            return
        bad = int((~ok).sum())
        diff = _where(_isfinite(a - e), _abs(a.double() - e.double()), _float64_inf(a))
        idx = int(_argmax(diff))
        index = _unravel(idx, tuple(a.shape))
        got, want = a.reshape(-1)[idx].item(), e.reshape(-1)[idx].item()
    raise CheckFailed(
        f"{prefix} that differs from {expected_from} at {bad} of {a.numel()} elements; "
        f"worst at index {list(index)}: got {got:.6g}, expected {want:.6g} "
        f"(max abs error {float(diff.max()):.3g}, tolerance rtol={rtol:.2g}, atol={atol:.2g})")


def _float64_inf(t):
    return torch.full(t.shape, float("inf"), dtype=_float64)


def _unravel(flat: int, shape: tuple) -> tuple:
    out = []
    for size in reversed(shape):
        out.append(flat % size)
        flat //= size
    return tuple(reversed(out))


def assert_unchanged(before: torch.Tensor, after: torch.Tensor, name: str, call: str = "") -> None:
    """An input must come back exactly as it went in (values and metadata)."""
    same = (type(after) is _tensor_type and after.shape == before.shape
            and after.dtype == before.dtype and _equal(after, before))
    if not same:
        raise CheckFailed(f"{call or 'your function'} modified its input '{name}' in place; "
                          "inputs must be left unchanged (work on a copy)")
