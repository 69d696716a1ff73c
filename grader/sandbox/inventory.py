"""What the integrity snapshot watches, read per dict and remembered by version tag.

The snapshot (sandbox/snapshot.py) compares, by identity, every function, class, module and
descriptor binding in the dicts of the protected modules and of the classes they define: about
70 000 bindings in 5 400 dicts. Reading them all takes half a second, once per grading child.
Most never change between the fork server's preload and a child's lock-down, so each dict's
reading is remembered with the dict's version tag (sandbox/versions.py): the fork server reads
everything once (`remember_all`), and a forked child re-reads only the dicts whose tag moved
since (the harness's configuration, the sealed builtins, the hidden checks' module, ...).
Where tags cannot be read nothing is remembered and every dict is read each time.
"""

from __future__ import annotations

import sys
import types
import warnings
from dataclasses import dataclass

from grader.sandbox import versions

HIDDEN: dict = {}   # the modules lock_down took out of sys.modules: still protected

_PROTECTED_PACKAGES = ("builtins", "torch", "numpy", "_pytest", "pytest", "pluggy", "hypothesis",
                       "_frozen_importlib", "_frozen_importlib_external",
                       "grader", "test_hidden", "math", "operator", "functools", "itertools",
                       "json", "os", "posixpath", "time", "types", "weakref", "threading",
                       "signal", "gc", "contextlib", "copy", "random", "importlib", "inspect",
                       "traceback", "abc", "collections", "dataclasses", "io", "_thread", "sys",
                       "_signal", "_posixsubprocess", "posix", "subprocess", "statistics",
                       "triton", "marshal", "pickle", "copyreg", "ctypes", "_ctypes")
# Legitimately replaced by trusted code imported later (torch._dynamo wraps manual_seed).
_ALLOWED_CHANGES = frozenset({("torch", "manual_seed"), ("torch.random", "manual_seed"),
                              ("torch.cuda", "manual_seed"), ("torch.cuda", "manual_seed_all"),
                              ("torch.cuda.random", "manual_seed"),
                              ("torch.cuda.random", "manual_seed_all")})

# Checked after every candidate call (the rest at check boundaries): what hidden checks and
# the harness call directly to compute expected values and compare. Exact module names, and
# packages whose every module counts.
_HOT_MODULES = frozenset({
    "builtins", "operator", "math", "functools", "sys", "gc", "weakref", "threading", "_thread",
    "os", "signal", "_signal", "torch", "torch._tensor", "torch.functional", "torch._C",
    "torch._C._nn", "torch._C._linalg", "torch._C._fft", "torch._C._special", "torch.overrides",
    "torch.nn", "torch.nn.functional", "torch.nn.parameter", "torch.nn.init", "torch.nn.grad",
    "torch.linalg", "torch.fft", "torch.special", "torch.random", "torch.cuda",
    "torch.utils._python_dispatch", "torch._ops", "numpy", "numpy.linalg", "pytest",
    "hypothesis", "hypothesis.core", "hypothesis.control"})
_HOT_PACKAGES = ("torch.nn.modules", "torch.autograd", "torch.testing", "torch.amp",
                 "torch.optim", "torch.utils.benchmark", "numpy.testing", "_pytest", "pluggy",
                 "grader", "test_hidden", "time", "_frozen_importlib")
_IMMUTABLE_TYPE = 1 << 8          # Py_TPFLAGS_IMMUTABLETYPE: C types refuse attribute changes


def protected_module(name: str) -> bool:
    return name.split(".")[0] in _PROTECTED_PACKAGES


def hot(name: str) -> bool:
    return name in _HOT_MODULES or any(name == p or name.startswith(p + ".") or
                                       name.startswith(p + "_") for p in _HOT_PACKAGES)


def watched_value(value) -> bool:
    """Functions, classes, modules and descriptors (a classmethod or a property is not callable,
    yet added to a class it answers for its instances): what a check calls. Data (caches,
    counters, flags that libraries update as they run) is left alone."""
    return callable(value) or isinstance(value, types.ModuleType) or hasattr(type(value), "__get__")


# ----------------------------------------------------------------------------- one dict's reading

@dataclass(frozen=True)
class Reading:
    """The watched bindings of one dict (a module's, or a class's behind its proxy)."""

    container: object        # the module dict, or the class's mappingproxy
    keys: tuple
    values: tuple
    owner: tuple             # (label, dict) for a module, (label, class) for a class
    group: str               # "hot" or "cold"
    view: object             # its version-tag view, or None
    tag: int                 # the tag read before the bindings were
    classes: tuple = ()      # a module: the classes it binds, in order
    klass: type | None = None
    size: int = 0            # a class: len of its dict (additions are found by size)


_READ: dict = {}   # (id(module dict), name) or id(class) -> Reading; only with version tags


def _fresh(reading: Reading | None, obj) -> bool:
    return reading is not None and reading.view is not None and reading.view.value == reading.tag \
        and (reading.klass is obj or reading.container is obj)


def read_module(name: str, d: dict) -> Reading:
    reading = _READ.get((id(d), name))
    if _fresh(reading, d):
        return reading
    view = versions.watch(d)
    tag = view.value if view else 0             # before reading: a later write moves it
    items = [(k, v) for k, v in list(d.items())
             if watched_value(v) and (name, k) not in _ALLOWED_CHANGES]
    reading = Reading(d, tuple(k for k, _ in items), tuple(v for _, v in items), (name, d),
                      "hot" if hot(name) else "cold", view, tag,
                      classes=tuple(v for v in list(d.values()) if isinstance(v, type)))
    if view:
        _READ[(id(d), name)] = reading
    return reading


def read_class(klass: type) -> Reading | None:
    """None for a class whose bindings are not watched (a C type, or not of a protected package)."""
    reading = _READ.get(id(klass))
    if _fresh(reading, klass):
        return reading
    owner = getattr(klass, "__module__", "") or ""
    if klass.__flags__ & _IMMUTABLE_TYPE or not protected_module(owner):
        return None
    proxy = klass.__dict__                      # one proxy kept: it always shows the live dict
    view = versions.watch(proxy)
    tag = view.value if view else 0
    items = [(k, v) for k, v in list(proxy.items()) if watched_value(v)]
    reading = Reading(proxy, tuple(k for k, _ in items), tuple(v for _, v in items),
                      (f"{klass.__module__}.{klass.__qualname__}", klass),
                      "hot" if hot(owner) else "cold", view, tag,
                      klass=klass, size=len(proxy))
    if view:
        _READ[id(klass)] = reading
    return reading


# --------------------------------------------------------------------------- every dict, in order

def protected_modules() -> list:
    modules = [(n, m) for n, m in sorted(sys.modules.items())
               if m is not None and protected_module(n)]
    return modules + [(m.__name__, m) for m in HIDDEN.values()]


def read_all() -> list[Reading]:
    """Every watched dict once, modules in name order, each class after the module that first
    binds it."""
    readings, seen = [], set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, mod in protected_modules():
            d = getattr(mod, "__dict__", None)
            if not isinstance(d, dict) or id(d) in seen:
                continue
            seen.add(id(d))
            reading = read_module(name, d)
            readings.append(reading)
            for klass in reading.classes:
                if id(klass) not in seen:
                    seen.add(id(klass))
                    class_reading = read_class(klass)
                    if class_reading is not None:
                        readings.append(class_reading)
    return readings


def remember_all() -> int:
    """For the fork server, after its preload: read every dict now, so that its children
    re-read only what changes after the fork. Returns how many dicts are remembered."""
    read_all()
    return len(_READ)
