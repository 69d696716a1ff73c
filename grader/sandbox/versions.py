"""Dict version tags: an exact, cheap "has this dict changed since?" for the integrity check.

CPython 3.11-3.13 keep in every dict a 64-bit `ma_version_tag` (PEP 509) that takes a new,
larger value from one interpreter-wide counter whenever anything in the dict is added, replaced
or removed, through any route (item assignment, setattr on a module or a class, `update`,
`clear`, C code calling PyDict_SetItem). A dict whose tag is what it was when we last compared
its bindings holds exactly those bindings still: the comparison can be skipped. Reading one tag
is one memory load (~0.1 us), where comparing a module's bindings one by one is ~0.4 us each.

Nothing here is a public API, so it is proven before use: `available()` checks the build and
then that the tag at the expected offset behaves as a version tag on scratch dicts (changes on
every kind of write, on nothing else). Where it does not (another interpreter, a free-threaded
or trace-refs build, a future CPython without the field), `watch()` returns None and the caller
compares every binding as before: slower, never less exact.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import itertools
import operator
import sys
import sysconfig
import types

# PyDictObject: PyObject_HEAD (ob_refcnt, ob_type), ma_used, then ma_version_tag
_USED_OFFSET = 2 * ctypes.sizeof(ctypes.c_ssize_t)
_TAG_OFFSET = 3 * ctypes.sizeof(ctypes.c_ssize_t)

tag = operator.attrgetter("value")     # map(tag, views): every tag, in one C loop


def _view(d: dict):
    # made before lock-down (from_address raises the audited "ctypes.cdata" event); the view
    # reads live memory each time and the caller keeps `d` alive for as long as it keeps the view
    return ctypes.c_uint64.from_address(id(d) + _TAG_OFFSET)


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """Whether version tags can be read here, proven on scratch dicts."""
    if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 13) \
            or sysconfig.get_config_var("Py_GIL_DISABLED") or sysconfig.get_config_var("Py_TRACE_REFS"):
        return False
    try:
        d: dict = {}
        used = ctypes.c_ssize_t.from_address(id(d) + _USED_OFFSET)
        tag = _view(d)
        seen = [tag.value]
        d["k"] = object()                  # added
        seen.append(tag.value)
        d["k"] = object()                  # replaced
        seen.append(tag.value)
        if used.value != len(d):
            return False                   # not the layout we think
        d.get("k"), "k" in d, list(d)      # reads change nothing
        other = {"x": 1}                   # nor writes to another dict
        other["x"] = 2
        seen.append(tag.value)
        d.update(j=1)
        seen.append(tag.value)
        del d["k"]
        seen.append(tag.value)
        klass = type("Scratch", (), {})
        ktag = _view(_underlying(klass.__dict__))
        before = ktag.value
        klass.attr = object()              # setattr on a class writes its own dict
        module = types.ModuleType("scratch")
        mtag = _view(module.__dict__)
        mbefore = mtag.value
        module.attr = object()
        return (seen[0] < seen[1] < seen[2] == seen[3] < seen[4] < seen[5]
                and ktag.value > before and mtag.value > mbefore and used.value == len(d))
    except Exception:  # noqa: BLE001
        return False


def watch(container):
    """A view of one container's version tag (a module dict, or a class's `__dict__` proxy: the
    dict behind it, the one setattr writes), or None when tags cannot be read here. A container
    that is no plain dict gets a view that reads as changed every time."""
    if not available():
        return None
    d = container if type(container) is dict else _underlying(container)
    return _view(d) if d is not None else _Changing()


def _underlying(proxy) -> dict | None:
    """The dict behind a read-only mapping proxy (a class's `__dict__`)."""
    if type(proxy) is not types.MappingProxyType:
        return None
    inner = gc.get_referents(proxy)
    # a dict subclass (ctypes' StgDict) starts with the same PyDictObject, tag included
    return inner[0] if len(inner) == 1 and isinstance(inner[0], dict) else None


class _Changing:
    """Stands in for the tag of a container that has none: always different, always compared."""
    _count = itertools.count()

    @property
    def value(self) -> int:
        return -next(self._count) - 1
