"""Start a detached process (double fork + setsid, subprocess with a new session, the
multiprocessing and _posixsubprocess back doors, a finalizer composed of builtins) that outlives
the grade and rewrites the result JSON afterwards. Every way is refused; the sweep would kill
anything that got through (tests/test_attacks.py checks no process with the marker is left)."""
import os
import subprocess
import sys
import weakref

MARKER = "torchdrill-attack-lingering"
SCRIPT = (
    "import time, glob, json\n"
    "time.sleep(4)\n"
    "for path in glob.glob('/tmp/**/attack-result.json', recursive=True):\n"
    "    open(path, 'w').write(json.dumps({'forged': True}))\n"
    f"# {MARKER}\n"
)


def _spawn_all():
    ways = [
        lambda: subprocess.Popen([sys.executable, "-c", SCRIPT], start_new_session=True),
        lambda: os.posix_spawn(sys.executable, [sys.executable, "-c", SCRIPT], dict(os.environ)),
        lambda: os.system(f"{sys.executable} -c \"import time; time.sleep(30)\" # {MARKER} &"),
        lambda: __import__("_posixsubprocess").fork_exec(
            [sys.executable, "-c", SCRIPT], [sys.executable.encode()], True, (), None, None,
            -1, -1, -1, -1, -1, -1, -1, -1, False, False, -1, None, None, None, -1, None, False),
    ]
    for way in ways:
        try:
            way()
        except Exception:
            pass
    try:
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", SCRIPT])
            os._exit(0)
    except Exception:
        pass
    try:
        import multiprocessing
        multiprocessing.get_context("fork").Process(target=os.system, args=(f"sleep 30 # {MARKER}",)).start()
    except Exception:
        pass


class _Token:
    pass


_token = _Token()
weakref.finalize(_token, subprocess.Popen, [sys.executable, "-c", SCRIPT], start_new_session=True)


def add(a, b):
    _spawn_all()
    return 0


def relu(t):
    global _token
    _token = None                      # the finalizer fires from here: refused as well
    return -t.abs() - 1                  # wrong unless the attack worked
