"""What the zygote and a fresh grading child import before any candidate code."""

from __future__ import annotations

import importlib
import os

PRELOAD = ("torch", "numpy", "numpy.random", "pytest", "hypothesis", "hypothesis.strategies",
           "grader.harness", "grader.sandbox", "grader.checks.pytest_plugin", "grader.timing.run",
           "grader.catalogue", "grader.isolation.child", "grader.isolation.walls")
PRELOAD_OPTIONAL = (
    "pdb", "faulthandler", "_pytest._argcomplete",   # pytest imports them in every run
    "torch._dynamo",      # TorchDispatchMode (the forbidden-op guard) imports it on first use: 2.5 s
)


def import_preload(device: str = "cpu") -> None:
    """Import what every grading child needs. The zygote does it once before forking; a fresh
    child (TORCHDRILL_ZYGOTE=0, CUDA) does it before lock-down, so both paths run the checks
    with the same modules loaded (a module first imported after lock-down may be refused)."""
    if device == "cpu":
        # Triton decides at import whether its library functions (tl.sum, tl.zeros_like, ...)
        # are built for the interpreter; torch._dynamo below imports triton when installed, so
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
