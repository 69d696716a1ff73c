"""Tests of grader/timing/ (and the speed share in engine/scoring.py): the CPU path for real on tiny cases, the CUDA path with fakes."""

import math
import sys
import time
import types

import pytest
import torch
import torch.nn.functional as F

from grader import harness as h
from grader import timing
from grader.catalogue import timing_skip_reason
from grader.engine import scoring
from grader.timing import cases, clocks, flops, measure, references, stats
from grader.timing import pool as tpool
from grader.timing import run as trun
from grader.timing import state as tstate
from grader.catalogue import Timing, TimingCase

TINY = TimingCase("tiny", {"input": [1, 2, 6, 6], "weight": [3, 2, 3, 3], "bias": True,
                           "padding": 1})
FLOPS = "2 * N * K * Cg * R * S * P * Q"


def conv_spec(*cases, reference="torch.nn.functional.conv2d", **kw):
    return Timing(entry="conv2d", reference=reference, cases=cases or (TINY,), flops=FLOPS,
                  tiers=timing.DEFAULT_TIERS, speed_points=4, **kw)


def module(**functions):
    return types.SimpleNamespace(**functions)


@pytest.fixture
def helpers(monkeypatch):
    """A module `timing_test_helpers` that references can be resolved from."""
    mod = types.ModuleType("timing_test_helpers")
    monkeypatch.setitem(sys.modules, "timing_test_helpers", mod)
    return mod


def run(spec, mod, **kw):
    kw.setdefault("budget_s", 0.2)
    kw.setdefault("threads", 1)
    kw.setdefault("seed", 7)
    return trun.time_exercise(spec, mod, device="cpu", **kw)


# ------------------------------------------------------------------------------------ CPU path

def test_cpu_rows_are_sane():
    calls = []

    def conv2d(*args, **kwargs):
        calls.append(1)
        return F.conv2d(*args, **kwargs)

    (row,) = run(conv_spec(), module(conv2d=conv2d), budget_s=0.3)
    for key in ("case", "device", "candidate_ms", "reference_ms", "speedup", "gflops", "runs",
                "iqr_ms", "reference_gflops", "min_ms", "mean_ms", "suspicious"):
        assert key in row, key
    assert "error" not in row
    assert row["case"] == "tiny" and row["device"] == "cpu" and row["threads"] == 1
    assert row["candidate_ms"] > 0 and row["reference_ms"] > 0
    assert row["samples"] >= 3 and row["runs"] >= row["samples"] and row["reference_runs"] >= 3
    assert len(calls) >= row["runs"]
    assert row["min_ms"] <= row["candidate_ms"] and row["iqr_ms"] >= 0
    assert row["speedup"] == pytest.approx(row["reference_ms"] / row["candidate_ms"])
    flops = 2 * 1 * 3 * 2 * 3 * 3 * 6 * 6
    assert row["flops"] == flops
    assert row["gflops"] == pytest.approx(flops / (row["candidate_ms"] * 1e6))


def test_mismatch_gives_an_error_row_and_no_timing():
    calls = []

    def conv2d(*args, **kwargs):
        calls.append(1)
        return F.conv2d(*args, **kwargs) + 0.01

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert "differs from PyTorch" in row["error"] and "wrong result at timing size" in row["error"]
    assert row["candidate_ms"] is None and row["runs"] == 0 and row["speedup"] is None
    assert len(calls) == 1                      # checked once, never timed
    assert scoring.speed_share([row], timing.DEFAULT_TIERS) == 0.0


def test_exception_and_missing_entry_give_error_rows():
    def conv2d(*args, **kwargs):
        raise RuntimeError("boom")

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert "RuntimeError: boom" in row["error"] and row["candidate_ms"] is None
    rows = run(conv_spec(TINY, TINY), module(other=F.conv2d))
    assert len(rows) == 2 and all("cannot time conv2d" in r["error"] for r in rows)


def test_behaviour_change_after_the_first_call_is_caught():
    calls = []

    def conv2d(*args, **kwargs):
        calls.append(1)
        out = F.conv2d(*args, **kwargs)
        return out if len(calls) == 1 else out * 0

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    # the spot check of the timed calls' outputs catches it before the re-check after timing
    assert "a timed call of conv2d returned" in row["error"] and row["speedup"] is None


def test_cached_outputs_fail_the_spot_check():
    cache = {}

    def conv2d(x, w, b=None, **kwargs):    # keyed by shape: a stale output for new values
        key = tuple(x.shape)
        if key not in cache:
            cache[key] = F.conv2d(x, w, b, **kwargs)
        return cache[key]

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert "cached or finished later" in row["error"] and row["speedup"] is None


def test_inputs_are_fresh_and_rescaled_per_call():
    seen = []

    def conv2d(x, w, b=None, **kwargs):
        seen.append((id(x), float(x.flatten()[0])))
        return F.conv2d(x, w, b, **kwargs)

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert not row.get("error") and row["speedup"]
    values = [v for _, v in seen]
    assert len(values) > 10 and len(set(values)) == len(values)   # never the same values twice


def test_forbidden_op_is_caught_at_timing_size():
    h.configure(forbidden_ops=("group:convolution",))
    try:
        (row,) = run(conv_spec(), module(conv2d=F.conv2d))
    finally:
        h.configure(forbidden_ops=())
    assert "forbidden operation" in row["error"]


def test_inputs_are_fresh_clones_and_distinct_sets():
    seen = []

    def conv2d(x, w, b, **kwargs):
        seen.append((id(x), x.data_ptr(), float(x.sum())))
        return F.conv2d(x, w, b, **kwargs)

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert "error" not in row
    assert len({s[2] for s in seen}) > 1               # distinct contents round robin
    pool = tpool.InputPool(lambda i: ([torch.full((2,), float(i))], {}), max_sets=3)
    a, b = pool.next()[0][0], pool.next()[0][0]
    # a fresh clone of set 1 (all ones), rescaled by a secret factor in +-[0.5, 2]
    assert a.data_ptr() != pool.sets[0][0][0].data_ptr() and 0.5 <= abs(float(b[0])) <= 2.0
    assert pool.rebuild(pool.last_tag)[0][0].equal(b)


def test_mutating_inputs_cannot_change_the_reference():
    def conv2d(x, w, b, **kwargs):
        out = F.conv2d(x, w, b, **kwargs)
        x.zero_()                                      # sabotage: inputs are clones, harmless
        return out

    (row,) = run(conv_spec(), module(conv2d=conv2d))
    assert "error" not in row


def test_suspicious_speedup_is_flagged(helpers):
    def slow_relu(x):
        time.sleep(0.004)
        return torch.relu(x)

    helpers.slow_relu = slow_relu
    spec = Timing(entry="relu", reference="timing_test_helpers.slow_relu",
                  cases=(TimingCase("vec", {"x": [64]}),))
    (row,) = run(spec, module(relu=torch.relu), budget_s=0.3)
    assert row["speedup"] > timing.SUSPICIOUS_SPEEDUP and row["suspicious"] is True
    (row,) = run(spec, module(relu=slow_relu), budget_s=0.3)
    assert row["suspicious"] is False


def test_candidate_state_changes_do_not_reach_the_reference(helpers):
    seen = []

    def reference(x):
        seen.append((torch.get_num_threads(), torch.get_default_dtype(),
                     torch.is_grad_enabled(), torch.backends.mkldnn.enabled,
                     torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
        return torch.relu(x)

    def candidate(x):
        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(True)
        torch.backends.mkldnn.enabled = False
        torch.backends.cuda.matmul.allow_tf32 = True
        return torch.relu(x)

    helpers.reference = reference
    spec = Timing(entry="relu", reference="timing_test_helpers:reference",
                  cases=(TimingCase("vec", {"x": [256]}),))
    before = tstate._snapshot()
    torch.backends.cudnn.allow_tf32 = True            # PyTorch's default: timing turns it off
    try:
        (row,) = run(spec, module(relu=candidate), threads=2)
        after = tstate._snapshot()
    finally:
        tstate._apply(before)
    assert "error" not in row and row["threads"] == 2
    assert set(seen) == {(2, torch.float32, False, True, False, False)}, set(seen)
    assert after["cudnn_tf32"] is True                 # restored on return
    assert {k: v for k, v in after.items() if k != "cudnn_tf32"} == \
        {k: v for k, v in before.items() if k != "cudnn_tf32"}


def test_slow_candidate_stays_within_budget():
    def conv2d(*args, **kwargs):
        time.sleep(0.08)
        return F.conv2d(*args, **kwargs)

    start = time.perf_counter()
    (row,) = run(conv_spec(), module(conv2d=conv2d), budget_s=0.3)
    assert time.perf_counter() - start < 1.5
    assert "timed with" in row["note"] and 1 <= row["runs"] <= 2
    assert row["candidate_ms"] >= 80 and row["speedup"] < 0.1
    assert scoring.speed_share([row], timing.DEFAULT_TIERS) == 0.0


def test_hanging_first_call_is_interrupted():
    def conv2d(*args, **kwargs):
        time.sleep(5)

    start = time.perf_counter()
    (row,) = run(conv_spec(), module(conv2d=conv2d), call_limit_s=0.2)
    assert time.perf_counter() - start < 2
    assert "took more than" in row["error"]


def test_replaced_timers_are_detected(monkeypatch):
    assert tstate.tampered() == []
    monkeypatch.setattr(time, "perf_counter", lambda: 0.0)
    assert tstate.tampered() == ["time.perf_counter"]


def test_bad_reference_and_bad_case_are_grader_errors():
    (row,) = run(conv_spec(reference="torch.nn.functional.no_such_conv"), module(conv2d=F.conv2d))
    assert row["error"].startswith("grader: cannot resolve")
    bad = TimingCase("bad", {"input": [1, 2, "x"]})
    (row,) = run(conv_spec(bad), module(conv2d=F.conv2d))
    assert row["error"].startswith("grader: cannot build the inputs")


# ------------------------------------------------------------------------------ case convention

def test_case_inputs_convention():
    gen = torch.Generator().manual_seed(0)
    params = {"input": [2, 3, 5, 5], "weight": [4, 3, 3, 3], "bias": True, "stride": [2, 1],
              "padding": 1, "dtype": "float64"}
    args, kwargs = cases.case_inputs(params, "cpu", gen)
    assert [tuple(a.shape) for a in args] == [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]
    assert all(a.dtype == torch.float64 for a in args)
    assert kwargs == {"stride": (2, 1), "padding": 1}
    args, kwargs = cases.case_inputs({"a": [2, 3], "b": [3, 4], "bias": False}, "cpu", gen)
    assert [tuple(a.shape) for a in args[:2]] == [(2, 3), (3, 4)] and args[2] is None


def test_setup_function_builds_cases(helpers):
    def build(params, device, gen):
        n = params["n"]
        return [torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)], {}

    helpers.build = build
    spec = Timing(entry="mm", reference="torch.mm", setup="timing_test_helpers:build",
                  flops="2 * n ** 3", cases=(TimingCase("mm16", {"n": 16}),))
    (row,) = run(spec, module(mm=torch.mm))
    assert "error" not in row and row["flops"] == 2 * 16 ** 3


# ------------------------------------------------------------------------------------ FLOPs

def test_flops_names_and_evaluation():
    x, w = torch.zeros(8, 64, 28, 28), torch.zeros(128, 32, 3, 3)
    out = torch.zeros(8, 128, 14, 14)
    names = flops.flop_names({"input": [8, 64, 28, 28], "groups": 2, "stride": 2}, [x, w], out)
    assert (names["N"], names["C"], names["H"], names["W"]) == (8, 64, 28, 28)
    assert (names["K"], names["Cg"], names["R"], names["S"]) == (128, 32, 3, 3)
    assert (names["P"], names["Q"], names["groups"], names["stride"]) == (14, 14, 2, 2)
    assert names["input"] == (8, 64, 28, 28) and names["out_numel"] == out.numel()
    got = flops.eval_flops("2*N*K*(C/groups)*R*S*P*Q", names)
    assert got == 2 * 8 * 128 * 32 * 9 * 14 * 14
    assert flops.eval_flops("2 * arg0[0] * arg1[-1] - -1 + 3 // 2 % 5", names) == 2 * 8 * 3 + 1 + 1


@pytest.mark.parametrize("expr", [
    "__import__('os').system('true')", "().__class__", "open('x')", "N.bit_length()",
    "(lambda: 1)()", "[N for N in (1,)]", "N if N else 1", "2 ** 1000", "'a' * 3", "missing * 2",
    "input", "N == N",
])
def test_flops_expressions_are_restricted(expr):
    with pytest.raises((ValueError, SyntaxError)):
        flops.eval_flops(expr, {"N": 3, "input": (1, 2)})


def test_bad_flops_expression_is_a_note_not_a_crash():
    spec = Timing(entry="conv2d", reference="torch.nn.functional.conv2d", cases=(TINY,),
                  flops="2 * nope")
    (row,) = run(spec, module(conv2d=F.conv2d))
    assert "error" not in row and "unknown name 'nope'" in row["note"] and row["gflops"] is None


# ------------------------------------------------------------------------------------ scoring

def rows_for(*slowdowns, error_at=None):
    rows = [{"case": f"c{i}", "candidate_ms": s, "reference_ms": 1.0}
            for i, s in enumerate(slowdowns)]
    if error_at is not None:
        rows[error_at]["error"] = "wrong"
    return rows


@pytest.mark.parametrize("slowdowns, share", [
    ((1.0,), 1.0), ((1.5,), 1.0), ((1.51,), 0.5), ((3.0,), 0.5), ((9.9,), 0.25),
    ((10.5,), 0.0), ((0.5, 2.0), 1.0), ((2.0, 4.5), 0.5), ((2.0, 8.0), 0.25), ((1e9,), 0.0),
])
def test_speed_share_tiers(slowdowns, share):
    assert scoring.speed_share(rows_for(*slowdowns), [[1.5, 1.0], [3.0, 0.5], [10.0, 0.25]]) \
        == share


def test_speed_share_floor_cap_and_errors():
    tiers = [[10.0, 0.25], [1.5, 1.0], [3.0, 0.5]]        # any order
    # One absurdly fast case cannot lift two slow ones into the top tier ...
    assert scoring.speed_share(rows_for(1e-6, 6.0, 6.0), tiers) == 0.5
    assert scoring.geomean_slowdown(rows_for(1e-6, 6.0, 6.0)) == pytest.approx(
        (0.25 * 36) ** (1 / 3))
    # ... and one pathological slow case cannot erase three fast ones.
    assert scoring.speed_share(rows_for(1.0, 1.0, 1.0, 1e9), tiers) == 0.25
    assert scoring.slowdowns(rows_for(1e9))[0] == timing.SLOWDOWN_CAP
    assert scoring.speed_share(rows_for(1.0, 1.0, error_at=1), tiers) == 0.0
    assert scoring.speed_share([], tiers) == 0.0 and scoring.speed_share(rows_for(1.0), []) == 0.0
    assert scoring.speed_share([{"case": "x", "candidate_ms": None, "reference_ms": 1.0}],
                              tiers) == 0.0
    assert math.isinf(scoring.geomean_slowdown([]))


def test_skip_reason(monkeypatch):
    assert "CUDA only" in timing_skip_reason(["triton"], "cpu")
    assert timing_skip_reason(["triton"], "cuda") is None and timing_skip_reason([], "cpu") is None
    # A Triton exercise on CPU: nothing is called or timed, even if a timing child runs.
    calls = []
    (row,) = run(conv_spec(), module(conv2d=lambda *a, **k: calls.append(1)), requires=("triton",))
    assert "CUDA only" in row["skipped"] and row["candidate_ms"] is None and not calls
    assert scoring.speed_share([row], timing.DEFAULT_TIERS) == 0.0


def test_resolve():
    assert references.resolve("torch.nn.functional.conv2d") is F.conv2d
    assert references.resolve("torch.nn.functional:relu") is F.relu
    assert references.resolve("grader.timing.references.bias_relu") is references.bias_relu
    x, b = torch.randn(2, 3, 4, 4), torch.randn(3)
    torch.testing.assert_close(references.bias_relu(x, b), torch.relu(x + b.view(1, 3, 1, 1)))


def test_summarize():
    s = stats.summarize([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (s["median"], s["iqr"], s["min"], s["mean"], s["runs"]) == (3.0, 2.0, 1.0, 3.0, 5)
    assert stats.summarize([2.0])["iqr"] == 0 and stats.summarize([])["median"] is None


# ------------------------------------------------------------------------- CUDA path, with fakes

class FakeCuda:
    """Records the order of everything the CUDA clock does; elapsed times come from a list."""

    def __init__(self, durations=None):
        self.log = []
        self.durations = list(durations or [])
        self.buffer = torch.ones(64, dtype=torch.int32)
        outer = self

        class Buffer:
            def zero_(self):
                outer.log.append("flush")
                outer.buffer.zero_()

        self.flush_buffer = Buffer()
        self.n = 0

    def event(self):
        self.n += 1
        return f"ev{self.n}"

    def clock(self):
        return clocks.CudaClock(
            event=self.event, record=lambda ev: self.log.append(f"record:{ev}"),
            elapsed=self.elapsed, event_sync=lambda ev: self.log.append(f"wait:{ev}"),
            synchronize=lambda: self.log.append("sync"), flush_buffer=self.flush_buffer)

    def elapsed(self, start, end):
        self.log.append(f"elapsed:{start}->{end}")
        return self.durations.pop(0) if self.durations else 1.0


def test_cuda_clock_syncs_before_the_end_event_and_flushes():
    fake = FakeCuda([2.5])
    clock = fake.clock()
    got = clock.time_call(lambda a, k=0: fake.log.append(f"call:{a}:{k}"), ["x"], {"k": 1})
    assert got == 2.5
    assert fake.log == ["sync", "flush", "record:ev1", "call:x:1", "sync", "record:ev2",
                        "wait:ev2", "elapsed:ev1->ev2"]
    assert int(fake.buffer.sum()) == 0                 # the flush buffer was written
    assert timing.FLUSH_BYTES >= 256 * 1024 * 1024


def test_cuda_measure_alternates_and_stops_adaptively():
    fake = FakeCuda()
    clock = fake.clock()
    order = []
    pool = tpool.InputPool(lambda i: ([torch.zeros(2)], {}))
    sides = [("candidate", lambda x: order.append("c"), pool),
             ("reference", lambda x: order.append("r"), pool)]
    state = tstate.timing_state(1)
    times, calls = clocks.measure_cuda(sides, clock, budget_s=5.0, state=state, warmup=2)
    assert calls == {"candidate": 3, "reference": 3}
    # constant times: std-error 0, so both stop at the minimum of 3 runs
    assert {k: len(v) for k, v in times.items()} == {"candidate": 3, "reference": 3}
    assert order == ["c", "c", "r", "r"] + ["c", "r", "r", "c", "c", "r"]

    noisy = FakeCuda([1.0, 2.0] * 200)
    times, _ = clocks.measure_cuda(sides[:1], noisy.clock(), budget_s=60.0, state=state,
                                   warmup=0)
    assert len(times["candidate"]) == timing.MAX_RUNS   # never converges: capped at 100

    slow = FakeCuda([1.0, 2.0] * 200)
    start = time.perf_counter()
    times, _ = clocks.measure_cuda(sides[:1], slow.clock(), budget_s=0.0, state=state, warmup=0)
    assert len(times["candidate"]) == timing.MIN_RUNS   # budget spent: stop at the minimum
    assert time.perf_counter() - start < 1


def test_cuda_time_case_end_to_end_with_fakes(monkeypatch):
    fake = FakeCuda()
    monkeypatch.setattr(measure, "_sync", lambda device: fake.log.append("device-sync"))
    real_pool = tpool._make_pool                         # no GPU here: CPU tensors
    monkeypatch.setattr(measure, "_make_pool",
                        lambda spec, params, device, seed: real_pool(spec, params, "cpu", seed))
    seen = []

    def conv2d(*args, **kwargs):
        seen.append((torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
        return F.conv2d(*args, **kwargs)

    torch.backends.cudnn.allow_tf32 = True
    rows = trun.time_exercise(conv_spec(), module(conv2d=conv2d), device="cuda", threads=1,
                                seed=1, clock=fake.clock(), budget_s=0.5)
    assert torch.backends.cudnn.allow_tf32 is True        # restored
    (row,) = rows
    assert "error" not in row and row["device"] == "cuda"
    assert row["candidate_ms"] == 1.0 and row["runs"] == timing.MIN_RUNS
    assert set(seen) == {(False, False)}
    assert "device-sync" in fake.log and fake.log.count("flush") == 2 * timing.MIN_RUNS


# ------------------------------------------------------------------- the timed exercises' specs

@pytest.mark.parametrize("slug", ["fast-conv2d", "triton-bias-relu", "depthwise-conv-triton"])
def test_exercise_timing_specs_build(slug):
    """Every [timing] case of our timed exercises builds its inputs and evaluates its flops."""
    from pathlib import Path

    from grader.catalogue import load_exercise

    exercise = load_exercise(Path(__file__).resolve().parent.parent / "exercises" / slug)
    spec = exercise.timing
    assert spec.speed_points > 0 and spec.tiers and spec.flops
    reference = references.resolve(spec.reference)
    for case in spec.cases:
        params = dict(case.params)
        # the same convention, shrunk 4x in the batch dimension to stay fast
        first = next(k for k, v in params.items() if isinstance(v, list))
        params[first] = [max(1, params[first][0] // 4)] + params[first][1:]
        args, kwargs = cases.case_inputs(params, "cpu", torch.Generator().manual_seed(0))
        out = reference(*args, **kwargs)
        count = flops.eval_flops(spec.flops, flops.flop_names(params, args, out))
        assert count >= out.numel()
    requires_triton = "triton" in exercise.requires
    assert (timing_skip_reason(exercise.requires, "cpu") is not None) == requires_triton


def test_malloc_thresholds_are_pinned_in_a_fresh_process():
    """Timing children pin glibc's mmap/trim thresholds (grader/timing/allocator.py) so a figure
    does not depend on what ran before; on glibc, mallopt accepts both settings."""
    import platform
    import subprocess
    import sys
    code = "from grader.timing.allocator import pin_malloc; print(pin_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    if platform.libc_ver()[0] != "glibc":
        assert "not glibc" in out.stdout
    else:
        assert out.stdout.strip() == "glibc malloc pinned: mmap threshold 32 MiB, trim threshold 1 GiB"
