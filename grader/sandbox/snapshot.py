"""Snapshot of the bindings the checks rely on; finds and undoes what candidate code changed."""

from __future__ import annotations

import functools
import operator
from itertools import compress, repeat
import os
import sys

from grader.sandbox import inventory, versions
from grader.sandbox.audit import current
from grader.sandbox.state import (_del_class_attr, _restore_torch_state, _set_class_attr,
                                  _torch_state, restore_signal_handlers, signal_handlers)


# ------------------------------------------------------------------------------------ snapshot

class Snapshot:
    """Identity snapshot of the bindings the checks use; verify_and_restore() undoes changes.

    Containers: the __dict__ of every module of the protected packages and of every class they
    define (functions, classes and modules in them), sys.modules, import hooks, sys hooks, gc
    callbacks, signal handlers, torch's function/dispatch mode stacks and global module hooks.
    Identity comparisons only (no __eq__ of anything), flattened into C loops: a few ms."""

    def __init__(self):
        # two groups ("hot": checked after every candidate call; "all"), each a tuple of
        # (containers, keys, values, owners) with one item per watched binding
        self.groups: dict = {}
        self.classes: dict = {}      # group -> [[class, mappingproxy, label, keys, size], ...]
        self.lists: list = []        # (label, list object, copy)
        self.sys_modules: tuple = ()
        # group -> [tag views, tags when last compared, binding indices per container, class
        # entry per container]; None where version tags cannot be read (every binding compared)
        self.tags: dict = {}
        self.sys_modules_tag: list | None = None     # [sys.modules, its view, its tag]
        self.sys_hooks: dict = {}
        self.signals: dict = {}
        self.torch_state: dict = {}

    @classmethod
    def take(cls) -> "Snapshot":
        import gc
        snap = cls()
        flat = {"hot": ([], [], [], []), "cold": ([], [], [], [])}
        classes = {"hot": [], "cold": []}
        index = {"hot": ([], [], []), "cold": ([], [], [])}   # per dict: view, members, class entry
        for reading in inventory.read_all():          # remembered readings where tags allow
            containers, keys, values, owners = flat[reading.group]
            start, n = len(keys), len(reading.keys)
            containers.extend(repeat(reading.container, n))
            keys.extend(reading.keys)
            values.extend(reading.values)
            owners.extend(repeat(reading.owner, n))
            entry = None
            if reading.klass is not None:
                entry = [reading.klass, reading.container, reading.owner[0],
                         frozenset(reading.keys), reading.size]
                classes[reading.group].append(entry)
            views, members, class_entry = index[reading.group]
            views.append(reading.view)
            members.append(range(start, start + n))
            class_entry.append(entry)
        snap.groups = {g: tuple(map(tuple, parts)) for g, parts in flat.items()}
        snap.classes = classes
        for group, (views, members, class_entry) in index.items():
            snap.tags[group] = None                  # no tags here: every binding compared
            if all(view is not None for view in views):
                snap.tags[group] = [tuple(views), tuple(map(versions.tag, views)), members,
                                    class_entry]
        snap.sys_modules = (tuple(sys.modules), tuple(sys.modules.values()))
        view = versions.watch(sys.modules)
        snap.sys_modules_tag = [sys.modules, view, view.value] if view else None
        snap.lists = [["sys.meta_path", sys.meta_path, list(sys.meta_path)],
                      ["sys.path_hooks", sys.path_hooks, list(sys.path_hooks)],
                      ["gc.callbacks", gc.callbacks, list(gc.callbacks)]]
        snap.sys_hooks = {k: getattr(sys, k) for k in ("excepthook", "unraisablehook",
                                                       "displayhook", "breakpointhook")}
        snap.signals = signal_handlers()
        snap.torch_state = _torch_state()
        return snap

    def verify_and_restore(self, *, full: bool = True, signals: bool = True) -> list[str]:
        """Names of the bindings candidate code changed; each is put back. `full=False`
        checks the hot group only (what checks call directly), for use after every call."""
        changed: list[str] = []
        for group in (("hot", "cold") if full else ("hot",)):
            tags = self.tags.get(group)
            if tags is None:                        # no version tags here: compare everything
                changed += self._check_bindings(group, None)
                changed += self._check_classes(self.classes[group])
                continue
            views, saved, members, class_entry = tags
            now = tuple(map(versions.tag, views))   # read before comparing: a write from
            if now == saved:                             # now on changes the tag again
                continue                    # no watched dict was written since the last check
            dirty = list(compress(range(len(now)), map(_ne, now, saved)))
            changed += self._check_bindings(group, sorted(j for i in dirty for j in members[i]))
            changed += self._check_classes([class_entry[i] for i in dirty
                                            if class_entry[i] is not None])
            tags[1] = now
        changed += self._check_sys_modules()
        for entry in self.lists:
            label, obj, saved = entry
            if len(obj) != len(saved) or any(map(_is_not, obj, saved)):
                added = [x for x in obj if not any(x is y for y in saved)]
                box = current()
                if box is not None and added and all(box.trusted_callable(x) for x in added) \
                        and all(any(y is x for x in obj) for y in saved):
                    entry[2] = list(obj)         # a library registered a hook: accept it
                    continue
                changed.append(label)
                obj[:] = saved
        for key, value in self.sys_hooks.items():
            if getattr(sys, key) is not value:
                changed.append(f"sys.{key}")
                setattr(sys, key, value)
        if signals:
            changed += restore_signal_handlers(self.signals)
        changed += _restore_torch_state(self.torch_state)
        return changed

    def _check_bindings(self, group: str, indices: list | None) -> list[str]:
        """Compare the group's watched bindings (those at `indices`, or all) with the snapshot;
        put back what candidate code changed, accept what a library changed of its own."""
        containers, keys, values, owners = self.groups[group]
        if indices is None:
            indices = range(len(keys))
            cs, ks, vs = containers, keys, values
        else:
            cs, ks, vs = ([part[i] for i in indices] for part in (containers, keys, values))
        try:
            now = tuple(map(_getitem, cs, ks))
        except KeyError:                            # something was deleted: the slow way
            now = tuple(c.get(k, _GONE) for c, k in zip(cs, ks))
        if not any(map(_is_not, now, vs)):
            return []
        changed, accepted = [], list(values)
        for i, a, b in zip(indices, now, vs):
            if a is b:
                continue
            label, owner = owners[i]
            if _library_change(f"{label}.{keys[i]}", b, a):
                accepted[i] = a                      # the library wrapped its own function
                continue
            changed.append(f"{label}.{keys[i]}")
            if isinstance(owner, dict):
                owner[keys[i]] = b
            else:
                _set_class_attr(owner, keys[i], b)
        self.groups[group] = (containers, keys, tuple(accepted), owners)
        return changed

    def _check_classes(self, entries: list) -> list[str]:
        """Attributes candidate code added to watched classes (removed again)."""
        changed = []
        sizes = tuple(map(len, (entry[1] for entry in entries)))
        for entry, size in zip(entries, sizes):
            if size != entry[4]:
                klass, proxy, label, watched, _ = entry
                for k, v in list(proxy.items()):
                    if k not in watched and inventory.watched_value(v):
                        if _library_change(f"{label}.{k}", _GONE, v) or _inherited(klass, k) is v:
                            continue             # e.g. Triton's interpreter patch scopes
                        changed.append(f"{label}.{k} (added)")
                        _del_class_attr(klass, k)
                entry[4] = len(proxy)    # data attributes (caches) may come and go
        return changed

    def _check_sys_modules(self) -> list[str]:
        tag = self.sys_modules_tag
        if tag is not None:
            now = tag[1].value
            if sys.modules is tag[0] and now == tag[2]:
                return []                           # nothing imported, nothing replaced
            tag[2] = now
        changed = []
        names, mods = self.sys_modules
        get = sys.modules.get
        if any(map(_is_not, map(get, names), mods)):
            for name, mod in zip(names, mods):
                if get(name) is not mod:
                    changed.append(f"sys.modules[{name!r}]")
                    sys.modules[name] = mod
        return changed


def _library_change(label: str, old, new) -> bool:
    """A library changing its own binding as it runs, not candidate code: the new value is a
    Python function of the same package as the owner (torch code in a torch class), and when
    it replaces something it wraps it (functools.wraps: `__wrapped__` leads to the old value),
    as torch.optim does to `Optimizer.step` on first use."""
    package = label.split(".")[0]
    if package == "triton" and _INTERPRETING() and label.endswith(".static_print") \
            and (new is _PRINT or new is _BUILTINS.print):
        return True                 # the interpreter's tl.static_print is the builtin print
    func = getattr(new, "__func__", new)
    func = func.func if _type(func) is _PARTIAL else func   # tl.multiple_of & co.
    code = getattr(func, "__code__", None)
    box = current()
    if code is None or not hasattr(code, "co_filename") or box is None \
            or box.untrusted_code(code) or f"/{package}/" not in code.co_filename:
        return False
    if old is _GONE or _triton_interpreter_patch(package, code):
        return True
    inner, seen = new, 0
    while inner is not None and seen < 5:
        inner = getattr(inner, "__wrapped__", None)
        if inner is old:
            return True
        seen += 1
    return False


def _INTERPRETING() -> bool:
    return os.environ.get("TRITON_INTERPRET") == "1"


def _triton_interpreter_patch(package: str, code) -> bool:
    """Triton's interpreter (TRITON_INTERPRET=1, every CPU grading child) rebinds triton.language
    builtins to its own wrappers when a kernel calls a @triton.jit library function (tl.zeros_like,
    tl.sum, tl.cdiv, ...) and, for device-function calls, never restores them: triton's own code
    (runtime/interpreter.py; candidates cannot compile under that name) changing triton."""
    return (package == "triton" and _INTERPRETING()
            and code.co_filename.replace("\\", "/").endswith("/triton/runtime/interpreter.py"))


def _inherited(klass, key):
    """What `klass` would inherit for `key` without its own entry (a no-op addition)."""
    for base in klass.__mro__[1:]:
        if key in base.__dict__:
            return base.__dict__[key]
    return _GONE


# captured now: candidate code may rebind the builtins (isinstance, print, ...) before a check
_PRINT, _PARTIAL, _type, _BUILTINS = print, functools.partial, type, sys.modules["builtins"]
_getitem = operator.getitem
_GONE = object()
_is_not = operator.is_not
_ne = operator.ne
