"""What the parent and the grading child agree on: the channel, the configuration, the environment.

Both sides of the trust boundary import this module, so it holds nothing but constants and
small stdlib-only functions. The configuration travels on the child's stdin (never argv or the
environment, where candidate code could read the secret seed); events travel back as JSON
lines on a private pipe, each stamped with the run's nonce (`grader.kinds.Event` lists them).
"""

from __future__ import annotations

import json
import os
import sys

EVENT_FD = 3                    # where a forked child finds its result channel
FILE_LIMIT_MB = 1024            # largest file candidate code may write (RLIMIT_FSIZE)
MAX_PROCESSES = 64              # processes and threads a grading child may run at once
EVENT_LINE_CAP = 1 << 20        # a longer line on the channel is dropped
MAX_EVENTS = 10_000             # events kept per child
# Passed through from the grader's own environment when set; everything else is dropped.
PASSED_THROUGH = ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                  "LD_LIBRARY_PATH", "VIRTUAL_ENV", "TORCHDRILL_ROOT")


def clean_env(threads: int, home: str) -> dict:
    """The whole environment of a grading child: nothing of the grader's own but PATH and the
    few variables above; HOME and TMPDIR are the child's private home."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "HYPOTHESIS_STORAGE_DIRECTORY": os.path.join(home, ".hypothesis"),
    }
    for key in PASSED_THROUGH:
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def read_config() -> dict:
    """Child side: the configuration from stdin, then stdin closed (candidate code gets none)."""
    raw = sys.stdin.buffer.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return json.loads(raw)
