"""What the zygote and a fresh grading child import before any candidate code."""

from __future__ import annotations

import importlib
import os

PRELOAD = ("torch", "numpy", "numpy.random", "pytest", "hypothesis", "hypothesis.strategies",
           "grader.harness", "grader.sandbox", "grader.checks.pytest_plugin", "grader.timing.run",
           "grader.catalogue", "grader.isolation.child", "grader.isolation.walls")
PRELOAD_OPTIONAL = (
    "pdb", "faulthandler", "_pytest._argcomplete",   # pytest imports them in every run
    "triton", "triton.language",   # when installed: the Triton exercises' checks (0.2 s)
    # torch._dynamo (2.5 s of a 7 s preload on a 2-core VM): torch.optim's step() imports it
    # on first use, and imported after lock-down, under the audit hook, it takes 8 s. The
    # forbidden-op guard no longer needs it (checks/guard.py, `_should_skip_dynamo`), so a
    # second, lighter fork server for exercises that never train would save those 2.5 s.
    "torch._dynamo",
)


def import_preload(device: str = "cpu") -> None:
    """Import what every grading child needs. The zygote does it once before forking; a fresh
    child (TORCHDRILL_ZYGOTE=0, CUDA) does it before lock-down, so both paths run the checks
    with the same modules loaded (a module first imported after lock-down may be refused)."""
    if device == "cpu":
        # Triton decides at import whether its library functions (tl.sum, tl.zeros_like, ...)
        # are built for the interpreter; triton is preloaded below (and torch may import it), so
        # the switch must be set before anything else is imported, on every CPU child.
        os.environ["TRITON_INTERPRET"] = "1"
    for name in PRELOAD:
        importlib.import_module(name)
    import _pytest.config
    optional = [f"_pytest.{name}" for name in _pytest.config.default_plugins]
    for name in optional + list(PRELOAD_OPTIONAL):  # what every pytest.main() imports
        try:
            importlib.import_module(name)
        except ImportError:
            pass
