"""The slot values of version 2 drawn in part: a range of connections (`slot_values_range`,
from the blocks that hold it), or any connections' K options and initial scores read at their
own place in their block's stream, without drawing the rest (`slot_values_at`).

core/init.py's `slot_values` draws whole blocks of connections, each from its own
counter-based stream (Philox). Philox gives 4 values per counter step, so the values of one
connection start at a known counter inside its block: setting the counter there reads them
alone. Interval layers (slot_intervals.py) build in ranges and select a few connections anew.
tests/fast/test_slot_intervals.py checks both against `slot_values` value for value.
"""
import math

import numpy as np

from ..core import init


def slot_values_range(key, weight_shape, K, bound, score_bound, start, stop, dtype=np.float64):
    """init.slot_values of connections start:stop only: two (stop - start, K) arrays, drawn
    from the blocks that hold them."""
    sigma, total = init.glorot_sigma(weight_shape), math.prod(weight_shape)
    G = init.block_connections(K)
    options, scores = np.empty((stop - start, K), dtype), np.empty((stop - start, K), dtype)
    for block in range(start // G, (stop + G - 1) // G if stop > start else start // G):
        first, last = block * G, min((block + 1) * G, total)
        stream = init.block_stream(key, block)
        block_options = stream.uniform(-bound * sigma, bound * sigma, size=(last - first, K))
        block_scores = stream.uniform(0.0, score_bound * sigma, size=(last - first, K))
        take = slice(max(first, start) - first, min(last, stop) - first)
        into = slice(max(first, start) - start, min(last, stop) - start)
        options[into], scores[into] = block_options[take], block_scores[take]
    return options, scores


def slot_values_at(key, weight_shape, K, bound, score_bound, connections):
    """slot_values of the connections `connections` (flat indices, any order): (n, K) twice,
    each connection's values read from its block's stream at their own place (Philox is
    counter-based: 4 values per counter step), without drawing the rest of the block."""
    sigma = init.glorot_sigma(weight_shape)
    total, G = math.prod(weight_shape), init.block_connections(K)
    generator = np.random.Philox(key=np.asarray(key, np.uint64))
    draw = np.random.Generator(generator)
    state = generator.state
    uniforms = np.empty((2, len(connections), K))

    def read(block, offset, out):
        state["state"]["counter"][:] = [offset // 4, 0, block, 0]   # counter block << 128 + ...
        state["buffer_pos"] = 4                                    # ... with an empty buffer
        generator.state = state
        out[...] = draw.random(offset % 4 + K)[offset % 4:]

    for i, j in enumerate(np.asarray(connections, dtype=np.int64)):
        block, within = divmod(int(j), G)
        in_block = min(G, total - block * G)
        read(block, within * K, uniforms[0, i])                   # its options, then ...
        read(block, (in_block + within) * K, uniforms[1, i])      # ... its initial scores
    # as Generator.uniform(low, high) computes them: low + (high - low) * u
    return (-bound * sigma + (2 * bound * sigma) * uniforms[0],
            0.0 + (score_bound * sigma - 0.0) * uniforms[1])
