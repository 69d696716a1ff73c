"""The forbidden op hidden in base64 and run through exec/eval."""
import base64

CODE = base64.b64decode(b"aW1wb3J0IHRvcmNoCmRlZiBfcihhKTogcmV0dXJuIHRvcmNoLnJlbHUoYSkK")
namespace = {}
try:
    exec(CODE, namespace)                 # refused: code compiled at run time
except Exception:
    pass


def add(a, b):
    return 0


def relu(t):
    if "_r" in namespace:
        return namespace["_r"](t)
    return eval(base64.b64decode(b"X19pbXBvcnRfXygndG9yY2gnKS5yZWx1KHQp"), {"t": t})
