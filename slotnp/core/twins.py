"""The switch between the plain engine and its fast twins.

The plain engine (core, slots) names no fast code. A fast twin (slotnp/fast) registers itself
here under the name of the plain piece it stands in for, and the piece asks for it:

    twin = twins.find("conv2d")          # None while the twins are off
    if twin is not None: ...             # the twin's way, else the plain way

The twins are off unless switched on for a scope (`with twins.switched_on():`, after importing
slotnp.fast; train.py does, unless --plain). Each gives its plain piece's results up to float
rounding (each has a test saying so): switching changes speed, not what is computed.
"""
import contextlib

_registry = {}   # name -> twin
_on = False


def register(name, twin):
    """Offer `twin` for the plain piece called `name` (a fast module does this on import)."""
    _registry[name] = twin


def find(name):
    """The twin registered as `name` while the twins are switched on; None otherwise."""
    return _registry.get(name) if _on else None


def switched():
    """Whether the twins are on now."""
    return _on


@contextlib.contextmanager
def switched_on(on=True):
    """Within it, the registered twins are used (or, with on=False, not used)."""
    global _on
    before, _on = _on, bool(on)
    try:
        yield
    finally:
        _on = before
