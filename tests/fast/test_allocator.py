"""Freed memory kept for reuse (fast/allocator.py): a large array freed and asked for again
comes back without page faults, where glibc otherwise hands it back to the kernel."""
import subprocess
import sys

import pytest

from slotnp.fast import allocator

FAULTS = """
import resource, sys
import numpy as np
from slotnp.fast import allocator
print(allocator.keep_freed_memory() if sys.argv[1] == "keep" else "default")
for step in range(6):
    if step == 1:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a = np.empty(40 << 20, np.uint8)     # above glibc's largest mmap threshold (32 MB)
    a.fill(1)                            # touches every page
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode):
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0], int(out[1])


def test_a_freed_large_array_comes_back_without_page_faults():
    answer, kept = faults("keep")
    if answer == "False":
        pytest.skip("no glibc mallopt here")
    _, handed_back = faults("default")
    # 5 allocations of 40 MB: at least 20 faults each handed back (2 MB pages), about none kept
    assert handed_back >= 100 and kept < 20, (handed_back, kept)


def test_switching_the_twins_on_keeps_freed_memory(monkeypatch):
    from slotnp import fast
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1))
    with fast.on():
        pass
    with fast.on(False):
        pass
    assert calls == [1]
