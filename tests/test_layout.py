"""The package's shape, as rules that fail: no import cycle, the parent never imports child-only
code, small modules that say what they do, docs that name only files that exist."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT, SUBS

PACKAGE = PROJECT / "grader"
MAX_LINES = 420          # "at most about 400 lines"

# Code that runs only on the far side of the trust boundary, in the grading child.
CHILD_ONLY = ("grader.sandbox", "grader.checks", "grader.harness", "grader.exercise_support",
              "grader.isolation.child", "grader.isolation.zygote_server",
              "grader.isolation.preload")
# grader.timing itself is torch-free constants (the report reads the method sentence from it);
# its submodules are the timing child's.
CHILD_ONLY_PREFIXES = ("grader.timing.",)
# The parent side: the CLI and everything that plans, runs, scores and renders.
PARENT = ("grader.cli", "grader.engine", "grader.batch", "grader.report", "grader.practice",
          "grader.catalogue", "grader.schema", "grader.isolation.runner",
          "grader.isolation.zygote_client", "grader.isolation.procs",
          "grader.isolation.protocol", "grader.kinds", "grader.files", "grader.errors")


def module_name(path: Path) -> str:
    rel = path.relative_to(PROJECT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _in(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def child_only(name: str) -> bool:
    return _in(name, CHILD_ONLY) or name.startswith(CHILD_ONLY_PREFIXES)


def imports_of(name: str) -> set[str]:
    """Every grader module `name` imports, at module level or inside functions (a lazy import
    is still an arrow), except under `if TYPE_CHECKING:`."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def test_no_import_cycle_inside_grader():
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_parent_never_imports_child_only_code():
    """Statically: nothing reachable from the parent side's modules is child-only code."""
    for start in (n for n in MODULES if _in(n, PARENT)):
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            for nxt in GRAPH[node]:
                assert not child_only(nxt), f"{start} reaches child-only {nxt} (through {node})"
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)


def test_a_whole_grade_leaves_no_child_code_in_the_parent(fixture_root, tmp_path):
    """And at run time: after a real grade (HTML and JUnit too), the grading process has loaded
    no child-only module and not torch."""
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from grader.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['grade', {str(SUBS / 'partial')!r}, '--json', {str(tmp_path / 'r.json')!r},"
        f" '--html', {str(tmp_path / 'r.html')!r}, '--junit', {str(tmp_path / 'j.xml')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('\\n'.join(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         check=True).stdout.split()
    loaded = [m for m in out if m.startswith("grader")]
    assert "grader.engine.grading" in loaded
    assert [m for m in loaded if child_only(m)] == []
    assert "torch" not in out


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_small_and_says_its_job(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= MAX_LINES, f"{path.relative_to(PROJECT)} has {lines} lines; split it by concern"
    doc = ast.get_docstring(ast.parse(text))
    assert doc and doc.strip(), f"{path.relative_to(PROJECT)} needs a docstring saying its job"


# ------------------------------------------------------------------------- what docs may name

TRACKED = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True).stdout.split()
TEXT_FILES = [PROJECT / f for f in TRACKED if f.endswith((".md", ".py", ".toml", ".j2", ".css", ".js"))
              and not f.startswith("tests/attacks/") and not f.startswith("tests/fixtures/")]
LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]*[A-Za-z0-9_-]\.[a-z]+|[^)#\s]*/[^)#\s]*)[)#]")


def test_nothing_names_a_file_outside_the_repository():
    outside = re.compile(r"(\.\./shared|shared/(RESEARCH|DESIGN|LAYOUT)\.md|\bRESEARCH\.md|"
                         r"(?<![a-z/])DESIGN\.md)")
    offenders = [f"{p.relative_to(PROJECT)}:{n}" for p in TEXT_FILES
                 if p.name not in ("test_layout.py", "test_docs_timing.py")   # they list what not to name
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if outside.search(line)]
    assert offenders == []


def test_every_markdown_link_resolves():
    broken = []
    for path in (p for p in TEXT_FILES if p.suffix == ".md"):
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(PROJECT)} -> {target}")
    assert broken == []
