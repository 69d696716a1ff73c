"""Static pass over candidate files (Python `ast`, nothing is executed).

Flags, each with file:line (shown in the JSON and both views of the report). None of them
zeroes an exercise: zero on evidence, flag on mention. The runtime guard (forbidden-api) and the
sandbox (grader-import, native-code) zero an exercise when the call or the import actually ran;
a mention the run never reached (a fallback, dead code) costs nothing.
- forbidden-mention: a name from the exercise's `forbidden` list, resolved through import aliases
  (`import torch.nn.functional as F; F.conv2d` is torch.nn.functional.conv2d), plain assignments
  (`G = F; G.conv2d`), `getattr(F, "conv2d")`, `importlib.import_module("torch.nn.functional")`
  and strings built from constants (`"conv" + "2d"`) when they are looked up (getattr,
  attrgetter, import_module, `module.__dict__[...]`); a plain message string is not flagged.
- grader-mention: importing `grader`, `solutions` or the hidden checks' module (`test_hidden`),
  also by a string (`importlib.import_module("grader.harness")`, `sys.modules["grader..."]`).
- shown to the interviewer, not scored (the runtime sandbox refuses or detects what matters):
  file-access, network, subprocess, threads, dynamic-code (exec, eval, getattr, importlib),
  introspection (frames, gc, ctypes, sys.modules), monkeypatch
  (assigning to or deleting attributes of imported modules and classes), guard-evasion (torch's
  dispatch internals: popping dispatch modes, excluding dispatch keys, registering kernels),
  process-exit (sys.exit, os._exit).
The runtime guard (grader.checks.guard) catches what this pass cannot see.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.catalogue import Exercise
from grader.kinds import Flag

GENERAL_RULES = {
    Flag.FILE_ACCESS: ("open", "io.open", "os.open", "pathlib", "shutil", "os.remove", "os.unlink",
                    "os.listdir", "os.scandir", "os.walk", "glob", "os.rename", "os.replace",
                    "os.chmod", "os.symlink", "os.link", "tempfile", "mmap", "os.fdopen",
                    "os.write", "os.read", "os.dup2"),
    Flag.NETWORK: ("socket", "urllib", "http", "requests", "ftplib", "smtplib", "ssl", "asyncio",
                "xmlrpc", "telnetlib", "websocket", "aiohttp", "httpx"),
    Flag.SUBPROCESS: ("subprocess", "os.system", "os.popen", "os.fork", "os.forkpty", "os.spawn*",
                   "os.exec*", "os.posix_spawn*", "os.kill", "os.killpg", "os.setsid",
                   "os.register_at_fork", "pty", "multiprocessing", "signal", "_posixsubprocess",
                   "concurrent.futures.ProcessPoolExecutor", "torch.multiprocessing"),
    Flag.THREADS: ("threading", "_thread", "concurrent.futures"),
    Flag.DYNAMIC_CODE: ("exec", "eval", "compile", "__import__", "importlib", "builtins",
                     "__builtins__", "marshal", "pickle", "types.CodeType", "types.FunctionType",
                     "runpy", "code", "codeop", "globals", "vars", "locals", "torch.ops"),
    Flag.INTROSPECTION: ("sys._getframe", "sys._current_frames", "inspect", "gc", "sys.modules",
                      "ctypes", "_ctypes", "cffi", "sys.settrace", "sys.setprofile",
                      "sys.addaudithook", "traceback", "faulthandler", "tracemalloc",
                      "weakref.finalize", "sys.meta_path", "sys.path_hooks", "logging.currentframe",
                      "torch._dynamo", "torch._C._dynamo", "torch.compile"),
    Flag.GUARD_EVASION: ("torch.utils._python_dispatch", "torch._C._DisableTorchDispatch",
                      "torch._C._ExcludeDispatchKeyGuard", "torch._C._IncludeDispatchKeyGuard",
                      "torch._C._ForceDispatchKeyGuard", "torch._C.DispatchKey",
                      "torch._C.DispatchKeySet", "torch._C._pop_torch_dispatch_stack",
                      "torch._C._push_on_torch_dispatch_stack", "torch._C._set_dispatch_mode",
                      "torch._C._unset_dispatch_mode", "torch._C._dispatch_library",
                      "torch._C._EnablePythonDispatcher", "torch._C._dispatch_tls_set_dispatch_key_excluded",
                      "torch._C._dispatch_tls_set_dispatch_key_included", "torch.library",
                      "torch._ops", "torch.overrides.TorchFunctionMode"),
    Flag.PROCESS_EXIT: ("sys.exit", "os._exit", "os.abort", "exit", "quit"),
}
# attribute names that are guard evasion whatever object they hang off
EVASIVE_ATTRS = frozenset({"redispatch", "py_impl", "_pop_mode", "_pop_mode_temporarily",
                           "_disable_current_modes", "_get_current_dispatch_mode",
                           "_DisableTorchDispatch", "_ExcludeDispatchKeyGuard", "_op_dk",
                           "_dispatch_library", "set_eval_frame"})
ZEROING_IMPORTS = ("grader", "solutions", "test_hidden")
DYNAMIC_LOOKUPS = ("getattr", "__import__", "import_module", "attrgetter", "methodcaller")
MAX_FLAGS_PER_KIND = 20


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`F.conv2d` -> "torch.nn.functional.conv2d" given aliases {"F": "torch.nn.functional"};
    `getattr(F, "conv2d")` the same; None when the expression is not a (resolvable) name."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif _is_getattr(node):
            text = _const_str(node.args[1])
            if text is None:
                return None
            parts.append(text)
            node = node.args[0]
        elif _is_import_module(node):
            text = _const_str(node.args[0])
            if text is None:
                return None
            parts.append(text)
            return ".".join(reversed(parts))
        else:
            break
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _is_getattr(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "getattr" and len(node.args) >= 2)


def _is_import_module(node) -> bool:
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__")


def _const_str(node) -> str | None:
    """The value of a string built only from constants ("a" + "b", f"{'a'}b", "".join([...]))."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _const_str(node.left), _const_str(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                value = value.value
            text = _const_str(value)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join" and len(node.args) == 1
            and isinstance(node.args[0], (ast.List, ast.Tuple))):
        sep = _const_str(node.func.value)
        items = [_const_str(e) for e in node.args[0].elts]
        if sep is not None and all(i is not None for i in items):
            return sep.join(items)
    return None


def _matches(name: str, rule: str) -> bool:
    if rule.endswith("*"):
        return name.startswith(rule[:-1])
    return name == rule or name.startswith(rule + ".")


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local names bound to modules or module attributes, by imports and plain assignments."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for _ in range(3):                 # assignments of aliases to names, a few levels deep
        roots = {v.split(".")[0] for v in aliases.values()}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                dotted = _dotted(node.value, aliases)
                if dotted and (_is_import_module(node.value) or (
                        dotted.split(".")[0] in roots and _root_name(node.value) in aliases)):
                    aliases[node.targets[0].id] = dotted
    return aliases


IMPORTED = "<import_module>"


def _root_name(node) -> str | None:
    """The Name at the bottom of an attribute / getattr chain (IMPORTED for a module imported
    by name right there: `importlib.import_module("x").y`)."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif _is_getattr(node):
            node = node.args[0]
        elif _is_import_module(node):
            return IMPORTED
        else:
            return node.id if isinstance(node, ast.Name) else None


def scan_source(source: str, filename: str, forbidden: tuple[str, ...]) -> list[dict]:
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return []        # the checks report the syntax error to the candidate
    aliases = _aliases(tree)
    flags: list[dict] = []
    seen: set[tuple[str, int]] = set()

    def add(kind: str, what: str, line: int) -> None:
        if (kind, line) in seen or sum(f["kind"] == kind for f in flags) >= MAX_FLAGS_PER_KIND:
            return
        seen.add((kind, line))
        flags.append({"kind": kind, "detail": f"{what} at {filename}:{line}"})

    attr_rules = tuple(r[1:] for r in forbidden if r.startswith("."))
    name_rules = tuple(r for r in forbidden if not r.startswith("."))

    def check_name(name: str, line: int, *, imported: bool) -> None:
        """`imported`: the name is a module path (an import, or an attribute chain rooted at
        an imported name); bare local names only meet the general rules for builtins."""
        if imported and any(_matches(name, r) for r in name_rules):
            add(Flag.FORBIDDEN_MENTION, name, line)
        if imported and name.split(".")[0] in ZEROING_IMPORTS:
            add(Flag.GRADER_MENTION, f"use of {name.split('.')[0]} ({name})", line)
        for kind, rules in GENERAL_RULES.items():
            if any(_matches(name, r) for r in rules) and (imported or "." not in name):
                add(kind, name, line)

    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import):
            for a in node.names:
                check_name(a.name, line, imported=True)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                continue
            for name in [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]:
                if name:
                    check_name(name, line, imported=True)
        elif isinstance(node, (ast.Attribute, ast.Name)) or _is_getattr(node) \
                or _is_import_module(node):
            dotted = _dotted(node, aliases)
            root = _root_name(node)
            if dotted:
                imported = root == IMPORTED or (root is not None and root in aliases)
                if isinstance(node, ast.Name) and node.id not in aliases:
                    check_name(node.id, line, imported=False)      # builtins: open, exec...
                else:
                    check_name(dotted, line, imported=imported)
            if isinstance(node, ast.Attribute):
                if node.attr in attr_rules:
                    add(Flag.FORBIDDEN_MENTION, f".{node.attr}", line)
                if node.attr in EVASIVE_ATTRS:
                    add(Flag.GUARD_EVASION, f".{node.attr}", line)
            if _is_getattr(node) or _is_import_module(node):
                add(Flag.DYNAMIC_CODE, "getattr" if _is_getattr(node) else "import by name", line)
        if isinstance(node, ast.Subscript):                # sys.modules["grader.harness"]
            key = _const_str(node.slice)
            if key and key.split(".")[0] in ZEROING_IMPORTS and \
                    _dotted(node.value, aliases) == "sys.modules":
                add(Flag.GRADER_MENTION, f"sys.modules[{key!r}]", line)
        # a name in a string reaches an API the dotted-name rules cannot see:
        # operator.attrgetter("conv2d"), torch.__dict__["conv" + "2d"]; a plain message string
        # (the stub's NotImplementedError("conv2d")) is not flagged
        lookups = []
        if isinstance(node, ast.Call) and (_dotted(node.func, aliases) or "").rsplit(".", 1)[-1] \
                in DYNAMIC_LOOKUPS:
            lookups = list(node.args)
        elif isinstance(node, ast.Subscript):
            lookups = [node.slice]
        for arg in lookups:
            text = _const_str(arg)
            if text and any(text == r.rsplit(".", 1)[-1] or _matches(r, text) for r in name_rules):
                add(Flag.FORBIDDEN_MENTION, f"{text!r} looked up dynamically", line)
            if text and (text.split(".")[0] in ZEROING_IMPORTS and text != "grader"
                         or text.startswith("grader.")):
                add(Flag.INTROSPECTION, f"string {text!r} names the grader or the answers", line)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete, ast.AnnAssign)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in aliases:
                    add(Flag.MONKEYPATCH, _dotted(target, aliases) or target.attr, line)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("setattr", "delattr") and node.args \
                and _root_name(node.args[0]) in aliases:
            add(Flag.MONKEYPATCH, f"{node.func.id}({_dotted(node.args[0], aliases)}, ...)", line)
    return flags


def scan_folder(exercise: Exercise, folder: Path) -> list[dict]:
    """Scan the files the exercise grades (only those: the rest is never run)."""
    flags = []
    for name in exercise.files:
        path = folder / name
        if path.is_file():
            source = path.read_bytes()[:2_000_000].decode("utf-8", "replace")
            flags.extend(scan_source(source, name, exercise.forbidden))
    return flags
