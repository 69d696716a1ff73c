"""Time-boxed kits (`kit --time-box`): the kit's run_checks.py logs the start and every run in
a hash-chained log; `grade` checks it into the result's `timeline` and the interviewer's report.
End to end with real subprocesses first (kit, run_checks.py, the zip INSTRUCTIONS.md asks for,
grade, one edited line, grade-many), then each kind of damage on a log written in-process."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURE_ROOT, SUBS, invoke
from grader.kinds import TimeBox
from grader.practice import timebox, watch
from grader.report import render_html
from grader.schema import validate_result

ANSWER = FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py"


def run_checks(kit: Path, *args) -> subprocess.CompletedProcess:
    """The kit's own run_checks.py, as the candidate runs it (a real process)."""
    return subprocess.run([sys.executable, "run_checks.py", *args], cwd=kit, capture_output=True,
                          text=True, timeout=180)


def grade(sub: Path, tmp_path: Path, *extra) -> dict:
    out = tmp_path / "result.json"
    res = invoke("grade", sub, "--json", out, "--no-timing", "-j", "1", *extra)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text())


def kinds(timeline: dict) -> set[str]:
    return {f["kind"] for f in timeline["flags"]}


def test_time_boxed_kit_to_grade_intact_then_one_edited_line_flagged(fixture_root, tmp_path):
    res = invoke("kit", tmp_path / "kit", "--time-box", "2h")
    assert res.exit_code == 0, res.output
    kit_id = json.loads((tmp_path / "kit/exercises/.torchdrill/timebox.json").read_text())["kit_id"]
    assert f"kit id {kit_id}" in res.output
    kit = tmp_path / "kit"
    assert "python run_checks.py --start" in (kit / "INSTRUCTIONS.md").read_text()

    started = run_checks(kit, "--start")
    assert started.returncode == 0 and "Time box: 2 h, started now" in started.stdout
    first = run_checks(kit)                                  # the stub: public tests fail
    assert first.returncode == 1 and "(run 1 logged)" in first.stdout
    shutil.copy(ANSWER, kit / "exercises" / "tiny" / "tiny.py")
    second = run_checks(kit)
    assert second.returncode == 0 and "(run 2 logged)" in second.stdout, second.stdout
    subprocess.run([sys.executable, "-m", "zipfile", "-c", str(tmp_path / "alice.zip"), "exercises"],
                   cwd=kit, check=True, timeout=60)          # exactly as INSTRUCTIONS.md says
    with zipfile.ZipFile(tmp_path / "alice.zip") as zf:
        assert "exercises/.torchdrill/timebox.jsonl" in zf.namelist()
        zf.extractall(tmp_path / "alice")

    sub = tmp_path / "alice" / "exercises"
    result = grade(sub, tmp_path)
    tl = result["timeline"]
    assert result["score"] == 4.0 and validate_result(result) == ""
    assert list(result["exercises"][0]["sources"]) == ["tiny.py"]   # the log is no candidate file
    assert tl["chain"] == "intact" and tl["flags"] == [], tl["flags"]
    assert (tl["kit_id"], tl["time_box_s"], tl["runs"], tl["entries"]) == (kit_id, 7200.0, 2, 3)
    assert tl["started_via"] == "run_checks.py --start"
    assert list(tl["first_pass"]) == ["tiny"] and tl["first_pass"]["tiny"]["line"] == 3
    assert tl["last_edit"]["line"] == 3 and not tl["edited_after_last_run"]
    assert 0 <= tl["elapsed_s"] < 600
    html = (tmp_path / "r.html")
    assert invoke("report", tmp_path / "result.json", "--html", html).exit_code == 0
    page = html.read_text()
    assert 'id="timeline"' in page and "chain intact" in page and kit_id in page
    assert "<svg" in page.split('id="timeline"')[1].split("</section>")[0]
    assert "tamper-proof" in page
    assert invoke("report", tmp_path / "result.json", "--html", tmp_path / "c.html",
                  "--audience", "candidate").exit_code == 0
    candidate = (tmp_path / "c.html").read_text()
    assert 'id="timeline"' not in candidate and kit_id not in candidate

    # the done criterion: edit one line of the log, and grade flags it; the score stays
    log = sub / ".torchdrill" / "timebox.jsonl"
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace('"failed":["tiny"]', '"failed":[]')
    log.write_text("\n".join(lines) + "\n")
    edited = grade(sub, tmp_path)
    assert edited["score"] == 4.0
    assert edited["timeline"]["chain"] == "broken"
    assert [f["detail"] for f in edited["timeline"]["flags"]] == [
        "line 3 does not follow line 2: line 2 was edited, or lines were removed or inserted there"]

    # grade-many takes the zip: intake carries the log beside the exercise folders
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(tmp_path / "alice.zip", subs / "alice.zip")
    res = invoke("grade-many", subs, "--out", tmp_path / "board", "-j", "1", "--no-timing",
                 "--time-box", "2h")
    assert res.exit_code == 0, res.output
    batch = json.loads((tmp_path / "board" / "alice.json").read_text())
    assert batch["timeline"]["chain"] == "intact" and batch["timeline"]["runs"] == 2
    assert 'id="timeline"' in (tmp_path / "board" / "alice.html").read_text()


def test_a_submission_without_its_log_gets_a_clear_line(fixture_root, tmp_path):
    result = grade(SUBS / "full", tmp_path, "--time-box", "90m")
    tl = result["timeline"]
    assert result["score"] == 4.0 and tl["chain"] == "absent" and tl["time_box_s"] == 5400.0
    assert kinds(tl) == {TimeBox.NO_LOG} and "the grade is not affected" in tl["flags"][0]["detail"]
    assert "timeline" not in grade(SUBS / "full", tmp_path)     # not time-boxed, not asked: none
    page = render_html(result, "interviewer")
    assert "no log" in page and "no time-box log in the submission" in page


# ----------------------------------------------------------------------------- damage, in-process

@pytest.fixture
def boxed(fixture_root, tmp_path):
    """A submission folder from a 1 h kit, the clock started an hour after the kit was made."""
    from grader.catalogue import load_catalogue
    exercises = list(load_catalogue().values())
    folder = tmp_path / "sub"
    (folder / "tiny").mkdir(parents=True)
    shutil.copy(FIXTURE_ROOT / "exercises" / "tiny" / "tiny.py", folder / "tiny" / "tiny.py")
    settings = timebox.kit_settings(exercises, 3600)
    settings["created_t"] -= 86400             # a day ago: no entry lies in the future
    (folder / ".torchdrill").mkdir()
    (folder / ".torchdrill" / "timebox.json").write_text(json.dumps(settings))
    t0 = settings["created_t"] + 3600

    def log(event, at, passed=(), folder=folder):
        files = watch.file_hashes(folder, settings)
        extra = ({"kit_id": settings["kit_id"], "time_box_s": 3600.0, "via": "test"}
                 if event == "start" else {"passed": list(passed), "failed": []})
        watch._append(folder, {"event": event, "t": t0 + at, "files": files, **extra})

    def check(expected_box=None):
        tl = timebox.verify(folder, exercises, expected_box)
        assert validate_result({**_shell(), "timeline": tl}) == ""
        return tl

    log("start", 0)
    shutil.copy(ANSWER, folder / "tiny" / "tiny.py")
    log("run", 600, ["tiny"])
    log("run", 1200, ["tiny"])
    return {"folder": folder, "log": log, "check": check, "path": folder / ".torchdrill" / "timebox.jsonl",
            "exercises": exercises}


def _shell() -> dict:
    return json.loads((SUBS / "full" / "expected_result.json").read_text())


def test_intact_log_in_process(boxed):
    tl = boxed["check"]()
    assert tl["chain"] == "intact" and tl["flags"] == [] and tl["runs"] == 2
    assert tl["elapsed_s"] == pytest.approx(1200, abs=1) and tl["last_edit"]["line"] == 2


def test_crlf_line_endings_are_not_tampering(boxed):
    path = boxed["path"]
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))   # a Windows unzip or editor
    assert boxed["check"]()["flags"] == []


def test_check_and_watch_in_a_time_boxed_kit_log_their_runs(fixture_root, tmp_path):
    assert invoke("kit", tmp_path / "kit", "--time-box", "30m").exit_code == 0
    work = tmp_path / "kit" / "exercises"
    assert invoke("check", "--dir", work).exit_code == 1          # the stub fails its tests
    res = invoke("watch", "--dir", work, "--once")
    assert "(run 2 logged)" in res.output, res.output
    vias = [json.loads(line)["via"] for line in (work / ".torchdrill" / "timebox.jsonl").open()]
    assert vias == ["torchdrill check (first run)", "torchdrill check", "torchdrill watch"]
    from grader.catalogue import load_catalogue
    tl = timebox.verify(work, list(load_catalogue().values()))
    assert tl["chain"] == "intact" and tl["runs"] == 2 and tl["first_pass"] == {}


def test_a_truncated_log_is_flagged(boxed):
    path = boxed["path"]
    text = path.read_text()
    path.write_text(text[:-40])                              # cut in the middle of the last line
    tl = boxed["check"]()
    assert tl["chain"] == "broken" and TimeBox.TRUNCATED in kinds(tl)
    assert any("cut off in the middle" in f["detail"] for f in tl["flags"])
    path.write_text("".join(text.splitlines(keepends=True)[:-1]))   # the last whole line removed
    tl = boxed["check"]()
    assert tl["chain"] == "broken" and tl["runs"] == 1
    assert any("its head records 3: lines were removed from the end" in f["detail"]
               for f in tl["flags"])


def test_a_line_removed_from_the_middle_is_flagged(boxed):
    lines = boxed["path"].read_text().splitlines(keepends=True)
    boxed["path"].write_text(lines[0] + lines[2])
    tl = boxed["check"]()
    assert tl["chain"] == "broken" and kinds(tl) >= {TimeBox.CHAIN}
    assert any("carries number 2, not 1" in f["detail"] for f in tl["flags"])


def test_a_clock_going_backwards_is_flagged(boxed):
    boxed["log"]("run", 300, ["tiny"])                       # 15 min before the previous run
    tl = boxed["check"]()
    assert kinds(tl) == {TimeBox.CLOCK} and tl["chain"] == "intact"
    assert "15 min earlier than line 3: the clock went backwards" in tl["flags"][0]["detail"]


def test_a_start_before_the_kit_was_made_is_flagged(boxed):
    boxed["log"]("run", -3 * 3600)
    assert any("before the kit was made" in f["detail"] for f in boxed["check"]()["flags"])


def test_an_overrun_is_flagged_not_zeroed(boxed):
    boxed["log"]("run", 3600 + 17 * 60, ["tiny"])
    tl = boxed["check"]()
    assert kinds(tl) == {TimeBox.OVERRUN} and tl["chain"] == "intact"
    assert tl["flags"][0]["detail"] == ("the last logged run came 1 h 17 min after the start: "
                                        "17 min past the 1 h box")
    page = render_html({**_shell(), "timeline": tl}, "interviewer")
    assert "overrun: 17 min past the box" in page and "(17 min over)" in page
    # and against the interviewer's own box, when grade is told one
    assert boxed["check"](2 * 3600)["flags"][0]["kind"] == TimeBox.KIT


def test_a_log_that_does_not_match_the_submitted_files_is_flagged(boxed):
    (boxed["folder"] / "tiny" / "tiny.py").write_text("def relu(t):\n    return t.clamp(min=0)\n")
    tl = boxed["check"]()
    assert kinds(tl) == {TimeBox.FILES} and tl["edited_after_last_run"]
    assert tl["flags"][0]["detail"].startswith("tiny/tiny.py differs from what the last logged run saw")


def test_a_log_from_another_kit_is_flagged(boxed):
    settings = boxed["folder"] / ".torchdrill" / "timebox.json"
    data = json.loads(settings.read_text())
    settings.write_text(json.dumps(dict(data, kit_id="0123456789abcdef")))
    tl = boxed["check"]()
    assert tl["chain"] == "broken" and kinds(tl) == {TimeBox.KIT}
    assert tl["kit_id"] == data["kit_id"]                    # what the log says, shown as is


@pytest.mark.parametrize("junk", [b"\x00\xff\xfe garbage\n", b"[1, 2]\n", b'{"n": "\\ud800"}\n',
                                  b"{" * 10_000 + b"\n", b"\n\n\n", b"x" * (3 * 1024 * 1024)])
def test_a_nonsense_log_never_crashes(boxed, junk):
    boxed["path"].write_bytes(junk)
    (boxed["folder"] / ".torchdrill" / "timebox.head").write_bytes(b"\xff")
    result = {**_shell()}
    tl = timebox.attach_timeline(result, boxed["folder"], boxed["exercises"])
    assert tl["chain"] == "broken" and tl["flags"] and validate_result(result) == ""
    assert len(tl["flags"]) <= 20
    assert "Timeline" in render_html(result, "interviewer")


def test_folder_intake_carries_the_log_but_never_follows_a_link(boxed, tmp_path):
    from grader.batch.intake import intake
    wrapped = tmp_path / "alice" / "exercises"
    shutil.copytree(boxed["folder"], wrapped)
    (tmp_path / "clean").mkdir()
    intake(tmp_path / "alice", boxed["exercises"], tmp_path / "clean")
    assert sorted(p.name for p in (tmp_path / "clean" / ".torchdrill").iterdir()) == [
        "timebox.head", "timebox.json", "timebox.jsonl"]
    assert timebox.verify(tmp_path / "clean", boxed["exercises"])["chain"] == "intact"
    log = wrapped / ".torchdrill" / "timebox.jsonl"
    log.unlink()
    log.symlink_to(boxed["path"])
    (tmp_path / "clean2").mkdir()
    intake(tmp_path / "alice", boxed["exercises"], tmp_path / "clean2")
    assert not (tmp_path / "clean2" / ".torchdrill" / "timebox.jsonl").exists()
    assert kinds(timebox.verify(tmp_path / "clean2", boxed["exercises"])) == {TimeBox.NO_LOG}


def test_run_checks_without_a_time_box_logs_nothing(fixture_root, tmp_path):
    assert invoke("kit", tmp_path / "kit").exit_code == 0
    assert run_checks(tmp_path / "kit", "--start").returncode == 2
    run_checks(tmp_path / "kit")
    assert not (tmp_path / "kit" / "exercises" / ".torchdrill").exists()


@pytest.mark.parametrize("text, seconds", [("3h", 10800), ("90m", 5400), ("2h30m", 9000),
                                           ("1.5h", 5400), ("45 min", 2700)])
def test_time_box_durations(text, seconds):
    assert timebox.parse_time_box(text) == seconds


@pytest.mark.parametrize("bad", ["3", "0h", "3 days", "-1h", "h", "15d"])
def test_a_bad_time_box_is_one_line_and_exit_2(fixture_root, tmp_path, bad):
    res = invoke("kit", tmp_path / "kit", "--time-box", bad)
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    assert "--time-box" in res.output and not (tmp_path / "kit").exists()
