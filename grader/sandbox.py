"""Limits and locks applied inside the grading child.

`apply_limits` runs first thing (resource limits the kernel enforces); `lock_down` runs after
pytest has collected the hidden checks and before any candidate code is imported: from then on
an audit hook (PEP 578, cannot be removed) refuses to open the solutions, the hidden checks or
the grader's sources, and to import the reference.
"""

from __future__ import annotations

import os
import resource
import sys

GIB = 1 << 30


def apply_limits(config: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))           # a segfault leaves no core file
    limit_mb = int(config.get("memory_limit_mb", 0))
    if limit_mb and config.get("device", "cpu") == "cpu":
        # Address space, not RSS: CUDA reserves huge virtual ranges, so only on CPU.
        limit = limit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nofile = 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), min(nofile, hard)))


def _protected_roots(config: dict) -> tuple[str, ...]:
    roots = [config["checks_dir"]] + list(config.get("protected", []))
    return tuple(os.path.realpath(r) + os.sep for r in roots)


def lock_down(config: dict) -> None:
    roots = _protected_roots(config)
    realpath, fspath = os.path.realpath, os.fspath
    blocked_modules = ("solutions",)

    def is_protected(path) -> bool:
        try:
            text = fspath(path)
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            full = realpath(text) + os.sep
        except Exception:  # noqa: BLE001 - an fd or odd object: not a path we guard
            return False
        return full.startswith(roots)

    def hook(event: str, args: tuple) -> None:
        if event == "open" and args and is_protected(args[0]):
            raise PermissionError(f"torchdrill: reading {args[0]} is not allowed while grading")
        if event in ("os.listdir", "os.scandir") and args and is_protected(args[0]):
            raise PermissionError("torchdrill: listing that folder is not allowed while grading")
        if event == "import" and args and isinstance(args[0], str):
            if args[0].split(".")[0] in blocked_modules:
                raise ImportError(f"torchdrill: importing {args[0]} is not allowed")

    sys.addaudithook(hook)
