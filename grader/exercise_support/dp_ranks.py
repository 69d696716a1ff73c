"""Rank processes for the data-parallel-step hidden checks.

`run_ranks` (called by a hidden check, in the grading child) starts `world_size` ranks,
forked from the grading child where that is safe (each a copy with torch, the locked sandbox
and the candidate's module already loaded: milliseconds), else fresh interpreters with
multiprocessing's "spawn" start method (which import torch again and lock themselves down).
Each joins a gloo process group through a file:// store in a private temporary folder, imports
the candidate's module (a spawned interpreter inherits the parent's sys.path, which holds the
candidate folder) and plays a list of scenarios: build a seeded model, then call
`dp_train_step(model, inputs, targets, loss_fn, optimizer)` on its own shard of each global
batch. It sends back the returned losses and the final parameters and gradients.

Nothing here can hang the check: collectives time out after `dist_timeout_s`, the whole
group after `timeout_s`, and every rank still alive then is killed.

The scenario builders (`build_model`, `make_optimizer`, `global_batches`, `LOSSES`) are
shared with the hidden check, which replays each scenario in one process on the whole batch.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import importlib.util
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from grader import (
    sandbox,  # at import: after the child's lock-down, grader modules are hidden
)

ENTRY = "dp_train_step"


# ------------------------------------------------------------------------- scenario builders

class TinyNet(nn.Module):
    """x (B, d_in) -> Linear -> tanh -> Linear -> * gain -> (B, d_out).

    `gain` is a bare nn.Parameter (not inside a Linear). With `frozen`, fc1 does not require
    grad and `unused` never takes part in forward: both keep .grad None."""

    def __init__(self, d_in, hidden, d_out, frozen=False):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)
        self.gain = nn.Parameter(1.0 + 0.1 * torch.randn(d_out))
        if frozen:
            self.fc1.requires_grad_(False)
            self.unused = nn.Parameter(torch.randn(3))

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x))) * self.gain


def build_model(sc: dict) -> nn.Module:
    torch.manual_seed(sc["seed"])                        # identical on every rank
    return TinyNet(sc["d_in"], sc["hidden"], sc["d_out"], frozen=sc.get("frozen", False))


def make_optimizer(sc: dict, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if sc["optimizer"] == "sgd":
        return torch.optim.SGD(params, lr=0.1)
    if sc["optimizer"] == "momentum":
        return torch.optim.SGD(params, lr=0.05, momentum=0.9)
    if sc["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=0.01)
    raise ValueError(sc["optimizer"])


def _mse(outputs, targets):
    return F.mse_loss(outputs, targets)


def _cross_entropy(outputs, targets):
    return F.cross_entropy(outputs, targets)


LOSSES = {"mse": _mse, "ce": _cross_entropy}


def global_batches(sc: dict, world_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One (inputs, targets) pair per step, each world_size * local_batch rows long."""
    gen = torch.Generator().manual_seed(sc["seed"] + 1)
    rows = world_size * sc["local_batch"]
    batches = []
    for _ in range(sc["steps"]):
        x = torch.randn(rows, sc["d_in"], generator=gen)
        if sc["loss"] == "ce":
            y = torch.randint(0, sc["d_out"], (rows,), generator=gen)
        else:
            y = torch.randn(rows, sc["d_out"], generator=gen)
        batches.append((x, y))
    return batches


def shard(tensor: torch.Tensor, rank: int, local_batch: int) -> torch.Tensor:
    return tensor[rank * local_batch:(rank + 1) * local_batch].clone()


# --------------------------------------------------------------------------- parent side

MAX_MESSAGE = 1 << 22         # bytes; the results of these tiny models are a few KB


@dataclass
class GroupRun:
    """What the ranks of one process group reported."""

    world_size: int
    results: dict = field(default_factory=dict)      # (scenario, rank) -> payload (tensors)
    errors: list = field(default_factory=list)       # (scenario or None, rank, message), in arrival order
    problem: str = ""                                # the group as a whole went wrong
    timed_out: bool = False
    seconds: float = 0.0


def run_ranks(module_name: str, world_size: int, scenarios: list[dict], *,
              startup_s: float = 60.0, timeout_s: float = 30.0, dist_timeout_s: float = 10.0,
              lock: dict | None = None) -> GroupRun:
    """Run `scenarios` on `world_size` ranks; never raises for candidate failures.

    `startup_s` bounds starting the ranks (a spawned one imports torch again and importing torch and the candidate's
    module (slow on a loaded machine); `timeout_s` then bounds playing the scenarios.

    Ranks report over one pipe each, as JSON (never pickle: candidate code in a rank can
    write anything to that pipe, and unpickling runs code)."""
    method = _start_method()
    ctx = multiprocessing.get_context(method)
    store_dir = tempfile.mkdtemp(prefix="torchdrill-dp-")
    init_method = "file://" + os.path.join(store_dir, "store")
    pipes = [ctx.Pipe(duplex=False) for _ in range(world_size)]        # (reader, writer)
    procs = [ctx.Process(target=_rank_main, daemon=True, name=f"torchdrill-rank{rank}",
                         args=(rank, world_size, init_method, module_name, scenarios,
                               pipes[rank][1], lock, dist_timeout_s))
             for rank in range(world_size)]
    run = GroupRun(world_size)
    start = time.monotonic()
    try:
        # a forked rank must not inherit the grader's modules in sys.modules: only for spawn
        with _findable_by_name() if method == "spawn" else contextlib.nullcontext():
            for p in procs:
                p.start()
        for _, writer in pipes:
            writer.close()                    # a rank's death now reads as end-of-file
        _collect(run, {reader: rank for rank, (reader, _) in enumerate(pipes)},
                 start + startup_s, timeout_s)
    finally:
        _stop(procs)
        for reader, writer in pipes:
            reader.close()
            writer.close()
        shutil.rmtree(store_dir, ignore_errors=True)
        run.seconds = time.monotonic() - start
    return run


def _start_method() -> str:
    """"fork" where it is safe: each rank is then a copy of this process, torch, the sandbox and
    the candidate's module already loaded (milliseconds, where a spawned rank imports torch
    again: 3 to 4 s on a loaded 2-core machine, five ranks per grade). Forking is safe when no
    other thread could hold a lock the copy would inherit: the harness refuses candidate
    threads, so this is the usual case; otherwise, and off Linux, "spawn"."""
    import threading
    if sys.platform.startswith("linux") and threading.active_count() == 1 \
            and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


# lock_down() takes the grader's modules out of sys.modules (candidate code must not find
# them); pickling _rank_main for a spawned rank looks its module up by name. Held here at
# import, put back only while the ranks start: no candidate code runs in this process then.
_OWN_MODULES = {name: sys.modules[name]
                for name in ("grader", "grader.exercise_support", __name__)}


@contextlib.contextmanager
def _findable_by_name():
    added = [name for name in _OWN_MODULES if sys.modules.get(name) is not _OWN_MODULES[name]]
    saved = {name: sys.modules.get(name) for name in added}
    sys.modules.update({name: _OWN_MODULES[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            if saved[name] is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved[name]


def _collect(run: GroupRun, readers: dict, deadline: float, timeout_s: float) -> None:
    world_size = len(readers)
    ready: set[int] = set()
    done: set[int] = set()
    while readers:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            run.timed_out = True
            if len(ready) < world_size:
                run.problem = (f"rank(s) {sorted(set(range(world_size)) - ready)} did not get "
                               "ready (start, join the process group, import your module) in time")
            else:
                run.problem = (f"rank(s) {sorted(readers.values())} of {world_size} did not "
                               f"finish within {timeout_s:.0f} s: a rank waits in a collective "
                               "(all_reduce, barrier...) that the other ranks never reach, or "
                               "the step hangs")
            return
        for conn in multiprocessing.connection.wait(list(readers), timeout=remaining):
            rank = readers[conn]
            try:
                kind, scenario, body = json.loads(conn.recv_bytes(MAX_MESSAGE))
            except (EOFError, OSError):
                readers.pop(conn)
                if rank not in done:
                    run.errors.append((None, rank, f"rank {rank} exited before finishing "
                                                   "(os._exit, a crash or a kill?)"))
                continue
            except Exception:  # noqa: BLE001 - not JSON, or not three items
                run.errors.append((None, rank, f"rank {rank} sent an unreadable message"))
                readers.pop(conn)
                continue
            if kind == "ready":
                ready.add(rank)
                if len(ready) == world_size:      # all started: now the scenarios' clock
                    deadline = time.monotonic() + timeout_s
            elif kind == "result":
                try:
                    run.results[(scenario, rank)] = _tensors(body)
                except Exception:  # noqa: BLE001
                    run.errors.append((scenario, rank, f"rank {rank} sent a malformed result"))
            elif kind == "error":
                run.errors.append((scenario, rank, str(body)[:2000]))
            elif kind == "done":
                done.add(rank)
                readers.pop(conn)


def _tensors(body: dict) -> dict:
    """A rank's JSON result with its nested lists turned back into float32 tensors."""
    def tensor(values):
        return None if values is None else torch.tensor(values, dtype=torch.float32)
    return {
        "losses": [v if type(v) in (float, str) else str(v) for v in body["losses"]],
        "params": {str(n): tensor(v) for n, v in body["params"].items()},
        "grads": {str(n): tensor(v) for n, v in body["grads"].items()},
    }


def _stop(procs) -> None:
    for p in procs:
        if p.pid is not None:
            p.join(timeout=2)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(timeout=2)
        if p.is_alive():
            p.kill()
            p.join(timeout=2)


# ----------------------------------------------------------------------------- rank side

def _rank_main(rank, world_size, init_method, module_name, scenarios, conn, lock,
               dist_timeout_s) -> None:
    def send(kind, scenario=None, body=None):
        conn.send_bytes(json.dumps([kind, scenario, body]).encode())

    try:
        _run_rank(rank, world_size, init_method, module_name, scenarios, send, lock,
                  dist_timeout_s)
    except BaseException as exc:  # noqa: BLE001 - a failure of this harness, reported as such
        send("error", None, f"grader error in rank {rank}: {type(exc).__name__}: {exc}")
    finally:
        send("done")
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - never initialised, or already broken
            pass
        os._exit(0)                    # skip interpreter teardown (seconds with torch loaded)


def _run_rank(rank, world_size, init_method, module_name, scenarios, send, lock,
              dist_timeout_s) -> None:
    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")   # loopback only, no name lookup
    torch.set_num_threads(1)
    try:
        dist.init_process_group("gloo", init_method=init_method, rank=rank,
                                world_size=world_size,
                                timeout=datetime.timedelta(seconds=dist_timeout_s))
    except Exception as exc:  # noqa: BLE001 - an environment problem, not the candidate's
        send("error", None, f"the grader could not start a gloo process group: {exc}")
        return
    _refuse_ddp()
    spec = importlib.util.find_spec(module_name)
    origin = os.path.realpath(spec.origin) if spec and spec.origin else ""
    if lock:
        _lock(lock)
    try:
        step = getattr(importlib.import_module(module_name), ENTRY)
    except BaseException as exc:  # noqa: BLE001 - candidate code: anything goes
        send("error", None, f"importing {module_name}.py failed: {_summary(exc, origin)}")
        return
    send("ready")
    for sc in scenarios:
        try:
            payload = _play(step, sc, rank, world_size)
        except BaseException as exc:  # noqa: BLE001
            send("error", sc["name"], f"{_call_text(sc, rank)} raised {_summary(exc, origin)}")
            return
        send("result", sc["name"], payload)


def _play(step, sc: dict, rank: int, world_size: int) -> dict:
    model = build_model(sc)
    optimizer = make_optimizer(sc, model)
    losses = []
    for inputs, targets in global_batches(sc, world_size):
        value = step(model, shard(inputs, rank, sc["local_batch"]),
                     shard(targets, rank, sc["local_batch"]), LOSSES[sc["loss"]], optimizer)
        losses.append(float(value) if type(value) is float else _describe(value))
    return {
        "losses": losses,                                  # float, or a str describing the value
        "params": {n: p.detach().double().tolist() for n, p in model.named_parameters()},
        "grads": {n: None if p.grad is None else p.grad.detach().double().tolist()
                  for n, p in model.named_parameters()},
    }


def _call_text(sc: dict, rank: int) -> str:
    return (f"on rank {rank}, {ENTRY}(model, inputs[{sc['local_batch']}, {sc['d_in']}], "
            f"targets, {sc['loss']} loss, {sc['optimizer']} optimizer)")


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {type(value).__name__}{list(value.shape)} {str(value.dtype).replace('torch.', '')}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        text = "?"
    return f"{type(value).__name__} {text[:60]}"


def _summary(exc: BaseException, origin: str) -> str:
    where = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if origin and os.path.realpath(frame.f_code.co_filename) == origin:
            where = f" (at {os.path.basename(origin)}:{lineno})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = re.sub(r"^\[[^\]]*gloo[^\]]*\]\s*", "", text)[:300]    # gloo's source location
    if "Connection closed by peer" in text:
        text = "the connection to another rank closed"
    if any(s in text for s in ("connection to another rank", "Timed out", "timed out")):
        text += (" (another rank left or never reached this collective: every rank must call "
                 "the same collectives, in the same order, with same-sized tensors)")
    return f"{type(exc).__name__}: {text}{where}"


def _refuse_ddp() -> None:
    def refuse(self, *args, **kwargs):
        raise RuntimeError("DistributedDataParallel is not allowed in this exercise: "
                           "average the gradients yourself with torch.distributed")
    torch.nn.parallel.DistributedDataParallel.__init__ = refuse


def _lock(lock: dict) -> None:
    """Lock this rank down like the grading child (grader.sandbox) before candidate code runs."""
    sandbox.lock_down(lock)


def lock_config() -> dict | None:
    """For the hidden check: the part of the grading child's sandbox configuration the ranks
    need to lock themselves down the same way (None in a standalone run: no sandbox)."""
    box = sandbox.current()
    if box is None:
        return None
    keep = ("candidate_dir", "checks_dir", "protected", "max_processes")
    return {k: box.config[k] for k in keep if k in box.config}
