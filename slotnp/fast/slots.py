"""The fast twin of slots/slot.py's Slots, registered as "slots": factored scores, and, for
greedy layers, no options in memory.

`make` builds what a factored slot layer holds: slot_intervals.py's IntervalSlots for greedy,
unshared layers of version-2 options with K >= 2 on NumPy (a winner and its intervals per
connection, whatever K), else slot_factored.py's FactoredSlots (the options kept, selection
streamed over them): sampled and shared layers, K = 1, version-1 options, on a GPU (which
streams over the options with no reads from the device), and where `keep_options` asks for
them.
"""
import numpy as np

from ..core import backend, twins
from .slot_factored import FactoredSlots
from .slot_intervals import IntervalSlots

INTERVALS_MIN_OPTIONS = 2   # from here on greedy layers keep no options (slot_intervals.py):
# one training step (bench/profile_step.py, lr 0.2), CONV-2's fc1 forward with options kept
# against intervals: K=2 56 -> 20 ms, K=8 101 -> 22 ms on one core; a Lenet step K=2 3.6 ->
# 2.6 ms, K=8 5.8 -> 5.2 ms


def keeps_no_options(score_form, selection, shared, options_version, K, keep_options=False):
    """Whether slots of these settings are slot_intervals.py's, which keep no options in
    memory: factored greedy slots of unshared version-2 options, K >= INTERVALS_MIN_OPTIONS,
    on NumPy (a GPU streams over the options instead: no reads), unless `keep_options`."""
    return (score_form == "factored" and selection == "greedy" and not shared
            and options_version == 2 and not keep_options and K >= INTERVALS_MIN_OPTIONS
            and backend.xp() is np)


def make(weight_shape, K, score_bound, selection, shared, rng, dtype, option_bound=1.0,
         options_version=2, keep_options=False):
    """The factored slots of one layer (Slots' arguments)."""
    args = (weight_shape, K, score_bound, selection, shared, rng, dtype, option_bound,
            options_version)
    sharing = shared is not None and shared is not False       # (the net's values: an array)
    if keeps_no_options("factored", selection, sharing, options_version, K, keep_options):
        return IntervalSlots(*args)
    return FactoredSlots(*args)


twins.register("slots", make)
