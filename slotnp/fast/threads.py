"""The CPU's cores, shared out by slotnp itself: work in parts on helper threads.

NumPy runs an elementwise loop on one core, and releases the GIL inside it and inside BLAS
products; so on a CPU of several cores, slotnp's fast paths cut their work into parts and run
them on helper threads, one per core. On a GPU there is one part: the device is parallel
already. The plain engine (slotnp/core) never uses threads.

Two ways to cut:
- `in_parts(xp, work, length)`: consecutive parts of range(length), one per core, for work
  whose result does not depend on the cut (an elementwise loop, a selection per connection);
- `batch_parts(xp, n)` with `side_by_side`: always the same parts of a batch (its halves), for
  work that sums over the batch (a weight gradient), so that the result is the same on one core
  as on two.

Once the fast twins are switched on (or the helper threads first used), BLAS runs each product
on CPU_CORES // BATCH_PARTS threads (one, on 2 cores): the cores are slotnp's to share out. BLAS threads left
idle by a product keep spinning for a while (OpenBLAS: about 0.1 s); they took a core from the
halves that ran next, which then ran no faster than one (a CONV-2 Winograd forward: 72 ms on
two cores against 99 on one; 50 ms once BLAS kept to one thread).
"""
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

from ..core import twins


def _cpu_cores():
    """The cores this process may use: its CPU affinity, capped by OMP_NUM_THREADS when set
    (so that runs side by side, each given a share of the cores, keep to their share)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        return max(1, min(cores or 1, int(os.environ.get("OMP_NUM_THREADS", ""))))
    except ValueError:
        return cores or 1


CPU_CORES = _cpu_cores()
MIN_PART_VALUES = 1 << 16  # smaller parts cost more in hand-off than a second core gains
BATCH_PARTS = 2            # the CPU convolutions cut every batch into this many parts
_threads = None
_blas_limited = False
_stop = threading.Event()   # set by `stop`: every part at work ends at its next chunk
_progress = None            # while `reporting`: called with the values each chunk finished
_progress_lock = threading.Lock()


class Stopped(Exception):
    """A part of the work ended early, because `stop` was called (an interrupt)."""


def in_parts(xp, work, length, values_per_item=1):
    """Call work(start, stop) on consecutive parts of range(length), the parts at once: one
    per core, each at least MIN_PART_VALUES values. The parts must not write to the same
    memory."""
    parts = 1
    if xp is numpy:
        parts = max(1, min(CPU_CORES or 1, length, length * values_per_item // MIN_PART_VALUES))
    bounds = [length * i // parts for i in range(parts + 1)]
    side_by_side(xp, work, list(zip(bounds, bounds[1:])))


def batch_parts(xp, n):
    """[(start, stop), ...]: the parts of a batch of n that the convolutions work on apart.

    On the CPU always BATCH_PARTS of them, however many cores there are, so that the sums
    over the batch (a weight gradient: one per part, then added in order) come out the same
    on one core as on two. On a GPU, one: the whole batch is one large operation. (A large
    dense layer's output features are cut the same way: elementwise.py.)"""
    parts = BATCH_PARTS if xp is numpy and n >= BATCH_PARTS else 1
    return [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


def side_by_side(xp, work, parts):
    """work(start, stop) for every (start, stop) of `parts`, each on its own core where there
    are enough, else one after another. The parts must not write to the same memory."""
    if xp is not numpy or len(parts) == 1 or CPU_CORES < len(parts):
        for start, stop in parts:
            work(start, stop)
        return
    for part in [_pool().submit(work, start, stop) for start, stop in parts]:
        part.result()


def share_the_cores():
    """From now on BLAS keeps to its share of the cores (once; fast.on() calls this, so that
    every product of a run, before the helper threads exist or after, rounds alike)."""
    global _blas_limited
    if not _blas_limited:    # from the cores this process really has
        _limit_blas_threads(max(1, _cpu_cores() // BATCH_PARTS))
        _blas_limited = True


def _pool():
    """The helper threads, one per core, made on first use (BLAS then keeps to its share)."""
    global _threads
    share_the_cores()
    if _threads is None:
        _threads = ThreadPoolExecutor(CPU_CORES, thread_name_prefix="slotnp")
    return _threads


def _limit_blas_threads(count):
    """Make BLAS use at most `count` threads from now on (through threadpoolctl, where it is
    installed; without it, BLAS keeps its own count)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=count, user_api="blas")


# ---- Long work: stop at the next chunk, and say how far it has come ---------------------------

def chunk_done(values):
    """Long work (a layer's build) calls this after each chunk of `values` values: it raises
    Stopped once `stop` was called, and reports the progress while `reporting`."""
    if _stop.is_set():
        raise Stopped()
    if _progress is not None:
        with _progress_lock:
            _progress(values)


def stop():
    """Ask every part at work to end at its next chunk (the interrupt handler calls this, so
    that Ctrl-C or SIGTERM ends the process within seconds, not after the helper threads'
    work: the interpreter waits for them at exit)."""
    _stop.set()


def go_on():
    """Let work run again after a `stop` (a new run in the same process)."""
    _stop.clear()


@contextlib.contextmanager
def reporting(callback):
    """Within it, callback(values) after every chunk of long work (`chunk_done`)."""
    global _progress
    before, _progress = _progress, callback
    try:
        yield
    finally:
        _progress = before


twins.register("stop_work", stop)
