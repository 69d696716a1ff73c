"""`grade-many --executor dask`: one task per submission on a dask.distributed cluster, no shared filesystem.

    torchdrill grade-many SUBS --out OUT --executor dask                     # a local cluster
    torchdrill grade-many SUBS --out OUT --executor dask --scheduler tcp://10.0.0.5:8786

What travels, and why nothing on a worker depends on the client's paths:
* The catalogue. Before the first task the client packs its catalogue (exercises/ and
  solutions/, grader/catalogue/archive.py) and sends it to every worker once (Client.run of
  batch/worker.prepare). A worker grades with its installed catalogue when that hashes the
  same, else unpacks the archive into `<cache>/catalogues/<hash>/` and re-hashes it with its
  own grader version. A worker that cannot produce the client's hash (another torchdrill
  version) is refused with one line and gets no task: every task is restricted to the workers
  that accepted, and re-checks the hash before it grades, so a result graded with any other
  catalogue cannot exist. The hash goes into every result JSON and onto the leaderboard.
* The submission: read on the client through the intake (limits, links, zip safety) into
  bytes and sent with its task; the worker writes it into a private temporary folder.
* The result: the worker returns the result JSON's text and the rendered report, and the
  client writes OUT/<name>.json and .html as each arrives (so `--resume` after an interrupted
  client grades only what is missing).

A worker lost mid-task (killed, out of memory, machine gone) has its task rescheduled on the
others by the scheduler, up to `distributed.scheduler.allowed-failures` (default 3) times; a
task that keeps killing workers becomes an "error" row saying so, and when no accepting worker
is left for NO_WORKER_GRACE_S the remaining candidates become "error" rows: the batch never
loses a candidate and never hangs. Workers that join after the start are not used by this
batch (they were not checked); `--resume` picks them up.

Why dask.distributed rather than Ray: a submission is one plain function call with small,
picklable arguments and no shared state between tasks, which is exactly dask's task model;
it is pure Python and pip-installable (`pip install -e ".[cluster]"`), runs on anything from
a laptop (LocalCluster) to SSH/Kubernetes/HPC deployments (dask-jobqueue, dask-kubernetes,
dask-gateway), and reschedules the tasks of a lost worker without any code of ours.

Timing runs hold a per-process gate (batch/gate.py): run one worker process per machine with
several threads (`dask worker SCHED --nworkers 1 --nthreads N`), so that no timing run shares
the machine with correctness runs. The local cluster is set up that way. docs/performance.md
describes a deployment by hand and under a cluster manager.
"""

from __future__ import annotations

import collections
import time
import uuid

from grader.errors import InputError

CONNECT_TIMEOUT_S = 30
WORKERS_TIMEOUT_S = 60         # a scheduler without workers: wait this long for one
NO_WORKER_GRACE_S = 30         # no accepting worker alive this long: the rest become errors
POLL_S = 0.5                   # how often the client looks at the cluster (progress, losses)
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


def _workers(client) -> set[str]:
    return set(client.scheduler_info(n_workers=-1).get("workers", {}))


def prepare_workers(client, catalogue, where: str, notice=None) -> list[str]:
    """Send the catalogue to every worker and return those that accepted it; say in one line
    why each other one was refused. No worker at all accepting is a usage error."""
    from grader.batch import worker
    from grader.catalogue import archive
    digest, root = catalogue
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (TimeoutError, OSError):
        raise InputError(f"no dask worker joined the scheduler at {where} "
                         f"within {WORKERS_TIMEOUT_S} s") from None
    data = archive.pack(root)
    answers = client.run(worker.prepare, digest, data, archive.grader_version(), on_error="return")
    accepted, refused = [], []
    for address, answer in sorted(answers.items()):
        if isinstance(answer, dict) and answer.get("ok"):
            accepted.append(address)
            continue
        reason = answer.get("reason") if isinstance(answer, dict) else f"{type(answer).__name__}: {answer}"
        refused.append(f"worker {address} refused: {reason}")
    for line in refused:
        if notice:
            notice(line)
    if not accepted:
        raise InputError(f"no dask worker at {where} can grade with catalogue "
                         f"{archive.short(digest)}: {refused[0] if refused else 'none answered'}")
    if notice:
        notice(f"catalogue {archive.short(digest)} ({len(data) / 1024:.0f} KiB) on "
               f"{len(accepted)} worker(s)")
    return accepted


def run(work, tasks: list[tuple[dict, dict]], jobs: int, on_done, on_start=None, *,
        scheduler: str | None = None, catalogue=None, notice=None) -> list[dict]:
    """The executor interface (batch/executors.py): work(*task) for every task on an accepting
    worker, on_start(name) as a worker starts it, on_done(outcome) as each finishes; the
    outcomes returned (one per task, in completion order)."""
    from grader.batch import worker
    distributed = _distributed()
    client, cluster = _client(scheduler, jobs)
    try:
        accepted = prepare_workers(client, catalogue, scheduler or "the local cluster", notice)
        batch_id = uuid.uuid4().hex[:8]
        topic, starts = f"torchdrill-{batch_id}", collections.deque()
        client.subscribe_topic(topic, lambda event: starts.append(event[1]["name"]))
        futures = {}
        for payload, options in tasks:
            options = dict(options, events=topic)
            future = client.submit(worker.grade_task, work, payload, options,
                                   key=f"torchdrill-{batch_id}-{options['name']}", pure=False,
                                   workers=accepted, allow_other_workers=False)
            futures[future] = options
        return _collect(client, distributed, futures, set(accepted), on_done, on_start, starts,
                        notice)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _collect(client, distributed, futures: dict, accepted: set[str], on_done, on_start,
             starts, notice=None) -> list:
    """Outcomes as they finish; on_start for the candidates the workers announce (`starts`,
    filled by the event subscription); error outcomes for the rest once no accepting worker
    has been alive for NO_WORKER_GRACE_S."""
    pending, finished, outcomes = set(futures), set(), []
    alone_since, alive = None, set(accepted)

    def finish(outcome):
        outcomes.append(outcome)
        finished.add(outcome["row"]["candidate"])
        on_done(outcome)

    def announce():
        while starts:
            name = starts.popleft()
            if on_start and name not in finished:   # a rescheduled task announces again
                on_start(name)

    while pending:
        try:
            done, pending = distributed.wait(pending, timeout=POLL_S, return_when="FIRST_COMPLETED")
        except (TimeoutError, distributed.TimeoutError):
            done = set()
        announce()
        for future in done:
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: this candidate only
                outcome = {"row": error_row(futures[future], _reason(exc)), "json": None, "html": None}
            finish(outcome)
        if not pending:
            break
        now_alive = _workers(client) & accepted
        for address in sorted(alive - now_alive):
            if notice:
                notice(f"worker {address} lost: the scheduler moves its candidates to the others")
        alive = now_alive
        if alive:
            alone_since = None
        elif alone_since is None:
            alone_since = time.monotonic()
        elif time.monotonic() - alone_since > NO_WORKER_GRACE_S:
            for future in list(pending):   # cancelled: a worker joining later must not run them
                future.cancel()
                finish({"row": error_row(futures[future], "no worker that accepted the batch's "
                                         f"catalogue was left for {NO_WORKER_GRACE_S} s"),
                        "json": None, "html": None})
            pending = set()
    return outcomes


def _reason(exc: BaseException) -> str:
    killed = getattr(_distributed(), "KilledWorker", ())
    if killed and isinstance(exc, killed):
        failures = getattr(exc, "allowed_failures", None)
        tries = "" if failures is None else f" {failures + 1} times"
        return (f"the workers grading it died{tries} (it keeps killing workers, or the cluster "
                "is losing them): not retried again")
    return f"the cluster could not grade it: {type(exc).__name__}: {exc}".splitlines()[0]


def error_row(options: dict, reason: str) -> dict:
    return {"candidate": options["name"], "submission": options.get("submission", ""),
            "status": "error", "error": reason[:500],
            "score": 0.0, "max_score": 0.0, "pct": 0.0, "exercises": {}, "flags": 0,
            "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.0,
            "json": None, "html": None}
