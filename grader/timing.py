"""Kernel timing: a candidate's function against PyTorch's, in the same process.

The grading engine calls this in a dedicated child process, after every hidden check of the
exercise passed, with nothing else running on the machine::

    from grader import timing                      # import BEFORE the candidate's module
    rows = timing.time_exercise(spec, module, device="cpu", threads=2)   # spec: catalogue.Timing
    share = timing.speed_share(rows, spec.tiers)   # in [0, 1]: share of spec.speed_points earned

Method (after torch.utils.benchmark, triton.testing.do_bench, KernelBench and GPU MODE; see
shared/RESEARCH.md), for each case of `spec.cases`:

1. Inputs. A pool of up to 4 input sets drawn from a seeded generator (distinct values), built
   once. Every timed call gets fresh clones of the next set, made outside the timed region,
   with every floating tensor scaled by a secret random factor in +-[0.5, 2]: no call sees a
   tensor object or values an earlier call saw, so caching by identity, `data_ptr` or content
   buys nothing. Spot checks: the outputs of about 1 in 4 timed candidate calls (at most 4,
   chosen secretly) and of one more call after timing are kept and compared with the
   reference on the same rebuilt inputs, which catches stale, cached or lazily finished
   outputs.
   The candidate's timed calls run inside the forbidden-op kernel trap (`h.forbidden_trap()`):
   a forbidden op reached only when no dispatch mode is watching still fails and is flagged.
2. Correctness first. Reference and candidate run on their own clones; the candidate runs
   under the harness's forbidden-op guard (`harness.call`) and its output must pass
   `harness.assert_close` with the tolerance scaled to the reduction size
   n = flops / (2 * output elements) (see `tolerances`). A mismatch or an exception gives a
   row with "error" and no timing. The same guarded check runs again after timing, so a
   function that changes its behaviour after the first call is caught too.
3. Warm-up of both sides (JIT, caches, oneDNN primitive creation) before either is timed.
4. Same process, alternating order: candidate then reference, then reference then candidate...
   Global state the candidate could change (default dtype, thread count, grad mode, autocast,
   backend flags) is reset before every timed block; the reference callable is resolved from
   functions captured when this module was imported (import it before candidate code).
   Both sides run with grad mode off and TF32 off (restored afterwards).
5. CPU: one sample per call, taken as `timeit.Timer.timeit(1)` would (inputs fetched outside
   the timed region, collector off) with the loop and the clock (`time.perf_counter`, captured
   at import) in this module, in 3 alternating rounds per side, each
   round a share of the remaining budget. Not `Timer.blocked_autorange`: it times blocks of
   calls on one input set, which a cache keyed by identity or content would win.
   `torch.set_num_threads(threads)` is fixed for both sides; rows report it.
   CUDA: per call `synchronize`, L2 flush (zero a 256 MB buffer), `start.record()`, the call,
   `torch.cuda.synchronize()` *before* `end.record()` (work on side streams counts),
   `elapsed_time`; adaptive repetition alternating the two sides call by call: at least 3 and at
   most 100 runs, stopping when std-error/mean < 0.1 % or the case budget is spent.
6. Statistics per side over the samples (one per call):
   median (the reported time), IQR, min, mean; `runs` counts timed calls, `samples` samples.
   speedup = reference_ms / candidate_ms; a speed-up above 10x is flagged "suspicious" for a
   human; an IQR above 10 % of the median adds a "noisy" note (a busy machine).
7. Budget: about 2 s per case on CPU (1 s on CUDA), so a slow candidate cannot blow the
   exercise's time limit. When the first call takes over 1/8 of the budget, the candidate is
   timed with as many single calls as half the budget allows (at least one); a first call over
   `call_limit_s` (20 s) is interrupted (SIGALRM, main thread) and gives an error row.

Case convention (`[timing] cases` in exercise.toml)::

    { name = "resnet-3x3", input = [8, 64, 28, 28], weight = [64, 64, 3, 3], bias = true,
      padding = 1 }

* A list-valued key is the shape of a random standard-normal tensor passed *positionally*, in
  the order the keys are written; except the keys in `TUPLE_KWARGS` (stride, padding, dilation,
  ...), whose lists are keyword arguments (as tuples).
* `bias = true` passes, at its position, a tensor of shape (weight.shape[0],) (the `weight`
  key, else the previous tensor); `bias = false` passes None there.
* `dtype = "float16"` sets the dtype of every random tensor (default float32); it is not passed.
* Any other key is a keyword argument: `padding = 1` -> `fn(input, weight, bias, padding=1)`.
* `spec.setup = "module:function"` replaces all of this for a case that does not fit: it is
  called as `function(params, device, generator)` and returns `(args, kwargs)`.

FLOP expressions (`spec.flops`) are evaluated by a small arithmetic interpreter (numbers,
+ - * / // % **, names, subscripts by integer; no calls, no attributes, no builtins) over:
N, C, H, W (the first 4-D tensor argument), K, Cg, R, S (the second 4-D tensor argument, a
conv weight: out channels, in channels per group, kernel height, kernel width), P, Q (height
and width of a 4-D output), `out` (the output shape as a tuple) and `out_numel`, `arg0`,
`arg1`, ... (the positional tensors' shapes), every list-valued key by its name (a tuple),
every scalar key by its name, and `groups` (1 unless given). Example for conv2d:
"2 * N * K * Cg * R * S * P * Q".

Everything here is trusted grader code; candidate code is only ever reached through `harness.call`
and the timed calls themselves.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import math
import operator
import os
import signal
import statistics
import threading
import time
from random import Random as _Random

import torch
import torch.nn.functional as F

from grader import harness as h
from grader.catalogue import timing_skip_reason

# ----------------------------------------------------------------------------- tunable constants

DEFAULT_TIERS = ((1.5, 1.0), (3.0, 0.5), (10.0, 0.25))
SUSPICIOUS_SPEEDUP = 10.0          # speed-ups above this are flagged for a human
SLOWDOWN_FLOOR = 0.25              # per case, before the geometric mean: one absurdly fast case
SLOWDOWN_CAP = 100.0               # ... or one pathologically slow case cannot decide the tier
CPU_BUDGET_S = 2.0                 # timing budget per case (both sides), CPU
CUDA_BUDGET_S = 1.0                # ... CUDA
CALL_LIMIT_S = 20.0                # a single first call longer than this is interrupted
SLOW_FRACTION = 0.125              # a first call over this share of the budget: a few calls only
NOISY_IQR = 0.1                    # IQR / median above this: a note says the timing is noisy
CPU_ROUNDS = 3                     # alternating rounds per side on CPU
MIN_RUNS, MAX_RUNS = 3, 100        # CUDA adaptive repetition bounds
TARGET_REL_STDERR = 1e-3           # CUDA: stop when std-error / mean is under 0.1 %
FLUSH_BYTES = 256 * 1024 * 1024    # CUDA: L2 flush buffer, written before every timed call
POOL_SETS = 4                      # distinct input sets per case
POOL_BYTES = 256 * 1024 * 1024     # ... fewer when one set is large
SPOT_RATE = 0.25                   # share of timed candidate calls whose output is verified
SPOT_MAX = 4                       # ... at most this many per case (plus one call after timing)
TUPLE_KWARGS = frozenset({"stride", "padding", "dilation", "output_padding", "kernel_size",
                          "output_size", "size", "normalized_shape", "dim", "pad"})
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16}

# --------------------------------------------------- captured at import, before candidate code

_perf_counter = time.perf_counter
_clone = torch.Tensor.clone
_tensor_type = torch.Tensor
_set_num_threads = torch.set_num_threads
_get_num_threads = torch.get_num_threads
_set_default_dtype = torch.set_default_dtype
_set_grad_enabled = torch.set_grad_enabled
_import_threads = torch.get_num_threads()
_add = torch.add
_relu_ = torch.Tensor.relu_
_mul_ = torch.Tensor.mul_
_CUDA_API = {
    "event": torch.cuda.Event,
    "record": torch.cuda.Event.record,
    "elapsed": torch.cuda.Event.elapsed_time,
    "event_sync": torch.cuda.Event.synchronize,
    "synchronize": torch.cuda.synchronize,
}


def bias_relu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """PyTorch reference for the Triton bias+ReLU exercise: relu(x + bias) with bias per channel
    (dim 1). Eager PyTorch: one kernel for the add, one in-place for the ReLU."""
    shape = [1, -1] + [1] * (x.dim() - 2)
    return _relu_(_add(x, bias.view(shape)))


# Dotted references resolved now, so a candidate who replaces `torch.nn.functional.conv2d`
# at import time does not change what the reference side runs.
_REFERENCES = {
    "torch.nn.functional.conv2d": F.conv2d,
    "torch.nn.functional.conv1d": F.conv1d,
    "torch.nn.functional.conv_transpose2d": F.conv_transpose2d,
    "torch.nn.functional.linear": F.linear,
    "torch.nn.functional.relu": F.relu,
    "torch.nn.functional.softmax": F.softmax,
    "torch.nn.functional.layer_norm": F.layer_norm,
    "torch.nn.functional.batch_norm": F.batch_norm,
    "torch.nn.functional.max_pool2d": F.max_pool2d,
    "torch.nn.functional.unfold": F.unfold,
    "torch.conv2d": torch.conv2d,
    "torch.matmul": torch.matmul,
    "torch.mm": torch.mm,
    "torch.bmm": torch.bmm,
    "torch.addmm": torch.addmm,
    "torch.relu": torch.relu,
    "torch.add": torch.add,
    "grader.timing.bias_relu": bias_relu,
    "grader.timing:bias_relu": bias_relu,
}


def resolve(path: str):
    """The object named by "pkg.module.attr" or "pkg.module:attr" (captured ones first)."""
    if path in _REFERENCES:
        return _REFERENCES[path]
    if ":" in path:
        module_name, _, attr_path = path.partition(":")
        obj = importlib.import_module(module_name)
    else:
        parts = path.split(".")
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            attr_path = ".".join(parts[i:])
            break
        else:
            raise ImportError(f"cannot import any module prefix of '{path}'")
    for attr in attr_path.split("."):
        obj = getattr(obj, attr)
    return obj


skip_reason = timing_skip_reason   # the engine asks the catalogue before starting a child


# ------------------------------------------------------------------------------ FLOP expressions

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def eval_flops(expr: str, names: dict) -> float:
    """Evaluate an arithmetic expression over `names` (no calls, attributes or builtins)."""
    tree = ast.parse(expr.strip(), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                known = ", ".join(sorted(names))
                raise ValueError(f"unknown name '{node.id}' in flops expression; known: {known}")
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 16:
                raise ValueError("exponent too large in flops expression")
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Subscript):
            seq, index = ev(node.value), ev(node.slice)
            if not isinstance(seq, tuple) or type(index) is not int:
                raise ValueError("only shape[integer] subscripts are allowed in flops expressions")
            return seq[index]
        raise ValueError(f"'{ast.unparse(node)}' is not allowed in a flops expression "
                         "(numbers, names, + - * / // % **, shape[i])")

    value = ev(tree)
    if isinstance(value, tuple) or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"flops expression '{expr}' did not give a number")
    return float(value)


def flop_names(params: dict, args, output) -> dict:
    """The names a flops expression may use (see the module docstring)."""
    names = {"groups": 1}
    for key, value in params.items():
        if isinstance(value, list):
            names[key] = tuple(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            names[key] = value
    shapes = [tuple(a.shape) for a in args if isinstance(a, _tensor_type)]
    for i, shape in enumerate(shapes):
        names[f"arg{i}"] = shape
    four = [s for s in shapes if len(s) == 4]
    if four:
        names.update(zip(("N", "C", "H", "W"), four[0]))
    if len(four) > 1:
        names.update(zip(("K", "Cg", "R", "S"), four[1]))
    if isinstance(output, _tensor_type):
        names["out"] = tuple(output.shape)
        names["out_numel"] = output.numel()
        if output.dim() == 4:
            names["P"], names["Q"] = output.shape[2], output.shape[3]
    return names


# ------------------------------------------------------------------------------------ the inputs

def case_inputs(params: dict, device: str, gen: torch.Generator):
    """(args, kwargs) for one case under the convention in the module docstring."""
    if params.get("dtype", "float32") not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}")
    dtype = DTYPES[params.get("dtype", "float32")]
    args, kwargs = [], {}
    shapes = {}
    for key, value in params.items():
        if key == "dtype":
            continue
        if isinstance(value, list) and key not in TUPLE_KWARGS:
            if not all(type(d) is int and d >= 0 for d in value):
                raise ValueError(f"'{key}' must be a shape: a list of non-negative integers")
            shapes[key] = value
            args.append(torch.randn(*value, generator=gen, dtype=dtype).to(device))
        elif key == "bias" and isinstance(value, bool):
            if value:
                source = shapes.get("weight") or (list(shapes.values())[-1] if shapes else None)
                if not source:
                    raise ValueError("bias = true needs a weight shape before it")
                args.append(torch.randn(source[0], generator=gen, dtype=dtype).to(device))
            else:
                args.append(None)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return args, kwargs


def _clone_tree(value):
    if isinstance(value, _tensor_type):
        return _clone(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_clone_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone_tree(v) for k, v in value.items()}
    return value


def _nbytes(args, kwargs) -> int:
    tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, _tensor_type)]
    return sum(t.numel() * t.element_size() for t in tensors)


class InputPool:
    """Up to POOL_SETS distinct input sets. `next()` returns fresh clones of the next set with
    every floating tensor scaled by a random factor in +-[0.5, 2] (a private generator seeded
    from the secret run seed): no call ever sees an input object *or values* an earlier call
    saw, so a cache keyed by identity, `data_ptr` or content buys nothing. `last_tag` says how
    to rebuild the last inputs (`rebuild`), for spot checks of timed outputs."""

    def __init__(self, make, max_sets: int = POOL_SETS, max_bytes: int = POOL_BYTES,
                 seed: int = 0):
        first = make(0)
        size = max(_nbytes(*first), 1)
        count = max(1, min(max_sets, max_bytes // size))
        self.sets = [first] + [make(i) for i in range(1, count)]
        self._i = 0
        self._rng = _Random(seed ^ 0x5EED)
        self.last_tag = (0, 1.0)
        self.spot = False            # whether the call about to run is one to verify

    def copy(self, index: int):
        """Fresh clones of input set `index`: (args list, kwargs dict)."""
        args, kwargs = self.sets[index % len(self.sets)]
        return list(_clone_tree(list(args))), _clone_tree(dict(kwargs))

    def rebuild(self, tag):
        """The inputs `next()` handed out with this tag, rebuilt bit for bit."""
        index, scale = tag
        args, kwargs = self.copy(index)
        if scale != 1.0:
            with torch.no_grad():
                for t in list(args) + list(kwargs.values()):
                    if isinstance(t, _tensor_type) and t.is_floating_point():
                        _mul_(t, scale)
        return args, kwargs

    def next(self):
        """Fresh, rescaled clones of the next input set, round robin; draws whether this call
        is spot-checked (SPOT_RATE, secret)."""
        self._i += 1
        scale = self._rng.uniform(0.5, 2.0) * self._rng.choice((-1.0, 1.0))
        self.last_tag = ((self._i - 1) % len(self.sets), scale)
        self.spot = self._rng.random() < SPOT_RATE
        return self.rebuild(self.last_tag)


class Recorder:
    """The timed callable for one side: calls `fn` and keeps the output of the calls the pool
    picked for a spot check (at most SPOT_MAX), with the tag to rebuild their inputs. The same
    thin wrapper times both sides, so its cost is the same on each.

    A candidate that caches outputs, computes lazily or returns work still in progress on
    another thread is caught when a kept output does not match the reference afterwards."""

    def __init__(self, fn, pool: InputPool, keep: bool):
        self.fn, self.pool, self.keep = fn, pool, keep
        self.kept = []

    def __call__(self, *args, **kwargs):
        out = self.fn(*args, **kwargs)
        # Only the few spot-checked outputs are held: holding every call's output until the
        # next one (to check "the last call") changes how the allocator reuses memory and made
        # F.conv2d timed against itself up to 1.5x slower on the candidate side.
        if self.keep and self.pool.spot and len(self.kept) < SPOT_MAX:
            self.kept.append((self.pool.last_tag, out))
        return out

    def one_more(self) -> None:
        """One more guarded call on fresh inputs, always checked (a cache keyed by a reused
        address answers it with a stale output)."""
        args, kwargs = self.pool.next()
        tag = self.pool.last_tag
        with _guard("candidate"):
            out = self.fn(*args, **kwargs)
        self.kept.append((tag, out))


def _make_pool(spec, params: dict, device: str, seed: int) -> InputPool:
    setup = resolve(spec.setup) if spec.setup else None

    def make(i):
        gen = torch.Generator().manual_seed(seed + 1009 * i)
        if setup is not None:
            args, kwargs = setup(dict(params), device, gen)
            return list(args), dict(kwargs)
        return case_inputs(params, device, gen)

    return InputPool(make, seed=seed)


# ------------------------------------------------------------------------------------ global state

def _snapshot() -> dict:
    state = {
        "dtype": torch.get_default_dtype(),
        "threads": _get_num_threads(),
        "grad": torch.is_grad_enabled(),
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        "precision": torch.get_float32_matmul_precision(),
        "mkldnn": torch.backends.mkldnn.enabled,
        "cudnn": torch.backends.cudnn.enabled,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }
    for dev in ("cpu", "cuda"):
        with contextlib.suppress(Exception):
            state[f"autocast_{dev}"] = torch.is_autocast_enabled(dev)
    return state


def _apply(state: dict) -> None:
    _set_default_dtype(state["dtype"])
    _set_num_threads(state["threads"])
    _set_grad_enabled(state["grad"])
    torch.set_float32_matmul_precision(state["precision"])
    torch.backends.cuda.matmul.allow_tf32 = state["matmul_tf32"]
    torch.backends.cudnn.allow_tf32 = state["cudnn_tf32"]
    torch.backends.mkldnn.enabled = state["mkldnn"]
    torch.backends.cudnn.enabled = state["cudnn"]
    torch.backends.cudnn.benchmark = state["cudnn_benchmark"]
    torch.backends.cudnn.deterministic = state["cudnn_deterministic"]
    torch.use_deterministic_algorithms(state["deterministic"])
    for dev in ("cpu", "cuda"):
        if f"autocast_{dev}" in state:
            with contextlib.suppress(Exception):
                torch.set_autocast_enabled(dev, state[f"autocast_{dev}"])


def timing_state(threads: int) -> dict:
    """The fixed configuration both sides are timed under: PyTorch's defaults, except TF32 off,
    grad mode off and the given thread count."""
    return {"dtype": torch.float32, "threads": threads, "grad": False, "matmul_tf32": False,
            "cudnn_tf32": False, "precision": "highest", "mkldnn": True, "cudnn": True,
            "cudnn_benchmark": False, "cudnn_deterministic": False, "deterministic": False,
            "autocast_cpu": False, "autocast_cuda": False}


def tampered() -> list[str]:
    """Timers the candidate replaced after this module was imported (we keep using ours)."""
    changed = []
    if time.perf_counter is not _perf_counter:
        changed.append("time.perf_counter")
    for name, attr in (("record", "record"), ("elapsed", "elapsed_time")):
        if getattr(torch.cuda.Event, attr) is not _CUDA_API[name]:
            changed.append(f"torch.cuda.Event.{attr}")
    if torch.cuda.synchronize is not _CUDA_API["synchronize"]:
        changed.append("torch.cuda.synchronize")
    return changed


# ------------------------------------------------------------------------------------ statistics

def summarize(times_ms: list[float]) -> dict:
    """median, IQR, min, mean and runs of per-call times in milliseconds."""
    xs = sorted(times_ms)
    if not xs:
        return {"median": None, "iqr": None, "min": None, "mean": None, "runs": 0}
    if len(xs) >= 2:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    else:
        q1 = q3 = xs[0]
    return {"median": statistics.median(xs), "iqr": q3 - q1, "min": xs[0],
            "mean": statistics.fmean(xs), "runs": len(xs)}


def rel_stderr(times: list[float]) -> float:
    if len(times) < 2:
        return math.inf
    mean = statistics.fmean(times)
    return statistics.stdev(times) / math.sqrt(len(times)) / mean if mean > 0 else math.inf


# --------------------------------------------------------------------------- bounding one call

class _TooSlow(BaseException):
    """Raised by SIGALRM inside a candidate call that went over CALL_LIMIT_S."""


@contextlib.contextmanager
def _deadline(seconds: float | None):
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TooSlow()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ----------------------------------------------------------------------------------- the clocks

class CudaClock:
    """Times one call on CUDA: sync, flush L2, start event, call, sync, end event.

    Every piece is injectable so the sequence can be tested without a GPU."""

    def __init__(self, *, event=None, record=None, elapsed=None, event_sync=None,
                 synchronize=None, flush_buffer=None, device: str = "cuda"):
        self.event = event or (lambda: _CUDA_API["event"](enable_timing=True))
        self.record = record or _CUDA_API["record"]
        self.elapsed = elapsed or _CUDA_API["elapsed"]
        self.event_sync = event_sync or _CUDA_API["event_sync"]
        self.synchronize = synchronize or _CUDA_API["synchronize"]
        if flush_buffer is None:
            flush_buffer = torch.empty(FLUSH_BYTES // 4, dtype=torch.int32, device=device)
        self.flush_buffer = flush_buffer

    def flush(self) -> None:
        self.flush_buffer.zero_()

    def time_call(self, fn, args, kwargs, flush: bool = True) -> float:
        """Milliseconds of one call; inputs were prepared by the caller (outside the region)."""
        self.synchronize()
        if flush:
            self.flush()
        start, end = self.event(), self.event()
        self.record(start)
        fn(*args, **kwargs)
        self.synchronize()          # before the end event: work on other streams counts
        self.record(end)
        self.event_sync(end)
        return float(self.elapsed(start, end))


def measure_cuda(sides: list, clock: CudaClock, budget_s: float, state: dict,
                 warmup: int = 3) -> tuple[dict, dict]:
    """({name: [ms, ...]}, {name: calls}) for sides = [(name, fn, pool), ...]: warm-up of every
    side, then one call per side in turn (order reversed every round) until each side has
    MIN_RUNS and a std-error under 0.1 % of its mean, or MAX_RUNS, or the budget is spent."""
    start = _perf_counter()
    for name, fn, pool in sides:                       # warm up every side before timing any
        with _guard(name):
            for _ in range(warmup):
                args, kwargs = pool.next()
                clock.time_call(fn, args, kwargs, flush=False)
    times = {name: [] for name, _, _ in sides}
    with _gc_paused():
        _alternate(sides, clock, start + budget_s, state, times)
    return times, {name: len(t) for name, t in times.items()}


def _alternate(sides, clock, deadline: float, state: dict, times: dict) -> None:
    done = {name: False for name, _, _ in sides}
    i = 0
    while not all(done.values()):
        order = sides if i % 2 == 0 else list(reversed(sides))
        for name, fn, pool in order:
            if done[name]:
                continue
            _apply(state)
            args, kwargs = pool.next()
            with _guard(name):
                times[name].append(clock.time_call(fn, args, kwargs))
            del args, kwargs
            runs = len(times[name])
            spent = _perf_counter() > deadline
            if runs >= MAX_RUNS or (runs >= MIN_RUNS and
                                    (spent or rel_stderr(times[name]) < TARGET_REL_STDERR)):
                done[name] = True
        i += 1


@contextlib.contextmanager
def _gc_paused():
    """No collector pause inside a timed call."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cpu_call_ms(fn, pool) -> float:
    """One CPU sample, taken the way timeit.Timer.timeit(1) takes it (inputs fetched outside
    the timed region, perf_counter around the call) but with the clock captured here:
    timeit's class, like torch.utils.benchmark.Timer, is candidate-patchable."""
    args, kwargs = pool.next()
    t0 = _perf_counter()
    fn(*args, **kwargs)
    return (_perf_counter() - t0) * 1e3


def _guard(name: str):
    """The forbidden-op kernel trap around the candidate's calls (not the reference's: the
    reference is usually the very op the candidate may not call). It replaces only the
    forbidden kernels, so everything else runs at full speed."""
    return h.forbidden_trap() if name == "candidate" else contextlib.nullcontext()


def measure_cpu(sides: list, budget_s: float, state: dict, rounds: int = CPU_ROUNDS) -> dict:
    """({name: [ms per call, ...]}, {name: calls}) in rounds alternating the order. One sample
    per call (`_cpu_call_ms`), on fresh rescaled inputs, so no call reuses an input object or
    values. Not torch.utils.benchmark.Timer: its timeit() adds two unmeasured warm-up calls on
    the *same* inputs to every sample, and blocked_autorange times blocks of calls on one
    input set, which a cache keyed by identity or content wins. Threads are pinned by `state`.
    Each side is warmed up (2 calls) before the first side's first measurement."""
    # The budget is wall time: clones, Python overhead and warm-up count against it, so every
    # block gets a share of what is left (and at least one call).
    deadline = _perf_counter() + budget_s
    for name, fn, pool in sides:                       # warm up every side before timing any
        _apply(state)
        with _guard(name):
            for _ in range(2):
                args, kwargs = pool.next()
                fn(*args, **kwargs)
    times = {name: [] for name, _, _ in sides}
    blocks_left = len(sides) * rounds
    for r in range(rounds):
        order = sides if r % 2 == 0 else list(reversed(sides))
        for name, fn, pool in order:
            block_end = _perf_counter() + max(0.7 * (deadline - _perf_counter()) / blocks_left,
                                              0.005)
            _apply(state)
            with _gc_paused(), _guard(name):
                while True:
                    times[name].append(_cpu_call_ms(fn, pool))
                    if _perf_counter() >= block_end:
                        break
            blocks_left -= 1
    return times, {name: len(t) for name, t in times.items()}


def _time_few(fn, pool, device: str, clock, state: dict, count: int) -> list[float]:
    """A slow candidate: `count` (>= 1) single calls, each timed alone (perf_counter on CPU,
    events on CUDA), inputs prepared outside the timed region."""
    out = []
    for _ in range(max(1, count)):
        _apply(state)
        with _guard("candidate"):
            if device == "cuda":
                args, kwargs = pool.next()
                out.append(clock.time_call(fn, args, kwargs))
            else:
                out.append(_cpu_call_ms(fn, pool))
    return out


# ------------------------------------------------------------------------------------ one case

def _blank_row(case_name: str, device: str, threads: int) -> dict:
    return {"case": case_name, "device": device, "threads": threads, "candidate_ms": None,
            "reference_ms": None, "speedup": None, "gflops": None, "runs": 0, "iqr_ms": None,
            "reference_gflops": None, "reference_runs": 0, "reference_iqr_ms": None,
            "min_ms": None, "mean_ms": None, "suspicious": False}


def _sync(device: str) -> None:
    if device == "cuda":
        _CUDA_API["synchronize"]()


def _reference_output(reference, pool: InputPool, index: int):
    args, kwargs = pool.copy(index)
    with torch.no_grad():
        return reference(*args, **kwargs)


def tolerances(expected, reduction: int) -> tuple[float, float]:
    """(rtol, atol) for a float32 candidate against a float32 reference at timing sizes.

    harness.tolerances, with atol raised to harness.rms_atol (8 * eps * sqrt(n) * RMS) for
    every floating dtype and reduction size (assert_close's own default does it for reductions
    over low-precision dtypes only)."""
    rtol, atol = h.tolerances(expected.dtype, reduction)
    if isinstance(expected, _tensor_type) and expected.is_floating_point() and expected.numel():
        atol = max(atol, h.rms_atol(expected, reduction))
    return rtol, atol


def _verify(fn, entry: str, expected, pool: InputPool, index: int, device: str,
            reduction: int, call_limit_s):
    """(error message or None, seconds the candidate's call took) on input set `index`."""
    args, kwargs = pool.copy(index)
    t0 = _perf_counter()
    try:
        with _deadline(call_limit_s), torch.no_grad():
            got = h.call(fn, *args, **kwargs)
            _sync(device)
    except _TooSlow:
        return f"one call of {entry} took more than {call_limit_s:.0f} s; not timed", math.inf
    except h.CheckFailed as exc:
        return str(exc), _perf_counter() - t0
    seconds = _perf_counter() - t0
    try:
        _compare(got, expected, h.last_call(), reduction)
    except h.CheckFailed as exc:
        return f"wrong result at timing size: {exc}", seconds
    return None, seconds


def _compare(got, expected, call: str, reduction: int) -> None:
    """harness.assert_close with the timing-size tolerances (raises CheckFailed)."""
    rtol, atol = tolerances(expected, reduction)
    h.assert_close(got, expected, call=call, reduction=reduction, rtol=rtol, atol=atol)


def _spot_check(timed: Recorder, reference, entry: str, device: str, reduction: int):
    """The outputs kept from timed calls against the reference on the same (rebuilt) inputs:
    an error message or None."""
    _sync(device)
    for tag, got in timed.kept:
        args, kwargs = timed.pool.rebuild(tag)
        with torch.no_grad():
            expected = reference(*args, **kwargs)
        try:
            _compare(got, expected, f"a timed call of {entry}", reduction)
        except h.Tampered as exc:                   # tampering, not a mismatch
            return str(exc)
        except h.CheckFailed as exc:
            return (f"{exc} (the output of a call made while timing, checked afterwards: "
                    "outputs must be computed by the call, not cached or finished later)")
    timed.kept.clear()
    return None


def time_case(spec, case, fn, reference, *, device: str, threads: int, budget_s: float,
              seed: int, clock=None, call_limit_s: float | None = CALL_LIMIT_S) -> dict:
    """One row of the result JSON's `timings` for `case` (a catalogue.TimingCase)."""
    row = _blank_row(case.name, device, threads)
    state = timing_state(threads)
    try:
        pool = _make_pool(spec, case.params, device, seed)
    except Exception as exc:  # noqa: BLE001 - an authoring error, reported in the row
        row["error"] = f"grader: cannot build the inputs of case '{case.name}': {exc}"
        return row
    gc.collect()
    _apply(state)

    # Correctness first, with the tolerance scaled to the reduction size.
    try:
        expected = _reference_output(reference, pool, 0)
    except Exception as exc:  # noqa: BLE001
        row["error"] = f"grader: the reference {spec.reference} failed on '{case.name}': {exc}"
        return row
    flops = None
    if spec.flops:
        try:
            flops = eval_flops(spec.flops, flop_names(case.params, pool.sets[0][0], expected))
        except (ValueError, ArithmeticError, IndexError, TypeError, SyntaxError) as exc:
            row["note"] = f"grader: flops expression: {exc}"
    numel = expected.numel() if isinstance(expected, _tensor_type) else 0
    reduction = max(1, int(flops / (2 * numel))) if flops and numel else 1
    error, first_s = _verify(fn, spec.entry, expected, pool, 0, device, reduction, call_limit_s)
    del expected
    if error:
        row["error"] = error
        return row

    timed = Recorder(fn, pool, keep=True)         # keeps spot-checked outputs
    sides = [("candidate", timed, pool), ("reference", Recorder(reference, pool, False), pool)]
    try:
        if first_s > budget_s * SLOW_FRACTION:    # the first call may carry one-time costs
            first_s = min(first_s, _time_few(timed, pool, device, clock, state, 1)[0] / 1e3)
        if first_s > budget_s * SLOW_FRACTION:    # too slow for the full method: a few calls
            ref_side = sides[1:]
            times, calls = (measure_cuda(ref_side, clock, budget_s / 2, state)
                            if device == "cuda" else
                            measure_cpu(ref_side, budget_s / 2, state))
            count = max(1, int(budget_s / 2 / first_s))
            times["candidate"] = _time_few(timed, pool, device, clock, state, count)
            calls["candidate"] = count
            row["note"] = (f"one call took {first_s:.2f} s, over {SLOW_FRACTION:.0%} of the "
                           f"case budget ({budget_s:.1f} s): timed with {count} single call(s)")
        else:
            times, calls = (measure_cuda(sides, clock, budget_s, state) if device == "cuda"
                            else measure_cpu(sides, budget_s, state))
    except Exception as exc:  # noqa: BLE001 - the candidate's code raised while being timed
        row["error"] = f"{spec.entry} raised while being timed: {h.safe_str(exc)}"
        return row
    try:
        timed.one_more()
    except Exception as exc:  # noqa: BLE001 - the candidate's code
        row["error"] = f"{spec.entry} raised after timing: {h.safe_str(exc)}"
        return row
    _apply(state)                                 # whatever the candidate's calls changed
    error = _spot_check(timed, reference, spec.entry, device, reduction)
    if error:
        row["error"] = error
        return row
    last = len(pool.sets) - 1                     # check again: behaviour must not change
    expected = _reference_output(reference, pool, last)
    error, _ = _verify(fn, spec.entry, expected, pool, last, device, reduction, call_limit_s)
    if error:
        row["error"] = f"after timing: {error}"
        return row

    c, r = summarize(times["candidate"]), summarize(times["reference"])
    row.update({"candidate_ms": c["median"], "reference_ms": r["median"],
                "runs": calls["candidate"], "samples": c["runs"], "iqr_ms": c["iqr"],
                "min_ms": c["min"], "mean_ms": c["mean"], "reference_runs": calls["reference"],
                "reference_iqr_ms": r["iqr"]})
    noisy = [name for name, st in (("candidate", c), ("reference", r))
             if st["median"] and st["iqr"] / st["median"] > NOISY_IQR]
    if noisy:
        spread = max(st["iqr"] / st["median"] for st in (c, r) if st["median"])
        row["note"] = (row["note"] + "; " if row.get("note") else "") + (
            f"noisy: IQR up to {spread:.0%} of the median ({', '.join(noisy)}); "
            "was the machine busy?")
    if c["median"] and r["median"]:
        row["speedup"] = r["median"] / c["median"]
        row["suspicious"] = row["speedup"] > SUSPICIOUS_SPEEDUP
    if flops:
        row["flops"] = flops
        row["gflops"] = flops / (c["median"] * 1e6) if c["median"] else None
        row["reference_gflops"] = flops / (r["median"] * 1e6) if r["median"] else None
    return row


# ----------------------------------------------------------------------------------- the API

def time_exercise(spec, module, device: str = "cpu", threads: int | None = None, *,
                  budget_s: float | None = None, seed: int | None = None,
                  clock: CudaClock | None = None, call_limit_s: float | None = CALL_LIMIT_S):
    """Rows (the result JSON's `timings` items) for every case of `spec` (a catalogue.Timing).

    `module` is the candidate's imported module; `spec.entry` names the function to time.
    Global torch state is restored on return."""
    device = "cuda" if str(device).startswith("cuda") else "cpu"
    threads = int(threads or _import_threads)
    if device != "cuda" and os.environ.get("TRITON_INTERPRET") == "1":
        # Triton's interpreter is a correctness tool: timing it would only burn the budget.
        # (The engine should not start timing here at all: see skip_reason.)
        reason = skip_reason(("triton",), device)
        return [dict(_blank_row(c.name, device, threads), skipped=reason) for c in spec.cases]
    budget_s = float(budget_s or (CUDA_BUDGET_S if device == "cuda" else CPU_BUDGET_S))
    seed = h.seed() + 4242 if seed is None else int(seed)
    outer = _snapshot()
    try:
        try:
            fn = getattr(module, spec.entry)
            if not callable(fn):
                raise TypeError(f"{spec.entry} is a {type(fn).__name__}, not a function")
        except Exception as exc:  # noqa: BLE001 - the candidate's module, anything goes
            msg = f"cannot time {spec.entry}: {h.safe_str(exc)}"
            return [dict(_blank_row(c.name, device, threads), error=msg) for c in spec.cases]
        try:
            reference = resolve(spec.reference)
        except Exception as exc:  # noqa: BLE001
            msg = f"grader: cannot resolve the reference {spec.reference}: {exc}"
            return [dict(_blank_row(c.name, device, threads), error=msg) for c in spec.cases]
        if device == "cuda" and clock is None:
            clock = CudaClock()
        rows = []
        for case in spec.cases:
            rows.append(time_case(spec, case, fn, reference, device=device, threads=threads,
                                  budget_s=budget_s, seed=seed, clock=clock,
                                  call_limit_s=call_limit_s))
        changed = tampered()
        if changed:
            for row in rows:
                row["suspicious"] = row["speedup"] is not None
                row["note"] = ("timer functions were replaced during the run: "
                               + ", ".join(changed) + " (the grader used its own copies)")
        return rows
    finally:
        _apply(outer)


def slowdowns(rows, floor: float = SLOWDOWN_FLOOR, cap: float = SLOWDOWN_CAP) -> list[float]:
    """candidate_ms / reference_ms per row, clamped to [floor, cap]."""
    out = []
    for row in rows:
        c, r = row.get("candidate_ms"), row.get("reference_ms")
        if row.get("error") or not c or not r or c <= 0 or r <= 0:
            out.append(math.inf)
        else:
            out.append(min(max(c / r, floor), cap))
    return out


def geomean_slowdown(rows, floor: float = SLOWDOWN_FLOOR, cap: float = SLOWDOWN_CAP) -> float:
    """Geometric mean of the clamped slowdowns; inf when a row has an error or no time."""
    values = slowdowns(rows, floor, cap)
    if not values or any(math.isinf(v) for v in values):
        return math.inf
    return math.exp(statistics.fmean(math.log(v) for v in values))


def speed_share(rows, tiers=DEFAULT_TIERS, *, floor: float = SLOWDOWN_FLOOR,
                cap: float = SLOWDOWN_CAP) -> float:
    """Share of the speed points: the share of the first tier (by increasing max slowdown)
    whose max slowdown is >= the geometric-mean slowdown; 0 beyond the last tier, with no rows,
    or when any row has an error."""
    mean = geomean_slowdown(rows, floor, cap)
    if math.isinf(mean):
        return 0.0
    for max_slowdown, share in sorted(tuple(t) for t in (tiers or ())):
        if mean <= max_slowdown * (1 + 1e-9):       # exp(log(x)) may round x up
            return float(share)
    return 0.0
