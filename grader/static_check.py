"""Static pass over candidate files (Python `ast`, nothing is executed).

Flags, each with file:line:
- forbidden-api: a name from the exercise's `forbidden` list, resolved through import aliases
  (`import torch.nn.functional as F; F.conv2d` is torch.nn.functional.conv2d). Zeroes the exercise.
- grader-import: importing `grader` or `solutions`. Zeroes the exercise.
- file-access, network, subprocess, dynamic-code, introspection: shown to the interviewer.
The runtime guard (grader.harness) catches what this pass cannot see, such as
`getattr(F, "conv" + "2d")`.
"""

from __future__ import annotations

import ast
from pathlib import Path

from grader.catalogue import Exercise

GENERAL_RULES = {
    "file-access": ("open", "io.open", "os.open", "pathlib", "shutil", "os.remove", "os.unlink",
                    "os.listdir", "os.scandir", "os.walk", "glob"),
    "network": ("socket", "urllib", "http", "requests", "ftplib", "smtplib"),
    "subprocess": ("subprocess", "os.system", "os.popen", "os.fork", "os.spawnl", "os.execv",
                   "os.execl", "os.kill", "os.killpg", "pty", "multiprocessing", "signal"),
    "dynamic-code": ("exec", "eval", "compile", "__import__", "importlib", "builtins",
                     "marshal", "pickle"),
    "introspection": ("sys._getframe", "inspect", "gc", "sys.modules", "ctypes",
                      "sys.settrace", "sys.setprofile", "traceback", "os._exit", "sys.exit"),
}
ZEROING_IMPORTS = ("grader", "solutions")
DYNAMIC_LOOKUPS = ("getattr", "__import__", "import_module", "attrgetter")
MAX_FLAGS_PER_KIND = 20


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`F.conv2d` -> "torch.nn.functional.conv2d" given aliases {"F": "torch.nn.functional"}."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _matches(name: str, rule: str) -> bool:
    return name == rule or name.startswith(rule + ".")


def scan_source(source: str, filename: str, forbidden: tuple[str, ...]) -> list[dict]:
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError):
        return []        # the checks report the syntax error to the candidate
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    flags: list[dict] = []
    seen: set[tuple[str, int]] = set()

    def add(kind: str, what: str, line: int) -> None:
        if (kind, line) in seen or sum(f["kind"] == kind for f in flags) >= MAX_FLAGS_PER_KIND:
            return
        seen.add((kind, line))
        flags.append({"kind": kind, "detail": f"{what} at {filename}:{line}"})

    attr_rules = tuple(r[1:] for r in forbidden if r.startswith("."))
    name_rules = tuple(r for r in forbidden if not r.startswith("."))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                continue
            names = [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
        elif isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node, aliases)
            names = [dotted] if dotted else []
            if isinstance(node, ast.Attribute) and node.attr in attr_rules:
                add("forbidden-api", f".{node.attr}", node.lineno)
        elif isinstance(node, ast.Call) and (_dotted(node.func, aliases) or "").rsplit(".", 1)[-1] in DYNAMIC_LOOKUPS:
            # getattr(F, "conv2d"), importlib.import_module("torch.nn.functional"): a name in a
            # string reaches an API the dotted-name rules cannot see (a plain message string,
            # like the stub's NotImplementedError("conv2d"), is not flagged)
            for arg in node.args:
                if (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and any(rule.rsplit(".", 1)[-1] == arg.value or _matches(rule, arg.value)
                                for rule in name_rules)):
                    add("forbidden-api", f"{arg.value!r} looked up dynamically", node.lineno)
        for name in names:
            if any(_matches(name, r) for r in name_rules):
                add("forbidden-api", name, node.lineno)
            if name.split(".")[0] in ZEROING_IMPORTS and isinstance(node, (ast.Import, ast.ImportFrom)):
                add("grader-import", f"import of {name.split('.')[0]}", node.lineno)
            for kind, rules in GENERAL_RULES.items():
                if any(_matches(name, r) for r in rules):
                    add(kind, name, node.lineno)
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
