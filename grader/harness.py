"""The API hidden checks import (`from grader import harness as h`): candidates, data, comparisons.

Imported by the grading child *before* any candidate code runs, so the functions it relies on
are captured while they are still PyTorch's own: a candidate who later patches
`torch.allclose` or `Tensor.__eq__` changes nothing here. Every failure raises `CheckFailed`
written for the candidate: what was called, what came back, what was expected. Whenever
control comes back from candidate code (`candidate`, `call`) and before every judgement
(`assert_close`, `check`, `assert_unchanged`) the sandbox verifies that nothing the checks rely
on was replaced. How to write checks with it: docs/authoring.md; what it defends: docs/security.md.
"""

from __future__ import annotations

import _thread
import importlib
import os
import sys
import traceback
import weakref

import torch
from torch.utils._python_dispatch import _get_current_dispatch_mode

from grader.checks import compare as _compare
from grader.checks import guard as _guard
from grader.checks.compare import rms_atol, tolerances  # noqa: F401 - part of the API
from grader.checks.describe import _type_name, describe, format_call, memory_message, safe_str  # noqa: F401
from grader.kinds import Flag
from grader.sandbox import opaque as _opaque
from grader.sandbox import state as _state

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
_thread_count = _thread._count
_getweakrefs = weakref.getweakrefs

_config = {
    "forbidden_ops": (),
    "candidate_dir": None,     # files under it are "candidate code" in flags
    "on_flag": None,           # callable(kind, detail), set by the grading child
    "seed": int.from_bytes(os.urandom(4), "little"),
    "hidden_data": {},         # name -> bytes of solutions/<slug>/data/*, read before candidate code
    "device": "cpu",           # the grading device ("cpu" or "cuda")
    "memory_limit_mb": 0,      # the child's address-space limit, for messages
    "sandbox": None,           # grader.sandbox.Sandbox once the child is locked down
}
_last_call = [""]
_notes: list[str] = []


class CheckFailed(AssertionError):
    """A hidden check failed; the text is shown to the candidate."""


class Tampered(CheckFailed):
    """Candidate code changed what the grader relies on (the exercise is flagged and zeroed)."""


def configure(**options) -> None:
    """Called by the grading child (never by checks) before candidate code is imported."""
    unknown = set(options) - set(_config)
    if unknown:
        raise TypeError(f"unknown harness options {sorted(unknown)}")
    _config.update(options)
    ops = []
    for op in _config["forbidden_ops"]:
        ops.extend(_guard.OP_GROUPS.get(op, (op,)))
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
    box = _config["sandbox"]
    if box is not None and box.candidate_running():
        raise PermissionError("torchdrill: the checks' seed is not available to candidate code")
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


def last_call() -> str:
    """The description of the last `call(...)`, for failure messages."""
    return _last_call[0]


# ------------------------------------------------------------------------------ running candidates

def candidate(module_name: str):
    """Import the candidate's module (inside a test, never at collection)."""
    loaded = sys.modules.get(module_name)
    if loaded is not None:
        return loaded
    before = _before_candidate()
    guarded = _guarded()
    failure = None
    try:
        with guarded:
            return _import_module(module_name)
    except CheckFailed as exc:
        failure = safe_str(exc, 4000)
    except NotImplementedError as exc:
        failure = f"importing {module_name}.py raised NotImplementedError: {safe_str(exc)}"
    except SyntaxError as exc:
        failure = f"{module_name}.py has a syntax error at line {exc.lineno}: {exc.msg}"
    except BaseException as exc:  # noqa: BLE001 - any import-time failure is the candidate's
        failure = f"importing {module_name}.py failed: {_exc_summary(exc)}"
    finally:
        _after_candidate(before, f"importing {module_name}.py", guarded=guarded)
    # raised here, outside the handlers: the candidate's exception is not chained to it (its
    # __str__ may raise BaseException, which would break traceback formatting downstream)
    raise CheckFailed(failure)


def _grader_exception(exc: BaseException) -> bool:
    """An exception class of the grader's own (e.g. grader.timing's deadline), which must pass
    through the harness untouched."""
    module = getattr(type(exc), "__module__", "")
    return isinstance(module, str) and module.startswith("grader.") and not isinstance(exc, CheckFailed)


def _exc_summary(exc: BaseException) -> str:
    where = _candidate_location(getattr(exc, "__traceback__", None))
    where = f" (at {where})" if where else ""
    memory = memory_message(exc, _config["memory_limit_mb"])
    if memory:
        return f"{memory}{where}"
    return f"{safe_str(_type_name(exc), 80)}: {safe_str(exc)}{where}"


def _candidate_location(tb) -> str:
    root = _config["candidate_dir"]
    found = ""
    for frame, lineno in traceback.walk_tb(tb) if tb else ():
        name = frame.f_code.co_filename
        if root and name.startswith(root):
            found = f"{os.path.basename(name)}:{lineno}"
    return found


def _forbidden_message(name: str, where: str) -> str:
    """Called by the guard and the kernel trap: flag the exercise; the text of the failure."""
    detail = f"{name} called at {where}"
    if _config["on_flag"]:
        _config["on_flag"](Flag.FORBIDDEN_API, detail)
    return (f"your code called the forbidden operation {name} ({where}); "
            "this exercise asks you to implement it yourself")


# What the guard objects hold must lead nowhere (a candidate can grab the dispatch mode from
# torch's mode stack while its call runs): an opaque stand-in, not a function of this module.
_report_forbidden = _opaque(_forbidden_message)


class _guarded:
    """Forbidden-op guard (dispatch mode) and kernel trap around candidate code; `broken`
    tells whether the candidate's code took either away."""

    def __init__(self):
        self.trap = self.mode = None
        self.broken = ""

    def __enter__(self):
        ops = _config["forbidden_ops"]
        if ops:
            self.trap = forbidden_trap()
            self.mode = _guard.ForbiddenOpGuard(ops, _config["candidate_dir"], _report_forbidden,
                                                CheckFailed)
            self.trap.__enter__()
            self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        if self.mode is not None:
            if _current_dispatch_mode() is self.mode:
                self.mode.__exit__(None, None, None)
            else:                       # popped or buried: the sandbox pops what is left
                self.broken = "the forbidden-op guard (dispatch mode) was removed"
        if self.trap is not None:
            if not self.trap.intact():
                self.broken = "the forbidden-op kernel trap was removed"
            self.trap.__exit__(None, None, None)
        return False


def forbidden_trap():
    """Context manager: the kernel-trap half of the runtime guard alone (no dispatch mode, so
    candidate code cannot tell it is there, and ops that are not forbidden run at full speed).
    For timed calls: `with h.forbidden_trap(): fn(*args)`; a forbidden op inside raises
    CheckFailed and flags the exercise. A no-op when the exercise forbids nothing."""
    return _guard.KernelTrap(_config["forbidden_ops"], _config["candidate_dir"],
                             _report_forbidden, _config["device"], CheckFailed)


def _current_dispatch_mode():
    try:
        return _get_current_dispatch_mode()
    except BaseException:  # noqa: BLE001
        return None


def _before_candidate(values=()) -> tuple:
    return (_thread_count(), _state.global_state(), _state.signal_handlers(),
            [v for v in values if type(v) is _tensor_type])


def _after_candidate(before: tuple, what: str, result=None, guarded=None) -> None:
    """What the candidate's code left behind: tampering fails the check and zeroes the
    exercise; changed global defaults are restored and reported."""
    threads, state, handlers, tensors = before
    problems = [guarded.broken] if guarded is not None and guarded.broken else []
    changed = _state.restore_global_state(state)     # first: it rebinds e.g. torch.Storage
    problems += [f"torch's {name} left changed" for name in changed
                 if name in _state.TAMPER_STATE]
    changed = [name for name in changed if name not in _state.TAMPER_STATE]
    box = _config["sandbox"]
    if box is not None:
        problems += box.verify(full=False)
    problems += _state.restore_signal_handlers(handlers)
    if _thread_count() > threads:
        problems.append(f"{_thread_count() - threads} Python thread(s) left running")
    watched = tensors + ([result] if type(result) is _tensor_type else [])
    if any(_has_callback(t) for t in watched):
        problems.append("a weakref callback or finalizer on the tensors it was given or returned")
    if changed and _config["on_flag"]:
        _config["on_flag"]("global-state", f"{what} changed torch's {', '.join(changed)}; "
                           "the grader restored it")
    if problems:
        _tampered(what, problems)


def _has_callback(tensor) -> bool:
    try:
        return any(getattr(ref, "__callback__", None) is not None for ref in _getweakrefs(tensor))
    except BaseException:  # noqa: BLE001
        return True


def _tampered(what: str, problems: list[str]) -> None:
    shown = ", ".join(problems[:6]) + (f" and {len(problems) - 6} more" if len(problems) > 6 else "")
    if _config["on_flag"]:
        _config["on_flag"]("tampering", f"{what}: {shown}"[:500])
    raise Tampered(f"{what} changed what the grader relies on ({shown}); the grader undid "
                   "it, and tampering scores the exercise zero")


def _integrity(what: str) -> None:
    """Before a judgement: nothing may have been replaced since the candidate last ran."""
    box = _config["sandbox"]
    if box is not None:
        problems = box.verify(full=False)
        if problems:
            _tampered(what, problems)


def call(fn, *args, **kwargs):
    """Call candidate code with the forbidden-op guard; explain any exception it raises."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", "function")
    _last_call[0] = format_call(safe_str(name, 60), args, kwargs)
    before = _before_candidate(tuple(args) + tuple(kwargs.values()))
    result, guarded, failure = None, _guarded(), None
    try:
        with guarded:
            result = fn(*args, **kwargs)
        return result
    except CheckFailed as exc:
        failure = safe_str(exc, 4000)
    except NotImplementedError as exc:
        failure = (f"{_last_call[0]} raised NotImplementedError ({safe_str(exc)}): "
                   "this part is not implemented yet")
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, anything
        if _grader_exception(exc):
            raise                       # the grader's own control flow (timing's deadline)
        failure = f"{_last_call[0]} raised {_exc_summary(exc)}"
    finally:
        _after_candidate(before, _last_call[0], result, guarded)
    raise CheckFailed(failure)      # outside the handlers: nothing of the candidate's chained


# ------------------------------------------------------------------------------------ comparing

def labelled(call: str, case: str = "") -> str:
    """A call as a failure message names it, led by the case of the check that made it."""
    return f"[case: {case}] {call}" if case else call


def in_layout(t: torch.Tensor, layout: str) -> torch.Tensor:
    """The same values in another memory layout: "channels_last", "transposed" (H and W strides
    swapped over a fresh storage), anything else contiguous. t: (N, C, H, W)."""
    if layout == "channels_last":
        return t.contiguous(memory_format=torch.channels_last)
    if layout == "transposed":
        return t.transpose(2, 3).contiguous().transpose(2, 3)
    return t.contiguous()


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
    """assert with a candidate-facing message. Integrity is verified when the check passes
    (tampering can only be worth something then), after the truth test, so whatever that
    test ran is covered too."""
    if not condition:
        raise CheckFailed(message)
    _integrity("your code")


def assert_close(actual, expected: torch.Tensor, *, call: str = "", what: str = "the result",
                 rtol: float | None = None, atol: float | None = None, reduction: int = 1,
                 expected_from: str = "PyTorch") -> None:
    """`actual` must be a plain torch.Tensor of expected's shape, dtype and device, and close
    (tolerances: checks/compare.py). Exact type is required: a subclass or an object with a
    lying __eq__ could otherwise pass."""
    prefix = f"{call} returned {what}" if call else what[:1].upper() + what[1:]
    problem = _compare.mismatch(actual, expected, prefix=prefix, rtol=rtol, atol=atol,
                                reduction=reduction, expected_from=expected_from)
    if problem:
        raise CheckFailed(problem)
    _integrity(call or "your code")        # a match is only worth something untampered


def assert_unchanged(before: torch.Tensor, after: torch.Tensor, name: str, call: str = "") -> None:
    """An input must come back exactly as it went in (values and metadata)."""
    same = (type(after) is _tensor_type and after.shape == before.shape
            and after.dtype == before.dtype and _equal(after, before))
    if not same:
        raise CheckFailed(f"{call or 'your function'} modified its input '{name}' in place; "
                          "inputs must be left unchanged (work on a copy)")
    _integrity(call or "your code")
