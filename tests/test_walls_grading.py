"""The OS wall end to end, through `torchdrill grade`: what in-process defences cannot see
(PyTorch's own C++ file I/O, a shared library's constructor) stops at the namespaces.

Each attack is a "tiny" submission whose answers are right only if the attack works; with the
walls on it earns nothing and changes nothing on disk. (tests/test_walls.py proves the walls
module alone, with no audit hook; this file proves the grader runs every child behind them.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import textwrap
import threading

import pytest

from grader.isolation import walls

from conftest import FIXTURE_ROOT, grade_json, invoke

pytestmark = pytest.mark.skipif(walls.unavailable_reason() is not None,
                                reason=f"no namespaces here: {walls.unavailable_reason()}")
REFERENCE = FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py"
WRONG = "def add(a, b):\n    return 0\n\n\ndef relu(t):\n    return t\n"


def _submission(tmp_path, code: str, name: str = "sub"):
    folder = tmp_path / name / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.py").write_text(textwrap.dedent(code))
    return folder.parent


def _native_read(path) -> str:
    """Candidate code that reads `path` through torch's C++ I/O (no audit event sees it) and
    answers right only if that worked."""
    return f'''
        import torch
        try:
            data = torch.from_file({str(path)!r}, shared=False, size={os.path.getsize(path)},
                                   dtype=torch.uint8)
            seen = b"def add" in bytes(data.tolist())
        except Exception:
            seen = False

        def add(a, b):
            return a + b if seen else 0

        def relu(t):
            return t.clamp(min=0) if seen else t
    '''


def test_ci_grades_behind_namespaces():
    """In CI (as root on Linux) `auto` must mean namespaces: the walls are not optional there."""
    from grader.engine.environment import resolve_isolation
    if os.environ.get("CI"):
        assert resolve_isolation("auto", "cpu") == ("namespaces", "")


def test_result_records_the_isolation(fixture_root, tmp_path):
    result = grade_json(_submission(tmp_path, REFERENCE.read_text()), tmp_path, "--isolation", "namespaces")
    assert result["environment"]["isolation"] == "namespaces"
    assert result["score"] == result["max_score"]          # honest code still earns everything


def test_native_read_of_the_reference_earns_nothing(fixture_root, tmp_path):
    sub = _submission(tmp_path, _native_read(REFERENCE))
    result = grade_json(sub, tmp_path)
    assert result["environment"]["isolation"] == "namespaces"
    assert result["score"] == 0.0, result["exercises"][0]["checks"]
    # The wall is what stops it: without it, the in-process sandbox never sees the read.
    exposed = grade_json(sub, tmp_path, "--isolation", "process")
    assert exposed["score"] == exposed["max_score"]


def test_native_read_of_the_hidden_checks_after_collection_fails(fixture_root, tmp_path):
    """At import (after collection) the hidden checks are gone from the child's view."""
    code = '''
        import torch
        try:
            torch.from_file("../checks/test_hidden.py", shared=False, size=10, dtype=torch.uint8)
            seen = True
        except Exception:
            seen = False

        def add(a, b):
            return a + b if not seen else 0

        def relu(t):
            return t.clamp(min=0)
    '''
    result = grade_json(_submission(tmp_path, code), tmp_path)
    checks = {c["id"].split("::")[1]: c["outcome"] for c in result["exercises"][0]["checks"]}
    assert checks["test_add_small"] == "passed"              # seen stayed False


def test_native_write_outside_the_workspace_changes_nothing(fixture_root, tmp_path):
    """torch.from_file(shared=True) is a writable memory map: under the walls the file the
    candidate aims at (here a stand-in for the grader's source) is not even there."""
    target = tmp_path / "outside" / "victim.py"
    target.parent.mkdir()
    target.write_text("ORIGINAL = True\n")
    os.chmod(target.parent, 0o777)
    os.chmod(target, 0o666)                                  # writable by anyone: only the wall stops it
    code = f'''
        import torch
        try:
            t = torch.from_file({str(target)!r}, shared=True, size=16, dtype=torch.uint8)
            t[:] = ord("X")
        except Exception:
            pass
        def add(a, b):
            return a + b
        def relu(t):
            return t.clamp(min=0)
    '''
    grade_json(_submission(tmp_path, code), tmp_path)
    assert target.read_text() == "ORIGINAL = True\n"


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (.ci/run installs gcc)")
def test_a_shared_library_never_runs_its_constructor_and_zeroes(fixture_root, tmp_path):
    marker = tmp_path / "constructor-ran"
    os.chmod(tmp_path, 0o777)
    c_file = tmp_path / "evil.c"
    c_file.write_text('#include <stdio.h>\n__attribute__((constructor)) static void boom(void) {\n'
                      f'  FILE *f = fopen("{marker}", "w"); if (f) {{ fputs("ran", f); fclose(f); }}\n}}\n')
    so = tmp_path / "evil.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(c_file)], check=True)
    payload = so.read_bytes()
    code = f'''
        import os, torch
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.path.join(here, "helper.so")
        with open(path, "wb") as f:
            f.write({payload!r})
        for load in (torch.ops.load_library, __import__("ctypes").CDLL):
            try:
                load(path)
            except Exception:
                pass
        def add(a, b):
            return a + b
        def relu(t):
            return t.clamp(min=0)
    '''
    result = grade_json(_submission(tmp_path, code), tmp_path)
    ex = result["exercises"][0]
    assert not marker.exists()
    assert ex["zeroed"] and "native-code" in ex["zeroed_by"] and ex["score"] == 0.0


def test_a_loopback_connection_fails(fixture_root, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    got = []

    def accept():
        for _ in range(100):
            try:
                got.append(server.accept())
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    code = f'''
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"hello")
        except Exception:
            pass
        def add(a, b):
            return a + b
        def relu(t):
            return t.clamp(min=0)
    '''
    grade_json(_submission(tmp_path, code), tmp_path)
    server.close()
    thread.join(timeout=30)
    assert got == []


def test_grade_many_candidates_cannot_read_each_other(fixture_root, tmp_path):
    """Mallory reads Alice's submission natively by its absolute path: nothing comes back."""
    subs = tmp_path / "subs"
    alice = subs / "alice" / "tiny"
    alice.mkdir(parents=True)
    shutil.copyfile(REFERENCE, alice / "tiny.py")
    mallory = subs / "mallory" / "tiny"
    mallory.mkdir(parents=True)
    (mallory / "tiny.py").write_text(textwrap.dedent(_native_read(alice / "tiny.py")))
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--no-timing", "-j", "2")
    assert res.exit_code == 0, res.output
    board = {r["candidate"]: r for r in _rows(tmp_path / "out" / "leaderboard.csv")}
    assert float(board["alice"]["score"]) == 4.0
    assert float(board["mallory"]["score"]) == 0.0
    saved = json.loads((tmp_path / "out" / "mallory.json").read_text())
    assert saved["environment"]["isolation"] == "namespaces"


def _rows(path):
    import csv
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_isolation_namespaces_unavailable_is_exit_2(fixture_root, tmp_path, monkeypatch):
    monkeypatch.setattr(walls, "unavailable_reason", lambda: "user namespaces are disabled (test)")
    res = invoke("grade", _submission(tmp_path, REFERENCE.read_text()), "--isolation", "namespaces")
    assert res.exit_code == 2 and "user namespaces are disabled (test)" in res.output
    res = invoke("grade", _submission(tmp_path, REFERENCE.read_text(), "again"), "--json", tmp_path / "r.json")
    assert res.exit_code == 0 and "isolation: process only (user namespaces are disabled (test))" in res.output
    assert json.loads((tmp_path / "r.json").read_text())["environment"]["isolation"] == "process"
