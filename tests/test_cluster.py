"""grade-many --executor dask on a real cluster on loopback (grader/batch/dask_executor.py).

The main test starts a dask scheduler and two dask workers as separate processes on
127.0.0.1 (random ports), grades a batch of fixture submissions on them and SIGKILLs one worker
while it is grading: every submission must still get exactly one result (one row, one JSON and
one HTML report, no temporary files left), with the right score, and the scheduler must have
rescheduled the task the dead worker was running.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason='dask[distributed] is not installed: pip install -e ".[cluster]"')

from conftest import SUBS, invoke

from grader.batch import dask_executor as cluster
from grader.report import load_result

SLOW_NAMES = ("carol", "dave", "erin", "frank")
SLOW = textwrap.dedent("""
    import time
    time.sleep(SLEEP)

    def add(a, b):
        return a + b

    def relu(t):
        return t.clamp(min=0)
""")


def _slow(folder: Path, name: str, sleep: float) -> None:
    (folder / name / "tiny").mkdir(parents=True)
    (folder / name / "tiny" / "tiny.py").write_text(f"SLEEP = {sleep}\n" + SLOW)


def _copy_fixture(folder: Path, name: str, fixture: str) -> None:
    (folder / name / "tiny").mkdir(parents=True)
    src = SUBS / fixture / "tiny" / "tiny.py"
    (folder / name / "tiny" / "tiny.py").write_text(src.read_text())


@pytest.fixture
def loopback_cluster(tmp_path, fixture_root):
    """A scheduler and two single-threaded workers, each its own process, on 127.0.0.1."""
    sched_file = tmp_path / "scheduler.json"
    env = dict(os.environ, TORCHDRILL_ROOT=str(fixture_root))
    procs = []

    def start(*args):
        with open(tmp_path / f"dask-{len(procs)}.log", "wb") as log:   # the child keeps its copy
            procs.append(subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=tmp_path))

    try:
        start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
              "--no-dashboard", "--scheduler-file", str(sched_file))
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "the dask scheduler did not start"
        for i in range(2):
            start("distributed.cli.dask_worker", "--scheduler-file", str(sched_file),
                  "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                  "--name", f"w{i}")
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_worker_killed_mid_batch(loopback_cluster, tmp_path):
    """`torchdrill grade-many --executor dask --scheduler ADDRESS` in its own process, as an
    interviewer runs it; this test watches the cluster from another client and SIGKILLs the
    worker that is grading a slow candidate. (The batch runs in a separate process because
    two dask clients in one process share an event loop, which is not what users run.)"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    expected = {"alice": 4.0, "bob": 3.0}
    _copy_fixture(subs, "alice", "full")
    _copy_fixture(subs, "bob", "partial")
    for name in SLOW_NAMES:
        _slow(subs, name, sleep=4)
        expected[name] = 4.0
    log = open(tmp_path / "grade-many.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "grader", "grade-many", str(subs), "--out",
                             str(out), "--no-timing", "--executor", "dask", "--scheduler",
                             loopback_cluster, "-j", "1"], stdout=log, stderr=subprocess.STDOUT)
    try:
        with distributed.Client(loopback_cluster, timeout=60) as client:
            pids = client.run(os.getpid)                   # worker address -> process id
            victim = _busy_worker(client, timeout=120)
            os.kill(pids[victim], signal.SIGKILL)
            rescheduled = _rescheduled(client, timeout=60)
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "grade-many.log").read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert rescheduled, "the killed worker was not running any grading task"
    rows = _csv(out / "leaderboard.csv")
    assert sorted(r["candidate"] for r in rows) == sorted(expected)   # exactly one row each
    for row in rows:
        assert row["status"] == "graded", row
        assert float(row["score"]) == expected[row["candidate"]], row
        assert load_result(out / f"{row['candidate']}.json")["score"] == expected[row["candidate"]]
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{n}.json" for n in expected] + [f"{n}.html" for n in expected]
                           + ["leaderboard.csv", "leaderboard.html", "similarity.csv", "similarity.html"])


def _busy_worker(client, timeout: float) -> str:
    """A worker that has been running a slow candidate's task for two seconds: its grading
    child is starting or running the candidate's code."""
    deadline = time.monotonic() + timeout
    since: dict[str, float] = {}
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(k).rsplit("-", 1)[-1] in SLOW_NAMES for k in keys):
                since.setdefault(worker, time.monotonic())
                if time.monotonic() - since[worker] > 2:
                    return worker
            else:
                since.pop(worker, None)
        time.sleep(0.1)
    raise AssertionError("no worker ever started grading a slow candidate")


def _rescheduled(client, timeout: float) -> list[str]:
    """The tasks the scheduler saw on a worker that died (TaskState.suspicious)."""
    def suspicious(dask_scheduler):
        return [str(key) for key, ts in dask_scheduler.tasks.items() if ts.suspicious]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.run_on_scheduler(suspicious)
        if found:
            return found
        time.sleep(0.2)
    return []


def test_cli_local_cluster(fixture_root, tmp_path):
    """Without --scheduler, --executor dask starts (and stops) a local cluster."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    _copy_fixture(subs, "alice", "full")
    _copy_fixture(subs, "bob", "partial")
    res = invoke("grade-many", subs, "--out", out, "--executor", "dask", "--no-timing", "-j", "2")
    assert res.exit_code == 0, res.output
    rows = {r["candidate"]: r for r in _csv(out / "leaderboard.csv")}
    assert set(rows) == {"alice", "bob"}
    assert float(rows["alice"]["score"]) == 4.0 and float(rows["bob"]["score"]) == 3.0


def _csv(path: Path) -> list[dict]:
    import csv
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_unreachable_scheduler_is_one_line_error(fixture_root, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 2)
    subs = tmp_path / "subs"
    _copy_fixture(subs, "alice", "full")
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--no-timing")
    assert res.exit_code == 2, res.output
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in res.output
    assert "Traceback" not in res.output


def test_scheduler_needs_dask_executor(fixture_root, tmp_path):
    subs = tmp_path / "subs"
    _copy_fixture(subs, "alice", "full")
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code == 2
    assert "--scheduler needs --executor dask" in res.output
