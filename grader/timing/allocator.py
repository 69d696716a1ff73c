"""Pin glibc malloc's thresholds in a timing child, so a figure never depends on what ran before.

glibc serves a large allocation from mmap (fresh pages: a page fault per 4 KiB on first touch)
until a freed mmap'd block raises its *dynamic* mmap threshold; from then on blocks of that size
come from the heap, already faulted in. The same F.conv2d (8x64x28x28, 3x3) takes about 2.1 ms
in a fresh process and 1.0 ms after any earlier large allocation was freed. Setting both
thresholds explicitly turns the dynamic adjustment off (mallopt(3)): every timing child starts
in the "warm" state a long-running training process is in, whatever ran before it.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1      # <malloc.h>: free memory kept at the heap's top before trimming
M_MMAP_THRESHOLD = -3      # <malloc.h>: allocations at least this large come from mmap
MMAP_THRESHOLD = 32 << 20  # glibc's maximum on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD = 1 << 30   # keep up to 1 GiB of freed heap instead of returning it to the OS


def pin_malloc() -> str:
    """Fix glibc's thresholds (before the sandbox closes ctypes); returns what was done, for the
    method sentence, or why not (not glibc: musl and macOS have no dynamic threshold)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "malloc thresholds left alone (not glibc)"
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    ok = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return ("glibc malloc pinned: mmap threshold 32 MiB, trim threshold 1 GiB" if ok
            else "glibc refused mallopt; malloc thresholds left dynamic")
