"""Plain mode: the textbook path everywhere, for reading and stepping through in a debugger.

  from slotnp import plain
  plain.use()               # or: python train.py --plain ...

In plain mode convolutions run im2col and one GEMM (conv.py's first functions), nets built by
nets.build keep their slot scores explicit (slot.py's plain Slots: argmax, pick, and the
one-line straight-through rule), and nothing runs on extra threads. The results equal the
fast paths' up to float rounding (tests/test_plain.py), only slower: the fast paths are twins
of these, each proven equal by its own test.
"""
from . import backend
from .layers import Conv2d

enabled = False


def use(on=True):
    """Switch plain mode on (or off: the fast default paths)."""
    global enabled
    enabled = bool(on)
    Conv2d.path = "im2col" if enabled else "auto"
    backend.threaded = not enabled
