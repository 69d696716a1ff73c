"""The runtime half of the forbidden-API rule, active while candidate code runs (harness.call).

Two layers, both entered by `harness._guarded` around every candidate call (the trap alone,
`harness.forbidden_trap()`, around timed calls):

- `ForbiddenOpGuard`, a TorchDispatchMode: sees every aten op the candidate's call runs,
  however it was reached (getattr tricks, torch.ops, torch._C, exec), and names the op and the
  candidate's line in the message.
- `KernelTrap`: for the same ops, a kernel registered with torch.library on the CPU (and CUDA)
  dispatch keys for the duration of the call. A candidate who pops the dispatch mode, disables
  Python dispatch (`torch._C._DisableTorchDispatch`, excluded dispatch keys), redispatches
  straight to the CPU key or runs the op on a thread of its own still lands in the trap: it sits
  where the real kernel sat. Registering and removing it costs about 0.1 ms.

This module's globals hold nothing worth reaching: a candidate can get the mode object from
torch's mode stack while its call runs, and from there this module's globals.
"""

from __future__ import annotations

import os
import sys
import warnings

import torch
from torch.utils._python_dispatch import TorchDispatchMode


# Groups usable in exercise.toml's forbidden_ops: every aten op that performs a convolution.
OP_GROUPS = {
    "group:convolution": (
        "aten.convolution", "aten._convolution", "aten.conv2d", "aten.conv1d", "aten.conv3d",
        "aten.conv_transpose2d", "aten.mkldnn_convolution", "aten._slow_conv2d_forward",
        "aten.thnn_conv2d", "aten.cudnn_convolution", "aten.cudnn_convolution_transpose",
        "aten.miopen_convolution", "aten._nnpack_spatial_convolution",
        "aten.slow_conv_dilated2d", "aten._conv_depthwise2d", "aten.convolution_overrideable",
        "aten.slow_conv_transpose2d", "aten.mkldnn_convolution_transpose",
        "aten._convolution_mode", "aten.conv_tbc", "aten.slow_conv3d_forward",
        "aten.slow_conv3d", "aten.conv_depthwise3d", "aten.slow_conv_dilated3d",
        "aten.slow_conv_transpose3d", "aten.conv_transpose1d", "aten.conv_transpose3d",
        "aten._mps_convolution", "aten.mps_convolution_transpose",
        "mkldnn._convolution_pointwise", "mkldnn._convolution_pointwise_",
        "mkldnn._convolution_transpose_pointwise", "quantized.conv2d", "quantized.conv2d_relu",
        "quantized.conv1d", "quantized.conv3d", "onednn.qconv2d_pointwise",
    ),
    "group:convolution_backward": (
        "aten.convolution_backward", "aten._slow_conv2d_backward",
        "aten.convolution_backward_overrideable", "aten.mkldnn_convolution_backward",
    ),
}


class ForbiddenOpGuard(TorchDispatchMode):
    def __init__(self, forbidden, candidate_dir, report, error):
        super().__init__()
        self.forbidden = frozenset(forbidden)
        self.candidate_dir = candidate_dir
        self.report = report          # report(name, where) -> None; flags and raises
        self.error = error

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # torch wraps a mode's __torch_dispatch__ in torch._dynamo.disable unless this says
        # False, and that wrapper imports torch._dynamo on first use (2.5 s per child). The
        # guard runs eager code only; torch.compile is refused by the sandbox anyway.
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        ns, _, op = func._schema.name.partition("::")
        name = f"{ns}.{op}"
        if name in self.forbidden:
            raise self.error(self.report(name, caller_in(self.candidate_dir, sys._getframe(1))))
        return func(*args, **(kwargs or {}))


def caller_in(candidate_dir, frame) -> str:
    """file:line of the innermost candidate frame, else "candidate code"."""
    while frame is not None:
        name = frame.f_code.co_filename
        if candidate_dir and name.startswith(candidate_dir):
            return f"{os.path.basename(name)}:{frame.f_lineno}"
        frame = frame.f_back
    return "candidate code"


def _kernel_names(forbidden) -> list[tuple[str, str, str]]:
    """(namespace, "op" or "op.overload", display name) for every overload of the forbidden
    ops that exist in this build."""
    out = []
    for name in forbidden:
        ns, _, op = name.partition(".")
        if not (ns and op):
            continue
        try:
            packet = getattr(getattr(torch.ops, ns), op)
            overloads = packet.overloads()
        except (AttributeError, RuntimeError):
            continue
        for overload in overloads:
            qualified = op if overload == "default" else f"{op}.{overload}"
            out.append((ns, qualified, name))
    return out


class KernelTrap:
    """Replaces the backend kernels of the forbidden ops for the duration of a `with` block."""

    def __init__(self, forbidden, candidate_dir, report, device: str, error=RuntimeError):
        self.pairs = _kernel_names(forbidden)
        self.candidate_dir = candidate_dir
        self.report = report          # report(name, where) -> message; flags the exercise
        self.error = error
        self.keys = ("CPU", "CUDA") if device == "cuda" else ("CPU",)
        self.libs = []

    def __enter__(self):
        if not self.pairs:
            return self
        report, where, error = self.report, self.candidate_dir, self.error
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            libs = {}
            for ns, op, display in self.pairs:
                for key in self.keys:
                    try:
                        if ns not in libs:
                            libs[ns] = _private_library(ns)
                        libs[ns].impl(op, _trap(display, where, report, error), key)
                    except Exception:  # noqa: BLE001 - no kernel for this key in this build
                        continue
            self.libs = list(libs.values())
        return self

    def intact(self) -> bool:
        """False when candidate code removed the trap's registrations during its call."""
        impls = torch.library._impls
        return all(lib.m is not None and lib._op_impls <= impls for lib in self.libs)

    def __exit__(self, *exc):
        for lib in self.libs:
            try:
                lib._destroy()
            except Exception:  # noqa: BLE001
                pass
        self.libs.clear()
        return False


def _private_library(ns: str):
    """A torch.library.Library whose finalizer is detached: weakref.finalize's registry is
    reachable from candidate code, and calling the finalizer would remove the trap."""
    import weakref
    lib = torch.library.Library(ns, "IMPL")
    registry = weakref.finalize._registry
    for fin in reversed(list(registry)):
        info = registry.get(fin)
        if info is not None and any(a is lib._op_impls for a in info.args):
            fin.detach()
            break
    return lib


def _trap(name, candidate_dir, report, error):
    def kernel(*args, **kwargs):
        where = caller_in(candidate_dir, sys._getframe(1))
        raise error(report(name, f"{where}, reached below the dispatch mode"))
    return kernel
