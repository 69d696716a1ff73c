"""In-process defences of the grading child (the inner wall): `lock_down(config)` before any
candidate code runs. What each part blocks: docs/security.md."""

from __future__ import annotations

import sys
import types
import os

from grader.sandbox.audit import Sandbox, current, _SANDBOX
from grader.sandbox.limits import apply_limits, drop_privileges
from grader.sandbox.policy import HIDDEN_MODULES
from grader.sandbox.sealing import opaque, seal
from grader.sandbox.inventory import HIDDEN
from grader.sandbox.snapshot import Snapshot

__all__ = ["Sandbox", "apply_limits", "current", "drop_privileges", "hidden_module", "lock_down",
           "opaque", "seal"]


# ------------------------------------------------------------------------------------ lock-down

def lock_down(config: dict) -> Sandbox:
    """Make the process safe for candidate code (see the module docstring). Idempotent."""
    if _SANDBOX:
        return _SANDBOX[0]
    import gc
    import weakref
    if config.get("walls"):           # the OS wall: the hidden checks and data leave the view
        from grader.isolation import walls
        walls.drop_hidden(walls.spec_from_dict(config["walls"]))
    box = Sandbox(config)
    box._finalize_call = weakref.finalize.__call__.__code__
    _hide_modules(config)
    _seal_primitives(box)
    _guard_forbidden_names(box, config.get("forbidden", ()))
    try:
        import logging
        logging._srcfile = None      # logging then never walks frames for the caller's line
    except Exception:  # noqa: BLE001
        pass
    box.snapshot = Snapshot.take()
    _SANDBOX.append(box)
    gc.collect()
    gc.freeze()                       # old objects out of later collections: cheap gc.collect()
    sys.addaudithook(box.hook)
    box.note = drop_privileges(config)
    return box


def _private_harness(harness):
    """A copy of the harness module for the hidden checks' own globals: should candidate code
    ever reach the real module object and replace `assert_close` on it, the checks still call
    the original (the functions' internals are covered by the integrity checks)."""
    copy = types.ModuleType(harness.__name__, harness.__doc__)
    copy.__dict__.update({k: v for k, v in vars(harness).items() if k not in ("__dict__",)})
    return copy


def _hide_modules(config: dict) -> None:
    """Candidate code must not find the checks, the grader or pytest's config by name."""
    harness = sys.modules.get("grader.harness")
    checks = sys.modules.get("test_hidden")
    if harness is not None and checks is not None:
        private = _private_harness(harness)
        for key, value in list(vars(checks).items()):
            if value is harness:
                setattr(checks, key, private)
    for name in list(sys.modules):
        if name.split(".")[0] in HIDDEN_MODULES:
            HIDDEN[name] = sys.modules.pop(name)
    checks = os.path.realpath(config["checks_dir"])
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != checks]
    try:
        import _pytest.assertion.util as util
        util._config = None
        util._reprcompare = None
        util._assertion_pass = None
    except Exception:  # noqa: BLE001
        pass




def hidden_module(name: str):
    """A module lock_down took out of sys.modules (for the grader's own use)."""
    return HIDDEN.get(name) or sys.modules.get(name)


def _guard_forbidden_names(box: Sandbox, names) -> None:
    """The exercise's forbidden Python functions (`forbidden` in exercise.toml), refused at run
    time when candidate code calls them, with a forbidden-api flag: the evidence that zeroes
    (the static pass only reports a mention). Classes are left alone (the checks use
    isinstance on them; the forbidden-op guard sees the aten ops they run). The hidden checks'
    own calls (no candidate frame on the stack) go through untouched."""
    import importlib
    for dotted in names:
        module_name, _, attr = dotted.rpartition(".")
        try:
            owner = sys.modules.get(module_name) or importlib.import_module(module_name)
        except Exception:  # noqa: BLE001 - not a module path (a class attribute): static only
            continue
        original = getattr(owner, attr, None)
        if original is None or isinstance(original, type) or not callable(original):
            continue

        def gate(args, kwargs, dotted=dotted):
            if not box.candidate_running():
                return None
            where = box._candidate_line(box._getframe(1))
            if len(box.forbidden_calls) < 50:
                box.forbidden_calls.append(f"{dotted} called" + (f" at {where}" if where else ""))
            return f"{dotted} is forbidden in this exercise: implement it yourself"
        setattr(owner, attr, seal(original, gate))


def _seal_primitives(box: Sandbox) -> None:
    """Primitives with no audit event that hand candidate code frames or processes."""
    def refuse_candidate(what):
        def gate(args, kwargs):
            if not box.candidate_running():
                return None
            where = box._candidate_line(box._getframe(1))
            if len(box.denials) < 50:
                box.denials.append(f"{what} is not allowed" + (f" ({where})" if where else ""))
            return f"{what} is not allowed while grading"
        return gate

    import _signal
    _signal.signal = seal(_signal.signal, refuse_candidate("installing signal handlers"))
    try:
        import _posixsubprocess
        original = _posixsubprocess.fork_exec

        def fork_gate(args, kwargs):
            exe = args[1] if len(args) > 1 else None    # executable_list
            if box.allow_compilers and exe and box._compiler((exe[0],)):
                return None
            return "starting processes is not allowed" if box.candidate_running() else None
        _posixsubprocess.fork_exec = seal(original, fork_gate)
    except (ImportError, AttributeError):
        pass
    import posix
    if hasattr(posix, "register_at_fork"):
        sealed = seal(posix.register_at_fork, refuse_candidate("os.register_at_fork"))
        posix.register_at_fork = os.register_at_fork = sealed
    def library_gate(args, kwargs):
        # torch's own modules register kernels when imported lazily; candidate code (directly
        # or through torch.library, a proxy) must not: a kernel for an aten op would change
        # what the checks' own torch calls compute
        frame = box._getframe(3)          # gate <- vault <- stand-in <- the caller
        if box._get_ident() == box.main_ident and not box.culprit_untrusted(frame):
            return None
        return refuse_candidate("registering operator kernels (torch.library)")(args, kwargs)
    try:
        import torch
        torch._C._dispatch_library = seal(torch._C._dispatch_library, library_gate)
    except Exception:  # noqa: BLE001
        pass

    def refuse_native(what):
        def gate(args, kwargs):
            if not box.candidate_running():
                return None
            where = box._candidate_line(box._getframe(1))
            if len(box.native) < 50:
                box.native.append(f"{what} is not allowed" + (f" ({where})" if where else ""))
            return f"{what} is not available while grading"
        return gate
    # Library-loading entry points of torch, which load through ctypes on the candidate's behalf
    # (a trusted library's ctypes use is allowed): a shared library the candidate wrote or
    # brought would run its constructors here. Refused, and the attempt zeroes the exercise.
    try:
        import torch
        torch.ops.load_library = seal(torch.ops.load_library, refuse_native("torch.ops.load_library"))
        torch.classes.load_library = seal(torch.classes.load_library,
                                          refuse_native("torch.classes.load_library"))
    except Exception:  # noqa: BLE001 - an older torch without these
        pass
    # cpp_extension compiles (a process: refused) and loads through torch.ops.load_library
    # (sealed above); its own entry points are sealed too when something already imported it.
    cpp_extension = sys.modules.get("torch.utils.cpp_extension")
    for name in ("load", "load_inline"):
        if cpp_extension is not None and hasattr(cpp_extension, name):
            setattr(cpp_extension, name, seal(getattr(cpp_extension, name),
                                              refuse_native(f"torch.utils.cpp_extension.{name}")))

    def frame_hook_gate(args, kwargs):
        # Dynamo's own "disable" contexts pass None or False; a callable receives every frame
        hook = args[0] if args else next(iter(kwargs.values()), None)
        if callable(hook) and box.candidate_running():
            return refuse_candidate("installing a Dynamo frame hook (torch.compile)")(args, kwargs)
        return None
    try:
        import torch
        eval_frame = torch._C._dynamo.eval_frame
        sealed = {}
        for name in ("set_eval_frame", "set_guard_error_hook", "set_guard_complete_hook"):
            if hasattr(eval_frame, name):
                original = getattr(eval_frame, name)
                sealed[id(original)] = seal(original, frame_hook_gate)
                setattr(eval_frame, name, sealed[id(original)])
        # torch._dynamo's Python modules did `from torch._C._dynamo.eval_frame import ...`:
        # their own references to the originals must be replaced as well
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.startswith("torch") or module is None:
                continue
            for attr, value in list(getattr(module, "__dict__", {}).items()):
                if id(value) in sealed and attr.startswith("set_"):
                    setattr(module, attr, sealed[id(value)])
    except Exception:  # noqa: BLE001 - no Dynamo in this build
        pass
