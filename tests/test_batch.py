"""grade-many: discovery, safe intake of folders and zips, one candidate never stopping or
skewing the batch, the leaderboard (CSV and HTML)."""

import csv
import io
import json
import os
import shutil
import stat
import threading
import time
import zipfile

import pytest

from grader import batch
from grader.batch import intake as batch_intake
from grader.batch.intake import Rejected, intake
from grader.batch.gate import Gate
from grader.batch.leaderboard import render_leaderboard, to_csv

from conftest import SUBS, invoke


@pytest.fixture
def tiny(fixture_root):
    from grader.catalogue import load_catalogue
    return [load_catalogue()["tiny"]]


def make_zip(path, members: dict, symlinks=()):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


# ----------------------------------------------------------------------------- discovery

def test_discover_names_are_unique_and_safe(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice", "Alice.zip", "leaderboard", ".hidden", "__MACOSX", "../x", "notes.txt",
                 "=cmd|x", "out"):
        p = subs / name.replace("../", "")
        if name.endswith((".zip", ".txt")):
            p.write_bytes(b"")
        else:
            p.mkdir()
    names = [n for n, _ in batch.discover(subs, subs / "out")]
    assert names == ["cmd-x", "alice", "Alice-2", "leaderboard-2", "x"]
    assert batch.ignored_entries(subs) == ["notes.txt"]


# ----------------------------------------------------------------------------- intake

@pytest.mark.parametrize("layout", ["tiny/tiny.py", "exercises/tiny/tiny.py",
                                    "alice/exercises/tiny/tiny.py"])
def test_zip_layouts_and_only_graded_files_are_taken(tiny, tmp_path, layout):
    prefix = layout[:-len("tiny/tiny.py")]
    z = make_zip(tmp_path / "a.zip", {layout: "def add(a, b): return a + b\n",
                                      prefix + "tiny/conftest.py": "raise SystemExit",
                                      "__MACOSX/tiny/tiny.py": "junk"})
    dest = tmp_path / "clean"
    dest.mkdir()
    intake(z, tiny, dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["tiny", "tiny/tiny.py"]
    assert (dest / "tiny" / "tiny.py").read_text() == "def add(a, b): return a + b\n"


@pytest.mark.parametrize("members, symlinks, why", [
    ({"/etc/tiny/tiny.py": "x"}, (), "absolute path"),
    ({"C:/tiny/tiny.py": "x"}, (), "absolute path"),
    ({"tiny/../../tiny.py": "x"}, (), "outside the archive"),
    ({"tiny\\..\\..\\evil.py": "x"}, (), "outside the archive"),
    ({}, [("tiny/tiny.py", "/work/solutions/tiny/tiny.py")], "symbolic link"),
])
def test_hostile_zips_are_rejected(tiny, tmp_path, members, symlinks, why):
    z = make_zip(tmp_path / "h.zip", members, symlinks)
    dest = tmp_path / "clean"
    dest.mkdir()
    with pytest.raises(Rejected, match=why):
        intake(z, tiny, dest)
    assert not any(dest.iterdir())


def test_zip_bombs_and_garbage_are_rejected(tiny, tmp_path, monkeypatch):
    dest = tmp_path / "clean"
    dest.mkdir()
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tiny/tiny.py", b"#" * (3 * 1024 * 1024))         # 3 MB of one byte
    assert bomb.stat().st_size < 20_000
    with pytest.raises(Rejected, match="larger than 2 MB"):
        intake(bomb, tiny, dest)
    monkeypatch.setattr(batch_intake, "MAX_DECLARED_BYTES", 1000)
    with pytest.raises(Rejected, match="zip bomb"):
        intake(bomb, tiny, dest)
    monkeypatch.setattr(batch_intake, "MAX_MEMBERS", 3)
    many = make_zip(tmp_path / "many.zip", {f"f{i}": "" for i in range(4)})
    with pytest.raises(Rejected, match="entries"):
        intake(many, tiny, dest)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Rejected, match="not a readable zip"):
        intake(junk, tiny, dest)
    enc = make_zip(tmp_path / "enc.zip", {"tiny/tiny.py": "x"})
    data = bytearray(enc.read_bytes())
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):                        # set the encrypted bit
        i = data.index(sig)
        off = i + (6 if sig == b"PK\x03\x04" else 8)
        data[off] |= 1
    enc.write_bytes(bytes(data))
    with pytest.raises(Rejected, match="encrypted"):
        intake(enc, tiny, dest)


def test_folder_intake_refuses_links_and_special_files(tiny, tmp_path, monkeypatch):
    secret = tmp_path / "secret.py"
    secret.write_text("def add(a, b): return a + b\n")
    cases = {}
    cases["link"] = tmp_path / "link"
    (cases["link"] / "tiny").mkdir(parents=True)
    (cases["link"] / "tiny" / "tiny.py").symlink_to(secret)
    cases["dirlink"] = tmp_path / "dirlink"
    cases["dirlink"].mkdir()
    (tmp_path / "real").mkdir()
    shutil.copy(secret, tmp_path / "real" / "tiny.py")
    (cases["dirlink"] / "tiny").symlink_to(tmp_path / "real")
    cases["fifo"] = tmp_path / "fifo"
    (cases["fifo"] / "tiny").mkdir(parents=True)
    os.mkfifo(cases["fifo"] / "tiny" / "tiny.py")
    for name, why in (("link", "symbolic link"), ("dirlink", "symbolic link"),
                      ("fifo", "not a regular file")):
        dest = tmp_path / f"clean-{name}"
        dest.mkdir()
        with pytest.raises(Rejected, match=why):
            intake(cases[name], tiny, dest)
    big = tmp_path / "big" / "wrapper" / "tiny"
    big.mkdir(parents=True)
    (big / "tiny.py").write_bytes(b"#" * 100)
    monkeypatch.setattr(batch_intake, "MAX_FILE_BYTES", 99)
    dest = tmp_path / "clean-big"
    dest.mkdir()
    with pytest.raises(Rejected, match="larger than"):
        intake(tmp_path / "big", tiny, dest)                         # found under a wrapper


def test_folder_intake_copies_only_graded_files(tiny, tmp_path):
    dest = tmp_path / "clean"
    dest.mkdir()
    intake(SUBS / "conftest", tiny, dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == ["tiny", "tiny/tiny.py"]
    empty = tmp_path / "clean2"
    empty.mkdir()
    intake(SUBS / "missing", tiny, empty)
    assert not any(empty.iterdir())


# ----------------------------------------------------------------------------- one candidate

def test_grade_one_writes_reports_and_never_raises(fixture_root, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    row = batch.grade_one(str(SUBS / "partial"), str(out), {"name": "bob", "timing": False})
    assert row["status"] == "graded" and row["score"] == 3.0 and row["pct"] == 75.0
    assert row["exercises"]["tiny"] == {"score": 3.0, "max_score": 4.0, "status": "graded",
                                        "zeroed": False}
    result = json.loads((out / "bob.json").read_text())
    assert result["submission"] == str(SUBS / "partial")          # not the temporary copy
    assert "def relu" in result["exercises"][0]["sources"]["tiny.py"]
    assert "relu keeps float64" in (out / "bob.html").read_text()

    from grader import report
    monkeypatch.setattr(report, "render_html", lambda *a, **k: 1 / 0)
    row = batch.grade_one(str(SUBS / "partial"), str(out), {"name": "eve", "timing": False})
    assert row["status"] == "error" and "ZeroDivisionError" in row["error"]
    assert not (out / "eve.json").exists(), "no result without its report"


def test_gate_runs_timing_alone():
    gate, log, lock = Gate(), [], threading.Lock()

    def work(kind, i):
        ctx = gate.exclusive() if kind == "timing" else gate.shared()
        with ctx:
            with lock:
                log.append((kind, "in"))
            time.sleep(0.02)
            with lock:
                log.append((kind, "out"))

    threads = [threading.Thread(target=work, args=("timing" if i % 3 == 0 else "check", i))
               for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inside = []
    for kind, what in log:
        if what == "in":
            assert "timing" not in inside, "something ran during a timing run"
            assert kind != "timing" or not inside, "timing started while checks ran"
            inside.append(kind)
        else:
            inside.remove(kind)


# ----------------------------------------------------------------------------- the CLI

def _subs(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(SUBS / "full", subs / "alice")
    make_zip(subs / "bob.zip", {"bob/tiny/tiny.py": (SUBS / "partial" / "tiny" / "tiny.py").read_text()})
    shutil.copytree(SUBS / "hang", subs / "dave")
    make_zip(subs / "eve.zip", {"tiny/tiny.py": "def add(a, b): return a + b\n", "../evil.py": "x"})
    (subs / "frank" / "tiny").mkdir(parents=True)
    (subs / "frank" / "tiny" / "tiny.py").symlink_to(
        SUBS.parent / "root" / "solutions" / "tiny" / "tiny.py")
    shutil.copytree(SUBS / "segfault", subs / "=mallory")
    (subs / "zoe.tar.gz").write_bytes(b"")
    return subs


def test_grade_many_end_to_end(fixture_root, tmp_path):
    subs = _subs(tmp_path)
    out = tmp_path / "out"
    started = time.monotonic()
    res = invoke("grade-many", subs, "--out", out, "-j", "3")
    elapsed = time.monotonic() - started
    assert res.exit_code == 0, res.output
    progress = [line for line in res.stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 6 and progress[-1].startswith("[6/6]")
    assert "skipping zoe.tar.gz: not a folder or a .zip" in res.stderr
    assert elapsed < 45, "a hanging candidate costs its own time limit, not the batch's"

    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    by = {r["candidate"]: r for r in rows}
    assert [r["candidate"] for r in rows][:3] == ["alice", "bob", "dave"]
    assert by["alice"]["percent"] == "100.0" and by["alice"]["tiny"] == "4"
    assert by["bob"]["score"] == "3"
    assert by["eve"]["status"] == "rejected" and "outside the archive" in by["eve"]["error"]
    assert by["frank"]["status"] == "rejected" and "symbolic link" in by["frank"]["error"]
    assert by["frank"]["score"] == "0", "a link to the reference must not earn its points"
    assert by["mallory"]["status"] == "graded", "names are made file- and CSV-safe"
    assert set(rows[0]) >= {"rank", "tiny", "flags", "speedup_geomean", "duration_s", "report"}
    for name in ("alice", "bob", "dave", "eve", "frank", "mallory"):
        assert (out / f"{name}.json").is_file() and (out / f"{name}.html").is_file()

    # the hang and the crash cost only their own candidates: alice scores what she scores alone
    alone = invoke("grade", SUBS / "full")
    assert "Score: 4.00 / 4.00" in alone.output

    board = (out / "leaderboard.html").read_text()
    assert board.count("data-candidate=") == 6
    csp = board.split('Content-Security-Policy" content="')[1].split('"')[0]
    from grader.report.leaderboard_view import script_hash, sort_script
    assert f"script-src '{script_hash(sort_script())}'" in csp
    assert f"<script>{sort_script()}</script>" in board

    # a rerun into the same folder is allowed and overwrites
    again = tmp_path / "again"
    again.mkdir()
    shutil.copytree(SUBS / "full", again / "zed")
    assert invoke("grade-many", again, "--out", out, "--exercise", "tiny").exit_code == 0
    assert "zed" in (out / "leaderboard.csv").read_text()


def test_grade_many_usage_errors(fixture_root, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    res = invoke("grade-many", empty, "--out", tmp_path / "o1")
    assert res.exit_code == 2 and "no submissions" in res.output
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    res = invoke("grade-many", SUBS, "--out", other)
    assert res.exit_code == 2 and "not empty" in res.output
    res = invoke("grade-many", SUBS, "--out", tmp_path / "o2", "--exercise", "nope")
    assert res.exit_code == 2 and "unknown exercise 'nope'" in res.output
    res = invoke("grade-many", tmp_path / "absent", "--out", tmp_path / "o3")
    assert res.exit_code == 2
    with pytest.raises(Exception, match="unknown executor"):
        batch.run_batch(SUBS, tmp_path / "o4", {}, 1, executor="nope")


def test_csv_and_html_from_rows(fixture_root):
    from report_samples import sample_rows
    rows, exercises = sample_rows()
    text = to_csv(rows, exercises)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0][:6] == ["rank", "candidate", "status", "score", "max_score", "percent"]
    assert len(parsed) == len(rows) + 1 and all(len(r) == len(parsed[0]) for r in parsed)
    assert any(r[1] == "'=HYPERLINK(\"x\")" for r in parsed)
    html = render_leaderboard(rows, exercises, {"created": "now", "version": "0.1.0",
                                                      "candidates": len(rows), "device": "cpu",
                                                      "timing": True, "graded": 4, "problems": 1})
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'id="problems"' in html


# ----------------------------------------------------------------------------- as data, --resume

def test_submission_travels_as_data(tiny, tmp_path):
    payload = batch_intake.read_submission(SUBS / "conftest", tiny)
    assert list(payload["files"]) == ["tiny/tiny.py"]            # only the graded files
    z = make_zip(tmp_path / "h.zip", {"tiny/tiny.py": "x", "../evil.py": "x"})
    assert "outside the archive" in batch_intake.read_submission(z, tiny)["rejected"]
    dest = tmp_path / "dest"
    dest.mkdir()
    batch_intake.write_submission(payload, dest)
    assert (dest / "tiny" / "tiny.py").read_bytes() == payload["files"]["tiny/tiny.py"]
    with pytest.raises(Rejected):
        batch_intake.write_submission({"files": {"../x/y.py": b""}}, dest)
    same = batch_intake.read_submission(SUBS / "conftest", tiny)
    assert batch_intake.payload_hash(same) == batch_intake.payload_hash(payload)
    assert batch_intake.payload_hash(batch_intake.read_submission(SUBS / "full", tiny)) \
        != batch_intake.payload_hash(payload)


def test_catalogue_archive_is_verified(fixture_root, tmp_path, monkeypatch):
    from grader.catalogue import archive
    monkeypatch.setenv(archive.CACHE_ENV, str(tmp_path / "cache"))
    digest, data = archive.catalogue_hash(fixture_root), archive.pack(fixture_root)
    assert digest.startswith("sha256:") and digest == archive.catalogue_hash(fixture_root)
    assert archive.catalogue_hash(fixture_root, version="9.9") != digest   # the grader counts
    elsewhere = tmp_path / "other-install"
    (elsewhere / "exercises").mkdir(parents=True)
    root = archive.ensure(digest, data, installed=elsewhere)                # received
    assert root == tmp_path / "cache" / "catalogues" / digest[7:]
    assert archive.catalogue_hash(root) == digest
    assert archive.ensure(digest, None, installed=elsewhere) == root        # cached, re-hashed
    assert archive.ensure(digest, None, installed=fixture_root) == fixture_root   # installed
    hidden = root / "solutions" / "tiny" / "test_hidden.py"                 # a changed copy ...
    hidden.write_text("def test_nothing(): pass\n")
    with pytest.raises(archive.CatalogueMismatch, match="does not have catalogue"):
        archive.ensure(digest, None, installed=elsewhere)
    assert archive.ensure(digest, data, installed=elsewhere) == root        # ... is replaced
    assert archive.catalogue_hash(root) == digest
    monkeypatch.setattr("grader.__version__", "0.0.0+other")
    with pytest.raises(archive.CatalogueMismatch,
                       match=r"not the client's \w{12} \(torchdrill 0.0.0\+other here, 0.1.0 on"):
        archive.ensure(digest, data, client_version="0.1.0", installed=elsewhere)


def test_hostile_catalogue_archive_is_refused(tmp_path, monkeypatch):
    import io
    import tarfile
    from grader.catalogue import archive
    monkeypatch.setenv(archive.CACHE_ENV, str(tmp_path / "cache"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("exercises/../../evil.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(archive.CatalogueMismatch, match="holds 'exercises/../../evil.py'"):
        archive.ensure("sha256:" + "0" * 64, buf.getvalue(), installed=tmp_path)
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "cache" / "evil.py").exists()


def test_no_worker_accepting_is_one_line(fixture_root):
    from grader.batch import dask_executor
    from grader.errors import InputError

    class Refusing:
        def wait_for_workers(self, n, timeout):
            pass

        def run(self, fn, *args, on_error):
            return {"tcp://10.0.0.1:1": {"ok": False, "reason": "its catalogue would be X"}}

    lines = []
    with pytest.raises(InputError, match="no dask worker at tcp://s:1 can grade with catalogue "
                                         r"\w{12}: worker tcp://10.0.0.1:1 refused: its catalogue"):
        dask_executor.prepare_workers(Refusing(), ("sha256:" + "1" * 64, fixture_root),
                                      "tcp://s:1", lines.append)
    assert lines == ["worker tcp://10.0.0.1:1 refused: its catalogue would be X"]


def test_resume_grades_only_what_changed(fixture_root, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    for name in ("alice", "bob", "carol"):
        shutil.copytree(SUBS / "full", subs / name)
    assert invoke("grade-many", subs, "--out", out, "--no-timing", "-j", "2").exit_code == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("[a-z]*.json")}
    result = json.loads((out / "alice.json").read_text())
    assert result["catalogue"].startswith("sha256:") and set(result["batch"]) == {"submission", "arguments"}
    shutil.copy(SUBS / "partial" / "tiny" / "tiny.py", subs / "bob" / "tiny" / "tiny.py")
    (out / "carol.json").unlink()                                   # lost in an interruption
    res = invoke("grade-many", subs, "--out", out, "--no-timing", "--resume")
    assert res.exit_code == 0, res.output
    assert "resuming: 1 of 3 already graded" in res.stderr
    graded = sorted(line.split()[1] for line in res.stderr.splitlines() if line.startswith("["))
    assert graded == ["bob", "carol"]
    assert (out / "alice.json").stat().st_mtime_ns == before["alice.json"]
    rows = {r["candidate"]: r for r in csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text()))}
    assert (rows["alice"]["score"], rows["bob"]["score"], rows["carol"]["score"]) == ("4", "3", "4")
    res = invoke("grade-many", subs, "--out", out, "--no-timing", "--audience", "candidate",
                 "--resume")                                        # other arguments: all again
    assert "resuming: 0 of 3 already graded" in res.stderr
