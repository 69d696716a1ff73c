"""grade-many --executor dask on a real cluster without a shared filesystem (grader/batch/dask_executor.py).

One cluster for the module: a dask scheduler and two dask workers, each its own process on
127.0.0.1 (random ports). Each worker runs in its own mount namespace with a tmpfs over the
client's folder (the submissions and every OUT) and over tests/tiny_catalogue (the catalogue
the client grades with), and without TORCHDRILL_ROOT: it can see none of them, so the
submissions, the catalogue and the results must travel as data. The tests grade a dozen
submissions (folders and zips, hostile ones among them) and compare the leaderboard with the
local executor's, interrupt the client and --resume, refuse a worker running another grader
version, and SIGKILL a worker mid-batch. Skipped, with the reason, without dask or unshare.
"""

import collections
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

distributed = pytest.importorskip(
    "distributed", reason='dask[distributed] is not installed: pip install -e ".[cluster]"')

from conftest import FIXTURE_ROOT, SUBS, invoke

from grader.batch import dask_executor as cluster_mod
from grader.catalogue.archive import catalogue_hash, short
from grader.report import load_result

SLOW_NAMES = ("ivan", "judy")
SLOW = textwrap.dedent("""
    import time
    time.sleep(SLEEP)

    def add(a, b):
        return a + b

    def relu(t):
        return t.clamp(min=0)
""")


def _unshare_problem() -> str:
    if not shutil.which("unshare"):
        return "unshare(1) is not installed"
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            "mount -t tmpfs none /mnt"], capture_output=True, text=True)
    if probe.returncode:
        return f"no private mount namespace here: {probe.stderr.strip()[:200]}"
    return ""


class Cluster:
    """Processes of one loopback cluster; workers cannot see the folders in `hidden`."""

    def __init__(self, base: Path, hidden: list[Path]):
        self.base, self.hidden, self.procs, self.workers = base, hidden, [], {}
        self.address = None

    def _start(self, name: str, argv: list[str], env: dict, cwd: Path):
        with open(self.base / f"{name}.log", "wb") as log:   # the child keeps its copy
            proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        self.procs.append(proc)
        return proc

    def start_scheduler(self):
        sched_file = self.base / "scheduler.json"
        self._start("scheduler", [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                                  "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file",
                                  str(sched_file)], _env(), self.base)
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), "the dask scheduler did not start"
        time.sleep(0.2)                                   # written, then read whole
        self.address = json.loads(sched_file.read_text())["address"]

    def start_worker(self, name: str, *extra: str):
        home = self.base / name
        home.mkdir(exist_ok=True)
        mounts = " && ".join(f'mount -t tmpfs -o size=1m none "{p}"' for p in self.hidden)
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                f'{mounts} && exec "$@"', "sh", sys.executable, "-m", "distributed.cli.dask_worker",
                self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                "--no-dashboard", "--name", name, *extra]
        self.workers[name] = self._start(name, argv, _env(TORCHDRILL_CACHE=str(home / "cache")), home)

    def wait_for(self, count: int):
        with distributed.Client(self.address, timeout=60) as client:
            client.wait_for_workers(count, timeout=90)
            deadline = time.monotonic() + 30
            while len(client.scheduler_info(n_workers=-1)["workers"]) != count:
                assert time.monotonic() < deadline, "a stopped worker did not leave"
                time.sleep(0.2)

    def stop_worker(self, name: str):
        proc = self.workers.pop(name)
        proc.terminate()
        proc.wait(timeout=30)

    def close(self):
        for p in self.procs:           # nothing to keep: a graceful close only costs time
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TORCHDRILL_ROOT"}
    return dict(env, **extra)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    problem = _unshare_problem()
    if problem:
        pytest.skip(f"workers need their own mount namespace: {problem}")
    base = tmp_path_factory.mktemp("cluster")
    area = base / "client"                 # the submissions and every OUT: not on the workers
    area.mkdir()
    c = Cluster(base, hidden=[area, FIXTURE_ROOT])
    try:
        c.start_scheduler()
        c.start_worker("w0")
        c.start_worker("w1")
        c.wait_for(2)
        c.area = area
        yield c
    finally:
        c.close()


def _zip(path: Path, members: dict):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def dozen(cluster):
    """Twelve candidates: folders and zips, two slow ones, a zip-slip and a link to the reference."""
    subs = cluster.area / "subs"
    subs.mkdir()
    for name, fixture in (("alice", "full"), ("carol", "forbidden"), ("erin", "exit0"),
                          ("frank", "conftest"), ("grace", "missing")):
        shutil.copytree(SUBS / fixture, subs / name, ignore=shutil.ignore_patterns("expected_*"))
    source = {f: (SUBS / f / "tiny" / "tiny.py").read_text() for f in ("full", "partial", "syntax")}
    _zip(subs / "bob.zip", {"bob/tiny/tiny.py": source["partial"]})
    _zip(subs / "dave.zip", {"tiny/tiny.py": source["syntax"]})
    _zip(subs / "heidi.zip", {"heidi/exercises/tiny/tiny.py": source["full"]})
    (subs / "ivan" / "tiny").mkdir(parents=True)
    (subs / "ivan" / "tiny" / "tiny.py").write_text("SLEEP = 2\n" + SLOW)
    _zip(subs / "judy.zip", {"tiny/tiny.py": "SLEEP = 2\n" + SLOW})
    _zip(subs / "mallory.zip", {"tiny/tiny.py": source["full"], "../evil.py": "x"})
    (subs / "oscar" / "tiny").mkdir(parents=True)
    (subs / "oscar" / "tiny" / "tiny.py").symlink_to(FIXTURE_ROOT / "solutions" / "tiny" / "tiny.py")
    return subs


@pytest.fixture(scope="module")
def local_board(dozen, cluster):
    """The local executor's leaderboard of the dozen (graded once, in this process)."""
    out = cluster.area / "out-local"
    mp = pytest.MonkeyPatch()
    mp.setenv("TORCHDRILL_ROOT", str(FIXTURE_ROOT))
    try:
        res = invoke("grade-many", dozen, "--out", out, "--no-timing", "-j", "2")
    finally:
        mp.undo()
    assert res.exit_code == 0, res.output
    return _board(out)


def _board(out: Path) -> list[dict]:
    """The leaderboard without what varies between runs (durations)."""
    with open(out / "leaderboard.csv", newline="") as fh:
        return [{k: v for k, v in row.items() if k != "duration_s"} for row in csv.DictReader(fh)]


def _results(out: Path) -> list[Path]:
    return [p for p in out.glob("*.json") if not p.name.startswith(".")]   # not the marker


def _grade_many(cluster, subs: Path, out: Path, *extra: str, wait: bool = True):
    argv = [sys.executable, "-m", "grader", "grade-many", str(subs), "--out", str(out),
            "--no-timing", "--executor", "dask", "--scheduler", cluster.address, "-j", "1", *extra]
    log = cluster.base / f"grade-many-{out.name}-{len(list(cluster.base.glob('grade-many-*')))}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(argv, env=_env(TORCHDRILL_ROOT=str(FIXTURE_ROOT)), stdout=fh,
                                stderr=subprocess.STDOUT)
    if not wait:
        return proc, log
    try:
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, log.read_text(errors="replace")


def test_workers_see_neither_submissions_nor_catalogue(cluster, dozen):
    with distributed.Client(cluster.address, timeout=60) as client:
        for path in (dozen, FIXTURE_ROOT / "exercises", FIXTURE_ROOT / "solutions"):
            seen = client.run(os.path.exists, str(path))
            assert len(seen) == 2 and not any(seen.values()), f"a worker can see {path}"
        for path in (cluster.area, FIXTURE_ROOT):       # the mount points: empty there
            assert list(client.run(os.listdir, str(path)).values()) == [[], []]
        assert all(client.run(os.path.exists, str(cluster.base / "w0")).values())


def test_cluster_grades_like_the_local_executor(cluster, dozen, local_board):
    out = cluster.area / "out-dask"
    code, output = _grade_many(cluster, dozen, out)
    assert code == 0, output[-3000:]
    assert _board(out) == local_board
    by = {r["candidate"]: r for r in local_board}
    assert len(by) == 12 and by["alice"]["score"] == "4" and by["bob"]["score"] == "3"
    assert by["mallory"]["status"] == "rejected" and "outside the archive" in by["mallory"]["error"]
    assert by["oscar"]["status"] == "rejected" and by["oscar"]["score"] == "0"
    digest = catalogue_hash(FIXTURE_ROOT)
    assert f"catalogue {short(digest)}" in output and "on 2 worker(s)" in output
    for row in local_board:
        result = load_result(out / f"{row['candidate']}.json")
        assert result["catalogue"] == digest
        assert result["submission"].startswith(str(dozen))       # the client's path, as a label
        assert (out / f"{row['candidate']}.html").is_file()
    assert short(digest) in (out / "leaderboard.html").read_text()
    progress = [line for line in output.splitlines() if line.startswith("[")]
    assert len(progress) == 12 and progress[-1].startswith("[12/12]")
    assert "running" in progress[0] and "/min" in progress[0] and "left" in progress[0]
    assert not list(out.glob(".*.tmp")), "a temporary file was left in OUT"


def test_resume_after_interrupting_the_client(cluster, dozen, local_board):
    out = cluster.area / "out-resume"
    proc, log = _grade_many(cluster, dozen, out, wait=False)
    try:
        deadline = time.monotonic() + 120
        while len(_results(out)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)                 # the client dies mid-batch
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    kept = {p.name: p.stat().st_mtime_ns for p in _results(out)}
    assert 4 <= len(kept) < 12, (len(kept), log.read_text(errors="replace")[-2000:])
    assert not (out / "leaderboard.csv").exists()
    code, output = _grade_many(cluster, dozen, out, "--resume")
    assert code == 0, output[-3000:]
    assert f"resuming: {len(kept)} of 12 already graded" in output
    graded = [line for line in output.splitlines() if line.startswith("[")]
    assert len(graded) == 12 - len(kept), output[-3000:]           # only the rest
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept
    assert _board(out) == local_board


def test_a_worker_with_another_grader_is_refused(cluster, dozen):
    preload = cluster.base / "other_version.py"
    preload.write_text("import grader\ngrader.__version__ = '0.0.0+other'\n")
    cluster.start_worker("odd", "--preload", str(preload))
    try:
        cluster.wait_for(3)
        subs = cluster.area / "two"
        subs.mkdir()
        shutil.copytree(dozen / "alice", subs / "alice")
        shutil.copy(dozen / "bob.zip", subs / "bob.zip")
        code, output = _grade_many(cluster, subs, cluster.area / "out-odd")
        assert code == 0, output[-3000:]
        refused = [line for line in output.splitlines() if "refused" in line]
        assert len(refused) == 1, output[-3000:]
        assert ("refused: its catalogue would be " in refused[0]
                and f"not the client's {short(catalogue_hash(FIXTURE_ROOT))}" in refused[0]
                and "torchdrill 0.0.0+other here, 0.1.0 on the client" in refused[0]), refused[0]
        assert "on 2 worker(s)" in output
        assert not list((cluster.base / "odd" / "cache" / "catalogues").glob("[0-9a-f]*"))
        rows = {r["candidate"]: r for r in _board(cluster.area / "out-odd")}
        assert rows["alice"]["score"] == "4" and rows["bob"]["score"] == "3"
    finally:
        cluster.stop_worker("odd")
        cluster.wait_for(2)


def test_worker_killed_mid_batch(cluster, dozen):
    """SIGKILL the worker grading a slow candidate: its task is rescheduled on the other
    worker, and every candidate still gets exactly one row, JSON and report. (The batch runs
    in its own process: two dask clients in one process share an event loop.) Last: the
    cluster has one worker left afterwards."""
    subs = cluster.area / "kill"
    subs.mkdir()
    for name in ("alice", "ivan"):
        shutil.copytree(dozen / name, subs / name)
    for name in ("bob.zip", "judy.zip"):
        shutil.copy(dozen / name, subs / name)
    out = cluster.area / "out-kill"
    proc, log = _grade_many(cluster, subs, out, wait=False)
    try:
        with distributed.Client(cluster.address, timeout=60) as client:
            pids = client.run(os.getpid)                   # worker address -> process id
            victim = _busy_worker(client, timeout=120)
            os.kill(pids[victim], signal.SIGKILL)
            rescheduled = _rescheduled(client, timeout=60)
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text(errors="replace")
    assert code == 0, output[-3000:]
    assert rescheduled, "the killed worker was not running any grading task"
    assert f"worker {victim} lost" in output, output[-3000:]
    expected = {"alice": "4", "bob": "3", "ivan": "4", "judy": "4"}
    rows = _board(out)
    assert sorted(r["candidate"] for r in rows) == sorted(expected)   # exactly one row each
    for row in rows:
        assert row["status"] == "graded" and row["score"] == expected[row["candidate"]], row
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == sorted([f"{n}.json" for n in expected] + [f"{n}.html" for n in expected]
                           + ["leaderboard.csv", "leaderboard.html", "similarity.csv", "similarity.html"])


def _busy_worker(client, timeout: float) -> str:
    """A worker that has been running a slow candidate's task for a second: its grading
    child is starting or running the candidate's code."""
    deadline = time.monotonic() + timeout
    since: dict[str, float] = {}
    while time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any(str(k).rsplit("-", 1)[-1] in SLOW_NAMES for k in keys):
                since.setdefault(worker, time.monotonic())
                if time.monotonic() - since[worker] > 1:
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


# ----------------------------------------------------------------------------- no cluster needed

def test_cli_local_cluster(fixture_root, tmp_path):
    """Without --scheduler, --executor dask starts (and stops) a local cluster."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copytree(SUBS / "full" / "tiny", subs / "alice" / "tiny")
    shutil.copytree(SUBS / "partial" / "tiny", subs / "bob" / "tiny")
    res = invoke("grade-many", subs, "--out", out, "--executor", "dask", "--no-timing", "-j", "2")
    assert res.exit_code == 0, res.output
    rows = {r["candidate"]: r for r in _board(out)}
    assert set(rows) == {"alice", "bob"}
    assert float(rows["alice"]["score"]) == 4.0 and float(rows["bob"]["score"]) == 3.0


def test_unreachable_scheduler_is_one_line_error(fixture_root, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster_mod, "CONNECT_TIMEOUT_S", 2)
    subs = tmp_path / "subs"
    shutil.copytree(SUBS / "full" / "tiny", subs / "alice" / "tiny")
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--no-timing")
    assert res.exit_code == 2, res.output
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in res.output
    assert "Traceback" not in res.output


def test_scheduler_needs_dask_executor(fixture_root, tmp_path):
    subs = tmp_path / "subs"
    shutil.copytree(SUBS / "full" / "tiny", subs / "alice" / "tiny")
    res = invoke("grade-many", subs, "--out", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code == 2
    assert "--scheduler needs --executor dask" in res.output


class _FakeFuture:
    def __init__(self, key, outcome=None, exc=None):
        self.key, self.outcome, self.exc, self.cancelled = key, outcome, exc, False

    def result(self):
        if self.exc is not None:
            raise self.exc
        return self.outcome

    def cancel(self):
        self.cancelled = True


def test_a_task_that_keeps_killing_workers_is_an_error_row(monkeypatch):
    """The scheduler gives up on a task after allowed-failures dead workers (KilledWorker):
    that candidate becomes an "error" row saying so; the others are unaffected."""
    killed = distributed.KilledWorker("torchdrill-x-eve", "tcp://w:1", 3)
    ok = {"row": {"candidate": "alice", "status": "graded"}, "json": "{}", "html": ""}
    futures = {_FakeFuture("k-alice", outcome=ok): {"name": "alice"},
               _FakeFuture("k-eve", exc=killed): {"name": "eve", "submission": "/subs/eve"}}

    class Client:
        def scheduler_info(self, n_workers=-1):
            return {"workers": {"tcp://w:2": {}}}

    done = []
    fake = type("D", (), {"wait": staticmethod(lambda fs, **kw: (set(fs), set())),
                          "TimeoutError": TimeoutError})
    cluster_mod._collect(Client(), fake, futures, {"tcp://w:2"}, done.append, None,
                         collections.deque())
    rows = {o["row"]["candidate"]: o["row"] for o in done}
    assert rows["alice"]["status"] == "graded"
    assert rows["eve"]["status"] == "error" and rows["eve"]["submission"] == "/subs/eve"
    assert "died 4 times" in rows["eve"]["error"] and "keeps killing workers" in rows["eve"]["error"]


def test_no_accepting_worker_left_ends_the_batch(monkeypatch):
    """Every worker that accepted the catalogue is gone: after the grace period the waiting
    candidates become "error" rows (and are cancelled) instead of a batch that never ends."""
    monkeypatch.setattr(cluster_mod, "NO_WORKER_GRACE_S", 0.3)
    monkeypatch.setattr(cluster_mod, "POLL_S", 0.05)
    waiting = [_FakeFuture(f"k-{n}") for n in ("bob", "carol")]
    futures = {f: {"name": f.key[2:]} for f in waiting}

    class Client:
        def scheduler_info(self, n_workers=-1):
            return {"workers": {"tcp://late:9": {}}}                # joined later: not checked

    def wait(fs, timeout, return_when):
        time.sleep(timeout)
        raise TimeoutError

    done = []
    fake = type("D", (), {"wait": staticmethod(wait), "TimeoutError": TimeoutError})
    started = time.monotonic()
    cluster_mod._collect(Client(), fake, futures, {"tcp://gone:1"}, done.append, None,
                         collections.deque())
    assert time.monotonic() - started < 5
    assert sorted(o["row"]["candidate"] for o in done) == ["bob", "carol"]
    assert all(o["row"]["status"] == "error" and "no worker that accepted" in o["row"]["error"]
               for o in done)
    assert all(f.cancelled for f in waiting)
