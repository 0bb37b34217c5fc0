"""Freed memory kept for the next step, instead of handed back to the kernel.

glibc's allocator gives every block above its mmap threshold (which grows to 32 MB at most)
straight back to the kernel when it is freed. A training step frees and asks again for the same
large arrays every time (CONV-2's activations and their gradients, 33.5 MB each at batch 128),
and a block asked for again comes back as fresh pages, each zeroed by the kernel at its first
touch: a page fault. Raising the mmap and trim thresholds keeps freed blocks in the heap, where
the next step finds them (bench/RESULTS.md, run 12: a CONV-2 K = 8 step made 2,809 page faults,
then 2). The process's peak memory stays what it was; it only no longer shrinks between steps.

Only glibc has `mallopt`; elsewhere this does nothing.
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3     # glibc's <malloc.h>
THRESHOLD = 2 ** 31 - 1                         # the largest value mallopt's int takes

_kept = None   # whether the thresholds are set, once tried


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds, once per process; True where they are set."""
    global _kept
    if _kept is None:
        try:
            mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        except (OSError, AttributeError):           # not glibc: no mallopt
            _kept = False
        else:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            _kept = mallopt(M_MMAP_THRESHOLD, THRESHOLD) == 1 and \
                mallopt(M_TRIM_THRESHOLD, THRESHOLD) == 1
    return _kept
