"""`grade-many --executor dask`: one task per submission on a dask.distributed cluster.

    torchdrill grade-many SUBS --out OUT --executor dask                     # a local cluster
    torchdrill grade-many SUBS --out OUT --executor dask --scheduler tcp://10.0.0.5:8786

Each task is the work function the batch hands over, `batch.grade_one(submission, out_dir,
options)`: it grades one candidate on a
worker (in the usual isolated children, forked from that worker's own zygote), writes
OUT/<name>.json and .html atomically (temporary file, then rename) and returns a leaderboard
row. The client collects exactly one row per submission: a worker that dies mid-task (killed,
out of memory, machine lost) has its tasks rescheduled on the others by the scheduler (up to
`distributed.scheduler.allowed-failures` times); a retried grade_one rewrites the same two
files, so a half-finished attempt leaves nothing behind. A task that still fails becomes an
"error" row; the batch never loses a candidate.

Why dask.distributed rather than Ray: a submission is one plain function call with small,
picklable arguments and no shared state between tasks, which is exactly dask's task model;
it is pure Python and pip-installable (`pip install -e ".[cluster]"`), runs on anything from
a laptop (LocalCluster) to SSH/Kubernetes/HPC deployments (dask-jobqueue), and reschedules
the tasks of a lost worker without any code of ours. Ray's actors, object store and its large
native runtime buy nothing here.

Deployment notes (docs/performance.md has more):
* Workers need torchdrill installed with the same catalogue (exercises/ and solutions/), and
  must see SUBS and OUT at the same paths as the client (a shared filesystem).
* Timing runs hold a per-process gate (batch/gate.py): run one worker process per machine with
  several threads (`dask worker SCHED --nworkers 1 --nthreads N`), so that no timing run shares
  the machine with correctness runs. The local cluster is set up that way.
"""

from __future__ import annotations

import uuid

from grader.errors import InputError

CONNECT_TIMEOUT_S = 30
INSTALL_HINT = 'the dask executor needs dask.distributed: pip install -e ".[cluster]"'


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return distributed


def _client(scheduler: str | None, jobs: int):
    """(client, cluster-or-None): a client of the given scheduler, or of a new local cluster."""
    distributed = _distributed()
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the dask scheduler at {scheduler}: "
                             f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    # One worker process, -j threads: the timing gate is then machine-wide, like the local pool.
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=max(1, jobs),
                                       processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    return distributed.Client(cluster), cluster


def run(work, tasks: list[tuple[str, str, dict]], jobs: int, on_done, on_start=None, *,
        scheduler: str | None = None) -> list[dict]:
    """The executor interface (batch/executors.py): work(*task) for every task, on_done(row) as
    each finishes, the rows returned (one per task, in completion order)."""
    distributed = _distributed()
    client, cluster = _client(scheduler, jobs)
    try:
        batch_id = uuid.uuid4().hex[:8]
        futures = {}
        for task in tasks:
            name = task[2]["name"]
            future = client.submit(work, *task, key=f"torchdrill-{batch_id}-{name}",
                                   pure=False, retries=1)
            futures[future] = task     # on_start: the scheduler does not say when a task starts
        rows = []
        for future in distributed.as_completed(futures):
            try:
                row = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this candidate only
                row = _error_row(futures[future], exc)
            rows.append(row)
            on_done(row)
        return rows
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _error_row(task: tuple[str, str, dict], exc: BaseException) -> dict:
    submission, _out, options = task
    return {"candidate": options["name"], "submission": submission, "status": "error",
            "error": f"the cluster could not grade it: {type(exc).__name__}: {exc}"[:500],
            "score": 0.0, "max_score": 0.0, "pct": 0.0, "exercises": {}, "flags": 0,
            "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.0,
            "json": None, "html": None}
