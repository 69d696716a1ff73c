"""`torchdrill kit`: what a candidate receives. The leak test scans kits of the real catalogue
(folder and zip), with a scanner of its own, for anything from solutions/: identical files,
hidden-check names, and the code of reference, alternative and wrong solutions and of hidden
checks. The rest uses the fixture catalogue, ending with the interviewer's whole journey:
kit -> three candidates -> leaderboard."""

import ast
import csv
import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path


from conftest import FIXTURE_ROOT, PROJECT, SUBS, invoke

MIN_BODY_CHARS = 40


# ----------------------------------------------------------------------------- the scanner

def _code_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if line.strip().startswith("#") else line.strip()
        if line:
            out.append(" ".join(line.split()))
    return out


def _function_bodies(source: str) -> list[list[str]]:
    """Each function's body as stripped code lines, docstring left out."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    bodies = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            body = body[1:]
        if not body:
            continue
        code = _code_lines("\n".join(lines[body[0].lineno - 1:body[-1].end_lineno]))
        if len("".join(code)) >= MIN_BODY_CHARS:
            bodies.append(code)
    return bodies


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def secrets_of(root: Path) -> dict:
    solutions = [p for p in sorted((root / "solutions").rglob("*"))
                 if p.is_file() and "__pycache__" not in p.parts]
    public = [_code_lines(p.read_text(errors="replace")) for p in (root / "exercises").rglob("*.py")]
    bodies = []
    for p in solutions:
        if p.suffix == ".py":
            for body in _function_bodies(p.read_text(errors="replace")):
                if not any(_contains(pub, body) for pub in public):   # given away in the stub
                    bodies.append((p.relative_to(root), body))
    return {"contents": {p.read_bytes(): p.relative_to(root) for p in solutions
                         if p.read_bytes().strip()},
            "bodies": bodies}


def kit_files(kit: Path) -> dict[str, bytes]:
    if kit.suffix == ".zip":
        with zipfile.ZipFile(kit) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    return {str(p.relative_to(kit)): p.read_bytes() for p in kit.rglob("*") if p.is_file()}


def leaks(files: dict[str, bytes], secrets: dict) -> list[str]:
    found = []
    for name, data in files.items():
        parts = Path(name).parts
        if any(p.startswith("test_hidden") or p in ("solutions", "wrong", "alt") for p in parts):
            found.append(f"{name}: hidden-side name")
        if data in secrets["contents"]:
            found.append(f"{name}: identical to {secrets['contents'][data]}")
        text = data.decode("utf-8", "replace")
        for needle in ("test_hidden", "from grader", "import grader", "solutions/"):
            if needle in text:
                found.append(f"{name}: contains {needle!r}")
        lines = _code_lines(text)
        for origin, body in secrets["bodies"]:
            if _contains(lines, body):
                found.append(f"{name}: contains a function body of {origin}")
    return found


# ----------------------------------------------------------------------------- real catalogue

def test_kit_of_the_real_catalogue_leaks_nothing(real_root, tmp_path):
    from grader.catalogue import load_catalogue
    catalogue = load_catalogue()
    secrets = secrets_of(PROJECT)
    assert secrets["bodies"], "the scanner found no reference code to look for"
    for out in (tmp_path / "kit", tmp_path / "kit.zip"):
        res = invoke("kit", out)
        assert res.exit_code == 0, res.output
        files = kit_files(out)
        assert leaks(files, secrets) == []
        prefix = "kit/" if out.suffix == ".zip" else ""
        assert f"{prefix}INSTRUCTIONS.md" in files and f"{prefix}run_checks.py" in files
        for ex in catalogue.values():
            for name in (*ex.files, "README.md", *(p.name for p in ex.public_tests)):
                assert f"{prefix}exercises/{ex.slug}/{name}" in files, (ex.slug, name)
        assert not [n for n in files if n.endswith("exercise.toml")]
        text = b"\n".join(files.values()).decode("utf-8", "replace")
        asked = [fu.ask for ex in catalogue.values() for fu in ex.follow_ups]
        assert [q for q in asked if q in text] == [], "interview follow-ups leaked into the kit"


def test_the_scanner_finds_planted_leaks(real_root, tmp_path):
    """A leak test that cannot fail proves nothing: plant leaks and see them found."""
    secrets = secrets_of(PROJECT)
    reference = next(p for p in sorted((PROJECT / "solutions").glob("*/*.py"))
                     if p.name != "test_hidden.py" and _function_bodies(p.read_text()))
    source = reference.read_text()
    reindented = "\n".join("    " + line if line.strip() else line
                           for line in source.splitlines())
    hidden = next((PROJECT / "solutions").glob("*/test_hidden.py"))
    planted = {
        "a/copy.py": reference.read_bytes(),
        "a/notes.md": ("Some notes\n```\nclass X:\n" + reindented + "\n```\n").encode(),
        "a/tests.py": hidden.read_bytes().replace(b"test_hidden", b"t"),
        "a/test_hidden_x.py": b"",
    }
    found = leaks(planted, secrets)
    assert any(f.startswith("a/copy.py: identical") for f in found)
    assert any(f.startswith("a/notes.md: contains a function body") for f in found)
    assert any(f.startswith("a/tests.py: contains a function body") for f in found)
    assert any(f.startswith("a/test_hidden_x.py") for f in found)


# ----------------------------------------------------------------------------- fixture catalogue

def test_kit_folder_and_zip_layout(fixture_root, tmp_path):
    res = invoke("kit", tmp_path / "kit")
    assert res.exit_code == 0, res.output
    files = sorted(kit_files(tmp_path / "kit"))
    assert files == ["INSTRUCTIONS.md", "exercises/tiny/README.md", "exercises/tiny/test_tiny.py",
                     "exercises/tiny/tiny.py", "run_checks.py"]
    assert leaks(kit_files(tmp_path / "kit"), secrets_of(FIXTURE_ROOT)) == []
    text = (tmp_path / "kit" / "INSTRUCTIONS.md").read_text()
    for needle in ("exercises/tiny/tiny.py", "python run_checks.py", "--watch --manual",
                   "python -m zipfile -c your-name.zip exercises", "`torch.relu`", "What is graded"):
        assert needle in text, needle
    assert "relu(x) = max(x, 0)" not in text                        # hints stay out by default

    for where in ("x", "y"):
        (tmp_path / where).mkdir()
        assert invoke("kit", tmp_path / where / "a.zip", "--hints").exit_code == 0
    assert (tmp_path / "x" / "a.zip").read_bytes() == (tmp_path / "y" / "a.zip").read_bytes(), \
        "the same catalogue gives the same zip"
    with zipfile.ZipFile(tmp_path / "x" / "a.zip") as zf:
        names = zf.namelist()
        assert all(n.startswith("a/") and ".." not in n for n in names)
        assert "relu(x) = max(x, 0)" in zf.read("a/INSTRUCTIONS.md").decode()
        assert zf.getinfo("a/run_checks.py").external_attr >> 16 & 0o111


def test_kit_refuses_to_overwrite_and_bad_slugs(fixture_root, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    for target in (tmp_path / "full", tmp_path / "full" / "x"):
        res = invoke("kit", target)
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
        assert "choose a new or empty folder" in res.output
    (tmp_path / "k.zip").write_bytes(b"old")
    res = invoke("kit", tmp_path / "k.zip")
    assert res.exit_code == 2 and (tmp_path / "k.zip").read_bytes() == b"old"
    assert invoke("kit", tmp_path / "no" / "k.zip").exit_code == 2
    res = invoke("kit", tmp_path / "new", "--exercise", "nope")
    assert res.exit_code == 2 and not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    assert invoke("kit", tmp_path / "empty", "--exercise", "tiny").exit_code == 0


def test_kit_refuses_a_catalogue_that_would_leak(tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(FIXTURE_ROOT, root)
    shutil.copy(root / "solutions" / "tiny" / "tiny.py", root / "exercises" / "tiny" / "answer.py")
    monkeypatch.setenv("TORCHDRILL_ROOT", str(root))
    res = invoke("kit", tmp_path / "kit")
    assert res.exit_code == 2 and "kit not written" in res.output and "answer.py" in res.output
    assert not (tmp_path / "kit").exists()


def test_kit_runs_with_plain_pytest(fixture_root, tmp_path):
    assert invoke("kit", tmp_path / "kit").exit_code == 0
    kit = tmp_path / "kit"
    shutil.copy(FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py", kit / "exercises" / "tiny" / "tiny.py")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "exercises/tiny"], cwd=kit, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_from_kit_to_leaderboard(fixture_root, tmp_path):
    """The interviewer's journey with only the README: kit, three candidates, leaderboard."""
    assert invoke("kit", tmp_path / "kit.zip").exit_code == 0
    subs = tmp_path / "subs"
    subs.mkdir()
    answers = {"alice": FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py",
               "bob": SUBS / "partial" / "tiny" / "tiny.py", "carol": None}
    for name, answer in answers.items():
        home = tmp_path / name
        with zipfile.ZipFile(tmp_path / "kit.zip") as zf:
            zf.extractall(home)
        work = home / "kit"
        if answer is not None:
            shutil.copy(answer, work / "exercises" / "tiny" / "tiny.py")
        # exactly what INSTRUCTIONS.md tells the candidate to run
        subprocess.run([sys.executable, "-m", "zipfile", "-c", str(subs / f"{name}.zip"),
                        "exercises"], cwd=work, check=True, timeout=60)
    res = invoke("grade-many", subs, "--out", tmp_path / "board", "-j", "3")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "board" / "leaderboard.csv").read_text())))
    assert [(r["candidate"], r["percent"]) for r in rows] == [
        ("alice", "100.0"), ("bob", "75.0"), ("carol", "0.0")]
    assert (tmp_path / "board" / "leaderboard.html").is_file()
