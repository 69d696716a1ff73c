"""docs/timing.md cannot drift from grader/timing/: its Constants table, the report's method
sentences, the row fields and every path or grader.* name it mentions are checked against
the code. Torch-free and fast: grader.timing's __init__ imports no torch, and the rest of the
package is read as source (ast), never imported."""

import ast
import glob
import re
import subprocess
import sys
from pathlib import Path

import pytest

import grader.timing as timing

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "timing.md"
DOC = DOC_PATH.read_text(encoding="utf-8")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
TOP_DIRS = ("grader", "tests", "benchmarks", "docs", "exercises", "solutions")


def section(title: str) -> str:
    """The text of the '## title' section, up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"docs/timing.md has no '## {title}' section"
    return match.group(1)


def constants_table() -> dict:
    """{NAME: value} from the Constants section's table (value: the first code span of the
    value column, a Python literal)."""
    rows = {}
    for line in section("Constants").splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in ("constant", "") or set(cells[0]) <= set("-: "):
            continue                                  # header, separator
        name = cells[0].strip("`")
        assert name not in rows, f"{name} is listed twice in the Constants table"
        span = CODE_SPAN.search(cells[1])
        assert span, f"the value of {name} must be a Python literal in backticks"
        rows[name] = ast.literal_eval(span.group(1))
    return rows


def public_constants() -> dict:
    return {name: value for name, value in vars(timing).items()
            if name.isupper() and not name.startswith("_")}


# ------------------------------------------------------------------------------ the constants

def test_grader_timing_is_torch_free():
    code = ("import sys, grader.timing; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"importing grader.timing imported torch: {proc.stderr}"


def test_constants_table_matches_the_code():
    table = constants_table()
    code = public_constants()
    assert table, "the Constants table is empty"
    unknown = sorted(set(table) - set(code))
    assert not unknown, f"docs/timing.md lists constants grader.timing does not have: {unknown}"
    missing = sorted(set(code) - set(table))
    assert not missing, f"grader.timing constants missing from docs/timing.md: {missing}"
    for name, documented in table.items():
        actual = code[name]
        if isinstance(actual, (set, frozenset)):
            assert isinstance(documented, (set, frozenset)), name
            assert set(documented) == set(actual), f"{name}: doc {documented!r}, code {actual!r}"
        else:
            assert type(documented) is type(actual) and documented == actual, (
                f"{name}: docs/timing.md says {documented!r}, grader.timing has {actual!r}")


def test_every_constant_is_used_in_the_method_text():
    """A constant in the table only is not enough: the method names it where it acts."""
    outside = DOC.replace(section("Constants"), "")
    for name in public_constants():
        assert f"`{name}`" in outside, f"{name} is in the table but the method never names it"


# ------------------------------------------------------------------- what the report says

def expected_sentences():
    cpu = timing.method_sentence("cpu", "", 2)
    cuda = timing.method_sentence("cuda", "", None)
    return cpu, cuda


def test_method_sentences_appear_verbatim():
    text = section("What the report says")
    for sentence in expected_sentences():
        assert sentence in text, f"docs/timing.md lacks the report's sentence:\n{sentence}"


def test_method_sentences_are_built_from_the_constants(monkeypatch):
    cpu, cuda = expected_sentences()
    assert f"in {timing.CPU_ROUNDS} rounds" in cpu
    assert "with 2 threads" in cpu and "perf_counter" in cpu
    assert f"({timing.FLUSH_BYTES >> 20} MiB written)" in cuda
    assert f"{timing.MIN_RUNS} to {timing.MAX_RUNS} runs" in cuda
    assert f"under {timing.TARGET_REL_STDERR:.1%} of the mean" in cuda
    # and they follow the constants when those change
    monkeypatch.setattr(timing, "CPU_ROUNDS", 7)
    monkeypatch.setattr(timing, "FLUSH_BYTES", 64 << 20)
    monkeypatch.setattr(timing, "MIN_RUNS", 5)
    monkeypatch.setattr(timing, "MAX_RUNS", 55)
    monkeypatch.setattr(timing, "TARGET_REL_STDERR", 0.02)
    assert "in 7 rounds" in timing.method_sentence("cpu", "", 2)
    changed = timing.method_sentence("cuda", "", None)
    assert "(64 MiB written)" in changed and "5 to 55 runs" in changed and "2.0%" in changed
    assert "1 thread:" in timing.method_sentence("cpu", "", 1)
    assert "(H200)" in timing.method_sentence("cuda", "H200", None)


# ------------------------------------------------------------------------------ the row fields

def _row_keys(tree: ast.AST) -> set:
    """String keys a module writes into timing rows: `_blank_row`'s dict, `row["k"] = ...`,
    `row.update({...})` and `dict(_blank_row(...), k=...)`."""
    keys = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_blank_row":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Dict):
                    keys |= {k.value for k in sub.keys if isinstance(k, ast.Constant)}
        elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id == "row"
              and isinstance(node.slice, ast.Constant)):
            keys.add(node.slice.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Attribute) and func.attr == "update"
                    and isinstance(func.value, ast.Name) and func.value.id == "row"):
                for arg in node.args:
                    if isinstance(arg, ast.Dict):
                        keys |= {k.value for k in arg.keys if isinstance(k, ast.Constant)}
            if (isinstance(func, ast.Name) and func.id == "dict" and node.args
                    and isinstance(node.args[0], ast.Call)
                    and getattr(node.args[0].func, "id", "") == "_blank_row"):
                keys |= {kw.arg for kw in node.keywords if kw.arg}
    return keys


def test_every_row_field_is_documented():
    keys = set()
    for name in ("measure.py", "run.py"):
        keys |= _row_keys(ast.parse((ROOT / "grader" / "timing" / name).read_text("utf-8")))
    assert {"case", "candidate_ms", "reference_ms", "speedup", "error"} <= keys  # parsed at all
    contract = section("The contract with the engine")
    missing = sorted(k for k in keys if f"`{k}`" not in contract)
    assert not missing, f"row fields not described in docs/timing.md's contract: {missing}"


# ------------------------------------------------------------------------- names and paths

def test_doc_names_only_paths_that_exist():
    pattern = re.compile(rf"(?<![\w./-])((?:{'|'.join(TOP_DIRS)})/[\w./*-]*)")
    found = set(pattern.findall(DOC))
    assert any(p.startswith("grader/timing/") for p in found)
    missing = []
    for path in sorted(found):
        path = path.rstrip(".")
        if "*" in path:
            if not glob.glob(str(ROOT / path)):
                missing.append(path)
        elif not (ROOT / path).exists():
            missing.append(path)
    assert not missing, f"docs/timing.md names paths that do not exist: {missing}"


def _module_file(parts: list[str]) -> Path | None:
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _top_level_names(path: Path) -> set:
    names = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        names.add(sub.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def test_grader_names_in_code_spans_exist():
    """`grader.x.y` or `grader.x.y.name`: the module exists (as source) and defines the name."""
    dotted = set()
    for span in CODE_SPAN.findall(DOC):
        dotted |= set(re.findall(r"\bgrader(?:\.\w+)+", span))
    assert dotted
    for name in sorted(dotted):
        parts = name.split(".")
        depth = next((i for i in range(len(parts), 0, -1) if _module_file(parts[:i])), 0)
        assert depth >= 2, f"docs/timing.md names {name}: no such module"
        rest = parts[depth:]
        if rest:
            defined = _top_level_names(_module_file(parts[:depth]))
            assert rest[0] in defined, f"docs/timing.md names {name}: no {rest[0]} there"


@pytest.mark.parametrize("stale", [
    "timeit.Timer(",            # the CPU clock is clocks.py's own loop, not timeit's
    "shared/",                  # nothing outside the repository
    "RESEARCH.md",
    "/tmp/",
    "/work/",
    "grader/timing.py",         # before the split
    "grader/charts.py",
    "charts.method_sentence",
    "timing.skip_reason",
])
def test_doc_has_no_stale_or_outside_references(stale):
    assert stale not in DOC, f"docs/timing.md still says {stale!r}"


def test_doc_does_not_say_the_parent_gets_scores_from_the_child():
    assert not re.search(r"\btiming\.speed_share\b", DOC)   # scoring moved to the engine
    assert "grader/engine/scoring.py" in DOC
    assert "grader.timing.run" in DOC or "grader/timing/run.py" in DOC
