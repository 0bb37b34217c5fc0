"""Edge-popup layers (Ramanujan et al., CVPR 2020), the other way to train a net without
changing its weights: one fixed random weight W per connection, a learned score each, and per
layer only the `keep` fraction with the largest |score| in use (n - int((1 - keep) n) of n, as
the authors' code keeps), so w = W * mask. Backward is straight-through, as for slot layers:
dL/dscore = dL/dw * W * sign(score), kept or not.

As in allenai/hidden-networks, W is the "signed constant" +-sqrt(2 / fan_in) or Kaiming normal
N(0, 2 / fan_in), and the scores start U(-1/sqrt(fan_in), 1/sqrt(fan_in)); W is drawn on the
host from the net's seed, never stored. The plain top-k, a full sort: tests/naive.py.
"""
import math

import numpy as np

from ..core import backend, init
from ..core.base import Layer
from ..core.conv import Conv2d
from ..core.linear import Linear

INITS = ("signed_constant", "kaiming_normal")


def top_fraction_mask(scores, keep):
    """A bool mask of scores' shape: True for the n - int((1 - keep) n) largest |scores|."""
    xp = backend.xp_of(scores)
    magnitude = xp.abs(scores).reshape(-1)
    n = magnitude.size
    dropped = int((1 - keep) * n)
    mask = xp.zeros(n, dtype=bool)
    if dropped < n:
        # the kept ones: a partition puts the `dropped` smallest first, in any order
        mask[xp.argpartition(magnitude, dropped)[dropped:] if dropped else slice(None)] = True
    return mask.reshape(scores.shape)


class Supermask:
    """The fixed weight and the kept fraction of one edge-popup layer; the layer's `params`
    holds its scores {"scores"}."""

    def __init__(self, weight_shape, keep, weight_init, rng, dtype):
        if not isinstance(keep, (int, float)) or not 0 < keep <= 1:
            raise ValueError(f"keep (the fraction of connections kept) must be in (0, 1], "
                             f"got {keep!r}")
        if weight_init not in INITS:
            raise ValueError(f"unknown weight_init {weight_init!r}; choose one of {INITS}")
        self.keep, self.weight_init = float(keep), weight_init
        rng, fan_in = init.as_generator(rng), init.fans(weight_shape)[0]
        std, bound = math.sqrt(2.0 / fan_in), 1.0 / math.sqrt(fan_in)
        normal = rng.normal(0.0, std, size=weight_shape)
        weight = np.sign(normal) * std if weight_init == "signed_constant" else normal
        self._scores = rng.uniform(-bound, bound, size=weight_shape).astype(dtype)
        self.weight = backend.to_device(weight.astype(dtype))

    def initial_scores(self):
        """The scores' initial values, on the device (handed over once, to the layer)."""
        scores, self._scores = self._scores, None
        return backend.to_device(scores)

    def mask(self, scores):
        return top_fraction_mask(scores, self.keep)

    def digest_parts(self):
        return [np.ascontiguousarray(backend.to_host(self.weight)).tobytes()]


class EdgePopupWeightMixin:
    """What EdgePopupLinear and EdgePopupConv2d add to their dense parent: the weight W * mask
    (forward), the straight-through score gradient (backward)."""

    def _make_supermask(self, keep, weight_init, rng, dtype):
        self.supermask = Supermask(self.weight_shape, keep, weight_init, rng, dtype)
        self.params["scores"] = self.supermask.initial_scores()

    def _forward_weight(self, train):
        scores = self.params["scores"]
        self.last_mask = self.supermask.mask(scores)
        return self.supermask.weight * self.last_mask

    def _store_weight_grad(self, dW):
        scores = self.params["scores"]
        self.grads["scores"] = dW * self.supermask.weight * backend.xp_of(scores).sign(scores)

    def selected(self):
        """The connections in use: a bool mask of the weight's shape."""
        return self.supermask.mask(self.params["scores"])

    def weight(self):
        """The effective weight: W * mask."""
        return self.supermask.weight * self.selected()

    def freeze(self, index=None):
        """A dense layer holding W * mask."""
        return self.dense_with(self.weight())

    def _supermask_repr(self):
        return f"keep={self.supermask.keep:g}, weight_init={self.supermask.weight_init!r}"


class EdgePopupLinear(EdgePopupWeightMixin, Linear):
    """A Linear layer using the `keep` fraction of its fixed weights (out, in) with the
    largest |score|. Trainable: `params["scores"]`, (out, in) (and `bias`, (out,))."""

    def __init__(self, in_features, out_features, keep=0.5, weight_init="signed_constant",
                 rng=None, dtype=np.float32, bias=False):
        Layer.__init__(self)  # not Linear.__init__: its weight is drawn below, and fixed
        self._set_geometry(in_features, out_features)
        self._make_supermask(keep, weight_init, rng, dtype)
        self._set_bias(bias, dtype)

    def __repr__(self):
        return f"EdgePopupLinear({self.in_features}, {self.out_features}{self._bias_repr()}, " \
               f"{self._supermask_repr()})"


class EdgePopupConv2d(EdgePopupWeightMixin, Conv2d):
    """A Conv2d using the `keep` fraction of its fixed weights (F, C, KH, KW) with the largest
    |score|. Trainable: `params["scores"]`, (F, C, KH, KW) (and `bias`, (F,))."""

    def __init__(self, in_channels, out_channels, kernel_size, keep=0.5, stride=1, padding=0,
                 weight_init="signed_constant", rng=None, dtype=np.float32, bias=False):
        Layer.__init__(self)
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self._make_supermask(keep, weight_init, rng, dtype)
        self._set_bias(bias, dtype)

    def __repr__(self):
        return Conv2d.__repr__(self)[:-1] + f", {self._supermask_repr()})"
