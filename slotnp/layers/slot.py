"""Slot layers: every connection holds K fixed random options and learns only a score per option.

The forward pass uses, per connection, the option picked by the selection rule:
  greedy:  k* = argmax_k scores[..., k]
  sample:  k* ~ Multinomial(softmax(scores[..., :]))  (drawn anew each training forward)
The effective weight w = options[..., k*] then goes through the ordinary dense layer. Backward
is straight-through: with g = dL/dw from the dense backward, dL/dscores[..., k] = g * options[..., k]
for every k. The options never change.
"""
import numpy as np

from .. import backend, init
from .argmax import first_argmax
from .base import Layer, check_positive_int
from .conv import Conv2d
from .linear import Linear

SELECTIONS = ("greedy", "sample")


def k_first(array):
    """A (K, ...) view of a (..., K) array: free, and contiguous when stored K-first."""
    return backend.xp_of(array).moveaxis(array, -1, 0)


def greedy_choice(scores, options):
    """Per connection, the option with the highest score (the first one on ties).

    scores, options: (..., K). Returns (index (...), chosen option (...)).
    """
    _, index, chosen = first_argmax(list(k_first(scores)), list(k_first(options)))
    return index, chosen


def sampled_index(scores, uniform):
    """One draw per connection from softmax(scores[..., :]), by inverting the CDF at `uniform`.

    scores: (..., K); uniform: (...) values in [0, 1). Returns (...) ints in [0, K).
    """
    xp = backend.xp_of(scores)
    s = k_first(scores)
    probabilities = xp.exp(s - s.max(axis=0))
    cdf = xp.cumsum(probabilities, axis=0)
    # Scaling u by the total normalises the softmax without dividing every entry.
    below = cdf < uniform * cdf[-1]
    return xp.minimum(below.sum(axis=0), scores.shape[-1] - 1)


def gather(options, index):
    """options: (..., K), index: (...) -> the chosen option per connection: (...)."""
    xp = backend.xp_of(options)
    return xp.take_along_axis(k_first(options), index[None].astype(np.intp), axis=0)[0]


def k_last_on_device(array):
    """Upload a host (..., K) array stored K-first, and return the (..., K) view of it.

    Slot work runs over K slices of whole layers (selection, score gradient), so keeping each
    slice contiguous is what makes it fast; the public shape stays (..., K).
    """
    stored = backend.to_device(np.ascontiguousarray(np.moveaxis(array, -1, 0)))
    return backend.xp_of(stored).moveaxis(stored, 0, -1)


class Slots:
    """The K options of one layer and the rule that chooses among them.

    options: weight_shape + (K,), fixed, U(-b*sigma, b*sigma) with b = `option_bound` (the
    paper's 1; see nets.build). With `shared`, the layer has only K
    values, broadcast to every connection. `initial_scores` (U(0, scale*sigma)) is handed to
    the owning layer, which keeps the trainable scores in `params["scores"]`. Both are stored
    K-first in memory (see k_last_on_device).
    """

    def __init__(self, weight_shape, K, scale, selection, shared, rng, dtype, option_bound=1.0):
        self.K = check_positive_int(K, "K (the number of options per connection)")
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}; choose one of {SELECTIONS}")
        self.selection = selection
        self.shared = bool(shared)
        self.sample_at_eval = False
        rng = init.as_generator(rng)
        options = init.slot_options(rng, weight_shape, self.K, dtype, shared=self.shared,
                                   bound=option_bound)
        self.initial_scores = k_last_on_device(
            init.slot_scores(rng, weight_shape, self.K, scale, dtype))
        if self.shared:
            options = backend.to_device(options)
            self.options = backend.xp_of(options).broadcast_to(options, tuple(weight_shape) + (self.K,))
        else:
            self.options = k_last_on_device(options)
        self.reseed(0)

    def reseed(self, seed):
        self.seed = seed
        self._generator = None

    def choose(self, scores, train):
        """The effective weight for a forward pass; remembers the index for inspection."""
        if self.selection == "sample" and (train or self.sample_at_eval):
            if self._generator is None:
                self._generator = backend.random_generator(self.seed)
            uniform = backend.uniform(self._generator, scores.shape[:-1], scores.dtype)
            self.last_index = sampled_index(scores, uniform)
            return gather(self.options, self.last_index)
        self.last_index, weight = greedy_choice(scores, self.options)
        return weight

    def score_grad(self, dW):
        """Straight-through: dL/dscores[..., k] = dL/dw * options[..., k]  (stored K-first)."""
        xp = backend.xp_of(dW)
        return xp.moveaxis(dW[None] * k_first(self.options), 0, -1)


class SlotWeightMixin:
    """What SlotLinear and SlotConv2d add to their dense parent: the weight comes from `slots`.

    The dense forward asks `_forward_weight`, the dense backward hands dW to
    `_store_weight_grad`; everything else (the GEMMs, im2col) is the parent's.
    """

    @property
    def options(self):
        return self.slots.options

    @property
    def K(self):
        return self.slots.K

    def _forward_weight(self, train):
        return self.slots.choose(self.params["scores"], train)

    def _store_weight_grad(self, dW):
        self.grads["scores"] = self.slots.score_grad(dW)

    def reseed(self, seed):
        """Restart the sampling of `selection="sample"` from `seed`."""
        self.slots.reseed(seed)

    def selected(self):
        """The option index each connection uses at evaluation (argmax): weight_shape ints."""
        return greedy_choice(self.params["scores"], self.options)[0]

    def weight(self):
        """The effective weight at evaluation: weight_shape."""
        return greedy_choice(self.params["scores"], self.options)[1]

    def _slot_repr(self):
        shared = ", shared=True" if self.slots.shared else ""
        return f"K={self.K}, selection={self.slots.selection!r}{shared}"


class SlotLinear(SlotWeightMixin, Linear):
    """A Linear layer whose weight (out, in) is chosen from K options per connection.

    Trainable: `params["scores"]`, (out_features, in_features, K); fixed: `options`, same shape.
    Scores start at U(0, 0.1 sigma).
    """

    def __init__(self, in_features, out_features, K, selection="greedy", shared=False, rng=None,
                 dtype=np.float32, option_bound=1.0):
        Layer.__init__(self)  # not Linear.__init__: there is no learned weight to draw
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.slots = Slots(self.weight_shape, K, 0.1, selection, shared, rng, dtype, option_bound)
        self.params["scores"] = self.slots.initial_scores

    def freeze(self):
        """A dense Linear holding the selected weights, for fine-tuning with ordinary SGD."""
        dense = Linear(self.in_features, self.out_features, dtype=self.options.dtype)
        dense.params["W"] = self.weight().copy()
        return dense

    def __repr__(self):
        return f"SlotLinear({self.in_features}, {self.out_features}, {self._slot_repr()})"


class SlotConv2d(SlotWeightMixin, Conv2d):
    """A Conv2d whose weight (F, C, KH, KW) is chosen from K options per connection.

    Trainable: `params["scores"]`, (F, C, KH, KW, K); fixed: `options`, same shape.
    Scores start at U(0, sigma).
    """

    def __init__(self, in_channels, out_channels, kernel_size, K, stride=1, padding=0,
                 selection="greedy", shared=False, rng=None, dtype=np.float32, option_bound=1.0):
        Layer.__init__(self)  # not Conv2d.__init__: there is no learned weight to draw
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self.slots = Slots(self.weight_shape, K, 1.0, selection, shared, rng, dtype, option_bound)
        self.params["scores"] = self.slots.initial_scores

    def freeze(self):
        """A dense Conv2d holding the selected weights, for fine-tuning with ordinary SGD."""
        dense = Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                       self.padding, dtype=self.options.dtype)
        dense.params["W"] = self.weight().copy()
        return dense

    def __repr__(self):
        return Conv2d.__repr__(self)[:-1] + f", {self._slot_repr()})"
