"""Initial values, always drawn on the host from one seeded NumPy Generator.

Drawing on the host (then copying to the device) means one seed gives bit-identical networks on
NumPy and CuPy. Every draw is made in float64 and then cast, so float32 and float64 networks of
the same seed hold the same values up to rounding.
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
    sigma = glorot_sigma(weight_shape)
    return as_generator(rng).normal(0.0, sigma, size=weight_shape).astype(dtype)


def slot_options(rng, weight_shape, K, dtype, shared=False, bound=1.0):
    """K fixed candidate values per connection, U(-bound*sigma, bound*sigma): weight_shape + (K,).

    The paper's bound is 1. With `shared`, one set of K values serves every connection of the
    layer: shape (K,).
    """
    limit = bound * glorot_sigma(weight_shape)
    shape = (K,) if shared else tuple(weight_shape) + (K,)
    return as_generator(rng).uniform(-limit, limit, size=shape).astype(dtype)


def slot_scores(rng, weight_shape, K, scale, dtype):
    """Initial scores U(0, scale * sigma): shape weight_shape + (K,).

    The paper uses scale (lambda) = 1 for convolutions and 0.1 for linear layers.
    """
    sigma = glorot_sigma(weight_shape)
    shape = tuple(weight_shape) + (K,)
    return as_generator(rng).uniform(0.0, scale * sigma, size=shape).astype(dtype)
