"""Freed memory kept for the next step, instead of handed back to the kernel.

glibc's allocator gives every block above its mmap threshold (which grows to 32 MiB at most)
straight back to the kernel when it is freed. A training step frees and asks again for the same
large arrays every time (CONV-2's activations and their gradients at batch 128, 32 MiB each:
above the threshold by malloc's header), and a block asked for again comes back as fresh pages,
each zeroed by the kernel at its first touch: a page fault. Raising the mmap threshold keeps
such blocks in the heap, and the trim threshold keeps the heap from being handed back, so the
next step finds them: a CONV-2 K = 8 step made 2,879 and 4,126 page faults, then 3 and 4
(bench/RESULTS.md, run 12). What a process holds then no longer shrinks between steps.

Only glibc has `mallopt`; elsewhere this does nothing. (Blocks over 64 MiB that a helper
thread asks for are still mapped and handed back: its arena's heaps are 64 MiB.)
"""
import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4     # glibc's <malloc.h>
THRESHOLD = 2 ** 31 - 1                                         # the largest int mallopt takes

_kept = None   # whether freed large blocks are kept, once tried


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds, once per process; True where freed large blocks
    are now kept."""
    global _kept
    if _kept is None:
        try:
            mallopt = ctypes.CDLL(None).mallopt       # the C library the process runs on
        except (OSError, AttributeError, TypeError):  # not glibc: no mallopt
            _kept = False
        else:
            mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
            mallopt(M_TRIM_THRESHOLD, THRESHOLD)
            # An older glibc refuses thresholds over 32 MiB: then no block is mapped at all.
            _kept = mallopt(M_MMAP_THRESHOLD, THRESHOLD) == 1 or mallopt(M_MMAP_MAX, 0) == 1
    return _kept
