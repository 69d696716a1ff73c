"""Sealed stand-ins: a primitive's original kept where Python code cannot reach it."""

from __future__ import annotations

def seal(original, gate=None):
    """A stand-in for `original` that calls it only when `gate(args, kwargs)` returns None
    (else raises PermissionError with the text it returned).

    The original lives only in a suspended generator's frame, which Python code reaches through
    `gi_frame` (audited, refused) or gc (refused); the stand-in is a function whose globals hold
    nothing but that generator's `send` and a lock, so it cannot be unwrapped, and it leads
    nowhere (a plain function of this module would hand out this module's globals)."""
    import threading

    def vault(original=original, gate=gate):
        reply = None
        while True:
            args, kwargs = yield reply
            try:
                refusal = gate(args, kwargs) if gate is not None else None
            except BaseException as exc:  # noqa: BLE001 - the vault must never stop
                refusal = f"refused ({type(exc).__name__} in the gate)"
            if refusal:
                reply = (False, PermissionError(f"torchdrill: {refusal}"))
                continue
            try:
                reply = (True, original(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                reply = (False, exc)

    gen = vault()
    next(gen)
    namespace = {"__builtins__": __builtins__, "_send": gen.send, "_lock": threading.RLock()}
    exec(_STAND_IN, namespace)  # noqa: S102 - our own constant source, compiled at import
    stand_in = namespace["stand_in"]
    stand_in.__name__ = stand_in.__qualname__ = str(getattr(original, "__name__", "sealed"))
    stand_in.__doc__ = getattr(original, "__doc__", None)
    return stand_in


_STAND_IN = compile(
    "def stand_in(*args, **kwargs):\n"
    "    with _lock:\n"
    "        ok, value = _send((args, kwargs))\n"
    "    if ok:\n"
    "        return value\n"
    "    raise value\n",
    "<torchdrill-sealed>", "exec")


def opaque(fn):
    """`fn` behind a stand-in that leads nowhere (for callables handed to candidate reach)."""
    return seal(fn)
