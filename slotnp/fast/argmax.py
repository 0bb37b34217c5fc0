"""The first maximum of a list of same-shape arrays, found in one streaming pass.

Slot selection (argmax over K options) and max pooling (argmax over window taps) both need the
index of the first maximum across a short list of large arrays. NumPy's argmax along a short
axis works row by row; comparing whole arrays instead reads each of them once, at full speed.
"""
import numpy as np

from ..core import backend


def first_argmax(candidates, companions=None, count=None):
    """candidates: K arrays of one shape -> (maximum, index of its first occurrence, picked).

    `candidates` may also be an iterator (pass `count`=K); it may yield one reused buffer.
    `picked` holds, element by element, companions[index] (None without companions): the
    option that belongs to the best score, for example. Index dtype: the smallest that holds K.
    A NaN makes the maximum NaN but never takes the index (np.argmax would give it the NaN's).
    """
    count = len(candidates) if count is None else count
    candidates = iter(candidates)
    first = next(candidates)
    xp = backend.xp_of(first)
    # *_like keeps the candidates' memory order (batch-innermost activations stay so).
    best = xp.empty_like(first)
    best[...] = first
    index = xp.zeros_like(best, dtype=np.min_scalar_type(count - 1))
    picked = None
    if companions is not None:
        picked = xp.empty_like(companions[0])
        picked[...] = companions[0]
    better = xp.empty_like(best, dtype=bool)
    for k, candidate in enumerate(candidates, start=1):
        xp.greater(candidate, best, out=better)       # strictly: the first maximum wins
        xp.maximum(best, candidate, out=best)
        index += better * (index.dtype.type(k) - index)  # index = k where better (no masked copy)
        if picked is not None:
            picked = xp.where(better, companions[k], picked)
    return best, index, picked
