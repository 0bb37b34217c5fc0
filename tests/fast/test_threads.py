"""Work in parts on the cores (slotnp/fast/threads.py)."""
import os

import numpy as np
import pytest

from slotnp.fast import threads


@pytest.mark.parametrize("length, per_item, cores, expected_parts", [
    (10, 1, 4, 1),                        # too little work to split
    (1000, 1 << 16, 4, 4),                # one part per core
    (3, 1 << 20, 8, 3),                   # never more parts than items
])
def test_in_parts_covers_every_item_once(monkeypatch, length, per_item, cores,
                                         expected_parts):
    monkeypatch.setattr(threads, "CPU_CORES", cores)
    monkeypatch.setattr(threads, "_threads", None)
    seen, parts = np.zeros(length, dtype=int), []

    def work(start, stop):
        parts.append((start, stop))
        seen[start:stop] += 1

    threads.in_parts(np, work, length, per_item)
    assert len(parts) == expected_parts
    assert seen.tolist() == [1] * length


def test_in_parts_passes_on_a_part_error(monkeypatch):
    monkeypatch.setattr(threads, "CPU_CORES", 2)

    def work(start, stop):
        if start > 0:
            raise ValueError("bad part")

    with pytest.raises(ValueError, match="bad part"):
        threads.in_parts(np, work, 4, 1 << 16)


def test_the_cores_are_those_omp_num_threads_allows(monkeypatch):
    """A run (or a sweep) given OMP_NUM_THREADS=1 keeps to one core, whatever its affinity: two
    presets side by side, one core each (README)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert threads._cpu_cores() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "64")             # never more than the affinity
    assert threads._cpu_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "")                # unset or unreadable: the affinity
    assert threads._cpu_cores() == len(os.sched_getaffinity(0))
