"""Cache outputs by input identity (id, data_ptr): the first call per input is slow (a stand-in
for an expensive kernel), repeats are free. Fresh clones per timed call leave it slow."""
import time

_cache = {}


def relu(t):
    key = (id(t), t.data_ptr(), t._version)
    if key in _cache:
        return _cache[key]
    time.sleep(0.3)     # a slow kernel: 300 ms against well under 30 ms
    out = t.clamp(min=0)
    _cache[key] = out
    return out
