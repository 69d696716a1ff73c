"""Write forged result events to every file descriptor (the result channel is one of them),
re-open descriptors through /proc/self/fd, and guess the nonce."""
import json
import os

CHECKS = ("test_add_small", "test_add_any", "test_relu_values", "test_relu_dtype")


def _events():
    for nonce in ("", "0" * 32, "nonce", "deadbeef" * 4):
        for check in CHECKS:
            yield (json.dumps({"event": "result", "id": "test_hidden.py::" + check,
                               "outcome": "passed", "message": "", "nonce": nonce}) + "\n").encode()
        yield (json.dumps({"event": "done", "nonce": nonce}) + "\n").encode()


def _spray():
    payload = b"".join(_events())
    for fd in range(3, 1024):
        try:
            os.write(fd, payload)
        except OSError:
            pass
    try:
        for name in os.listdir("/proc/self/fd"):
            try:
                with open(f"/proc/self/fd/{name}", "wb") as fh:
                    fh.write(payload)
            except OSError:
                pass
    except OSError:
        pass


_spray()


def add(a, b):
    _spray()
    return 0


def relu(t):
    _spray()
    return -t.abs() - 1                  # wrong unless the attack worked
