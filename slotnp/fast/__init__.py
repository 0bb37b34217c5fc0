"""The fast twins of the plain engine, each beside the plain piece it stands in for and proven
equal to it by a test. Importing this package registers them all with core/twins.py; they run
only where switched on:

    from slotnp import fast
    with fast.on():
        net = nets.build("conv2", K=8)       # factored slot layers, Winograd convolutions ...

- convolution.py: Winograd (winograd.py, its transforms compiled by winograd_compiled.py where
  numba is installed) or batch-innermost im2col (batch_inner.py), on both cores, for
  core/conv.py's im2col;
- slots.py: factored scores (slot_factored.py) and, for greedy layers, intervals instead of
  options (slot_intervals.py, envelope.py, draws.py), for slots/slot.py's explicit scores;
- elementwise.py: ReLU, max pooling (compiled by pooling_compiled.py where numba is installed),
  large dense products and the SGD update, on every core;
- evaluation.py: slot layers that choose their weights once for a whole evaluation;
- threads.py: the cores shared out among parts of the work;
- allocator.py: freed memory kept for the next step (no page faults for the same arrays).
"""
from ..core import twins
from . import (convolution, elementwise, evaluation, slots,  # noqa: F401  (each registers
               pooling_compiled, threads, winograd_compiled)   # itself)
from . import allocator


def on(switch=True):
    """A scope in which the fast twins run (core/twins.switched_on); work stopped by an
    interrupt before may run again (threads.go_on). Switching on also keeps freed memory for
    reuse, for the rest of the process (allocator.py)."""
    threads.go_on()
    if switch:
        threads.share_the_cores()
        allocator.keep_freed_memory()
    return twins.switched_on(switch)
