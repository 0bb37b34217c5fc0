"""Initial values, always drawn on the host from one seeded NumPy Generator, in float64 and then
cast: one seed gives the same network on NumPy and CuPy, in float32 and float64.

Slot options and initial scores (version 2) come from a key per layer, in blocks of connections,
each block from its own counter-based stream (Philox), so that any block can be drawn again
alone (fast/draws.py). Version 1, one stream through the net, is in run/compat.py.
"""
import math

import numpy as np


def as_generator(rng):
    """A NumPy Generator from a Generator, an int seed, or None (seed 0)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


def fans(weight_shape):
    """(fan_in, fan_out) of a weight: Linear (out, in) or Conv2d (F, C, KH, KW).

    For a convolution both fans count the kernel taps: fan_in = KH*KW*C, fan_out = KH*KW*F.
    """
    if len(weight_shape) == 2:
        fan_out, fan_in = weight_shape
        return fan_in, fan_out
    out_channels, in_channels, kh, kw = weight_shape
    return kh * kw * in_channels, kh * kw * out_channels


def glorot_sigma(weight_shape):
    """sigma = sqrt(2 / (fan_in + fan_out)), the scale of the paper's weight options."""
    fan_in, fan_out = fans(weight_shape)
    return math.sqrt(2.0 / (fan_in + fan_out))


def learned_weight(rng, weight_shape, dtype):
    """An ordinary trainable weight: Glorot normal, N(0, sigma^2) with the same sigma."""
    return as_generator(rng).normal(0.0, glorot_sigma(weight_shape), weight_shape).astype(dtype)


OPTIONS_VERSION = 2
BLOCK_VALUES = 1 << 13   # options per block of connections (and as many initial scores)
SHARED_BLOCK = 1 << 64   # the counter block of a layer's shared options, beyond every other


def slot_key(rng):
    """A layer's key for its slot values: two words from the net's Generator (or int seed)."""
    return as_generator(rng).integers(0, 2 ** 63, size=2, dtype=np.uint64)


def block_connections(K):
    """Connections per block: about BLOCK_VALUES options, at least one connection."""
    return max(1, BLOCK_VALUES // K)


def block_stream(key, block):
    """The Generator of one block: Philox, counter-based, keyed by the layer's key."""
    return np.random.Generator(np.random.Philox(key=np.asarray(key, np.uint64),
                                                counter=int(block) << 128))


def slot_values(key, weight_shape, K, bound, score_bound):
    """Options U(-bound*sigma, bound*sigma) and initial scores U(0, score_bound*sigma) of every
    connection of a weight (C order): two (n, K) arrays. Block b, connections b*G:(b+1)*G, draws
    its options, then its scores, from its own stream (fast/draws.py reads any range alone)."""
    sigma, total, G = glorot_sigma(weight_shape), math.prod(weight_shape), block_connections(K)
    options, scores = np.empty((total, K)), np.empty((total, K))
    for first in range(0, total, G):
        stream, block = block_stream(key, first // G), slice(first, min(first + G, total))
        options[block] = stream.uniform(-bound * sigma, bound * sigma, size=options[block].shape)
        scores[block] = stream.uniform(0.0, score_bound * sigma, size=scores[block].shape)
    return options, scores


def draw_slot_values(rng, version, weight_shape, K, bound, score_bound, shared, dtype):
    """(key, options, initial scores) of one slot layer, drawn as `version` says: options
    weight_shape + (K,), or (K,) when `shared` (True, or the net's values: network_options)."""
    if version not in DRAWS:
        raise ValueError(f"unknown options_version {version!r}: this slotnp draws options "
                         f"by version {' or '.join(map(str, sorted(DRAWS)))}; another slotnp "
                         "wrote this run")
    return DRAWS[version](rng, tuple(weight_shape), K, bound, score_bound, shared, dtype)


def draw_version_2(rng, shape, K, bound, score_bound, shared, dtype):
    """Version 2: a key taken from `rng` (returned), then every block from its own stream."""
    key = slot_key(rng)
    options, scores = slot_values(key, shape, K, bound, score_bound)
    if isinstance(shared, np.ndarray):             # the net's values, at this layer's scale
        options = shared * glorot_sigma(shape)
    elif shared:                                   # the layer's own K values
        limit = bound * glorot_sigma(shape)
        options = block_stream(key, SHARED_BLOCK).uniform(-limit, limit, size=K)
    else:
        options = options.reshape(shape + (K,))
    return key, options.astype(dtype), scores.reshape(shape + (K,)).astype(dtype)


# How each version of the options is drawn; older versions register themselves
# (run/compat.py: version 1, for runs saved before version 2).
DRAWS = {2: draw_version_2}


def network_options(seed, K, bound):
    """The K values U(-bound, bound), in units of sigma, of a net sharing them network-wide;
    each layer scales them by its own sigma, so only the pattern of K numbers is shared."""
    key = np.random.SeedSequence([seed, K]).generate_state(2, np.uint64)
    return block_stream(key, SHARED_BLOCK).uniform(-bound, bound, size=K)
