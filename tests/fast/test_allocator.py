"""Freed memory kept for reuse (fast/allocator.py): a large array freed and asked for again
comes back without page faults, where glibc otherwise hands it back to the kernel."""
import os
import platform
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAULTS = """
import ctypes, resource, sys
import numpy as np
from slotnp.fast import allocator
ctypes.CDLL(None).prctl(41, 1, 0, 0, 0)   # PR_SET_THP_DISABLE: count 4 KiB pages, not 2 MiB
print(allocator.keep_freed_memory() if sys.argv[1] == "keep" else "default")
for step in range(6):
    if step == 1:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.empty(40 << 20, np.uint8)     # above glibc's largest mmap threshold (32 MiB)
    a.fill(1)                            # touches every page
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
# what would change glibc's allocator in the child, or replace it
ALLOCATOR_SETTINGS = ("LD_PRELOAD", "GLIBC_TUNABLES")


def faults(mode):
    env = {name: value for name, value in os.environ.items()
           if name not in ALLOCATOR_SETTINGS and not name.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_a_freed_large_array_comes_back_without_page_faults():
    answer, kept = faults("keep")
    _, handed_back = faults("default")
    assert answer == "True"
    # 5 allocations of 40 MiB: 10,240 pages each when handed back and mapped again
    assert handed_back >= 5000 and kept < 100, (handed_back, kept)


def test_switching_the_twins_on_keeps_freed_memory(monkeypatch):
    from slotnp import fast
    from slotnp.fast import allocator
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1))
    with fast.on():
        pass
    with fast.on(False):
        pass
    assert calls == [1]
