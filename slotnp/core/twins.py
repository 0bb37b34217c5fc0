"""The switch between the plain engine and its fast twins. The plain engine names no fast code:
a twin (slotnp/fast) registers itself under the name of the plain piece it stands in for, and
the piece asks `twin = twins.find("conv2d")`, None while the twins are off. They are on only
within `with twins.switched_on():` (train.py, unless --plain). Each twin computes its piece's
results up to float rounding (a test each): switching changes speed, not what is computed.
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
