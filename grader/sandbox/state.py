"""Process-global state (signal handlers, torch's modes, hooks and dispatch keys): saved and restored around candidate code."""

from __future__ import annotations

import _signal
import signal


def signal_handlers() -> dict:
    handlers = {}
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            handlers[signum] = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
    return handlers


def restore_signal_handlers(saved: dict) -> list[str]:
    changed = []
    for signum, handler in saved.items():
        try:
            now = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
        if now is not handler and handler is not None:
            changed.append(f"the handler of {signal.Signals(signum).name}")
            try:
                _ORIGINAL_SIGNAL(signum, handler)
            except (ValueError, OSError, TypeError):
                pass
    return changed


def _set_class_attr(klass, key, value) -> None:
    try:
        type.__setattr__(klass, key, value)
    except (TypeError, AttributeError):
        pass


def _del_class_attr(klass, key) -> None:
    try:
        type.__delattr__(klass, key)
    except (TypeError, AttributeError):
        pass


def _torch_state() -> dict:
    try:
        import torch
        import torch.nn.modules.module as mm
    except ImportError:
        return {}
    state = {
        "default_dtype": torch.get_default_dtype(),
        "grad": torch.is_grad_enabled(),
        "inference": torch.is_inference_mode_enabled(),
        "function_modes": torch._C._len_torch_function_stack(),
        "dispatch_modes": torch._C._len_torch_dispatch_stack(),
        "hooks": {k: dict(v) for k, v in vars(mm).items()
                  if k.startswith("_global_") and isinstance(v, dict)},
    }
    try:
        state["default_device"] = torch.get_default_device()
    except AttributeError:
        pass
    return state


def _restore_torch_state(state: dict) -> list[str]:
    if not state:
        return []
    import torch
    import torch.nn.modules.module as mm
    changed = []
    while torch._C._len_torch_function_stack() > state["function_modes"]:
        changed.append("a TorchFunctionMode left active")
        torch._C._pop_torch_function_stack()
    while torch._C._len_torch_dispatch_stack() > state["dispatch_modes"]:
        changed.append("a TorchDispatchMode left active")
        torch._C._pop_torch_dispatch_stack()
    for name, saved in state["hooks"].items():
        live = getattr(mm, name, None)
        if isinstance(live, dict) and (len(live) != len(saved)
                                       or any(live.get(k) is not v for k, v in saved.items())):
            changed.append(f"torch.nn.modules.module.{name} (a global module hook)")
            live.clear()
            live.update(saved)
    return changed


def global_state() -> dict:
    """torch's global defaults that candidate code may change (restored and reported), and
    thread-local dispatch state it must not leave changed (reported as tampering)."""
    import torch
    state = {"default dtype": torch.get_default_dtype(), "grad mode": torch.is_grad_enabled(),
             "float32 matmul precision": torch.get_float32_matmul_precision(),
             "dispatch keys": (str(torch._C._dispatch_tls_local_include_set()),
                               str(torch._C._dispatch_tls_local_exclude_set()))}
    try:
        state["default device"] = str(torch.get_default_device())
    except AttributeError:
        pass
    try:
        state["saved-tensor hooks"] = torch._C._autograd._top_saved_tensors_default_hooks(False)
    except Exception:  # noqa: BLE001
        pass
    return state


TAMPER_STATE = ("dispatch keys", "saved-tensor hooks")


def restore_global_state(saved: dict) -> list[str]:
    """Put torch's defaults back; returns what had changed ("dispatch keys" and "saved-tensor
    hooks" cannot be put back from Python and count as tampering)."""
    import torch
    now = global_state()
    changed = [k for k in saved if now.get(k) != saved[k]
               and not (k == "saved-tensor hooks" and now.get(k) is saved[k])]
    if "default dtype" in changed:
        torch.set_default_dtype(saved["default dtype"])
    if "grad mode" in changed:
        torch.set_grad_enabled(saved["grad mode"])
    if "default device" in changed:
        torch.set_default_device(saved["default device"])
    if "float32 matmul precision" in changed:
        torch.set_float32_matmul_precision(saved["float32 matmul precision"])
    if "dispatch keys" in changed:
        _restore_dispatch_keys(*saved["dispatch keys"])
    if "saved-tensor hooks" in changed:
        for _ in range(100):
            try:
                if torch._C._autograd._top_saved_tensors_default_hooks(False) is \
                        saved["saved-tensor hooks"]:
                    break
                torch._C._autograd._pop_saved_tensors_default_hooks()
            except Exception:  # noqa: BLE001
                break
    return changed


def _key_names(text: str) -> set[str]:
    inner = text[text.find("(") + 1:text.rfind(")")]
    return {name.strip() for name in inner.split(",") if name.strip()}


def _restore_dispatch_keys(include: str, exclude: str) -> None:
    import torch
    keys = torch._C.DispatchKey
    now_include = _key_names(str(torch._C._dispatch_tls_local_include_set()))
    now_exclude = _key_names(str(torch._C._dispatch_tls_local_exclude_set()))
    for names, target, setter in (
            (now_include, _key_names(include), torch._C._dispatch_tls_set_dispatch_key_included),
            (now_exclude, _key_names(exclude), torch._C._dispatch_tls_set_dispatch_key_excluded)):
        for name in names ^ target:
            key = getattr(keys, name, None)
            if key is not None:
                try:
                    setter(key, name in target)
                except Exception:  # noqa: BLE001
                    pass


_ORIGINAL_SIGNAL = _signal.signal     # captured at import, before lock_down seals it
