"""The input pool: distinct, freshly cloned and secretly scaled inputs for every timed call."""

from __future__ import annotations

from random import Random as _Random

import torch

from grader.timing import POOL_BYTES, POOL_SETS, SPOT_MAX, SPOT_RATE
from grader.timing.cases import case_inputs
from grader.timing.clocks import _guard
from grader.timing.references import _clone, _mul_, _tensor_type, resolve


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
