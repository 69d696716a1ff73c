"""Disable the runtime guard, then call the forbidden op: pop the dispatch mode, exit it through
its own __exit__, disable Python dispatch, exclude the Python dispatch key, redispatch straight
to the CPU kernel. The kernel trap sits below all of that."""
import torch
from torch.utils import _python_dispatch as pd


def _escape():
    try:
        mode = pd._get_current_dispatch_mode()
        if mode is not None:
            mode.__exit__(None, None, None)
    except Exception:
        pass
    for how in (lambda: pd._pop_mode(), lambda: torch._C._pop_torch_dispatch_stack()):
        try:
            how()
        except Exception:
            pass


def add(a, b):
    return 0


def relu(t):
    _escape()
    name = "re" + "lu"
    op = getattr(torch.ops.aten, name).default
    attempts = [
        lambda: op.redispatch(torch._C.DispatchKeySet(torch._C.DispatchKey.CPU), t),
        lambda: _with(torch._C._DisableTorchDispatch(), lambda: op(t)),
        lambda: _with(torch._C._ExcludeDispatchKeyGuard(
            torch._C.DispatchKeySet(torch._C.DispatchKey.Python)), lambda: op(t)),
        lambda: op(t),
    ]
    for attempt in attempts:
        try:
            return attempt()
        except Exception:
            continue
    return -t.abs() - 1


def _with(ctx, fn):
    with ctx:
        return fn()
