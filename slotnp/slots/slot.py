"""Slot layers: every connection holds K fixed random options and learns only a score per option.

Per connection the selection rule picks k*: greedy, k* = argmax_k scores[..., k]; sample,
k* ~ softmax(scores[..., :]), drawn anew each training forward. The effective weight
w = options[..., k*] goes through the dense parent (Linear, Conv2d) via its two weight hooks
(`SlotWeightMixin`). Backward is straight-through: dL/dscores[..., k] = dL/dw * options[..., k].
Here the scores are K plain numbers per connection ("explicit"); the fast twin ("factored",
slotnp/fast) runs the same SGD on one per connection, one per layer. Loop oracles: tests/naive.py.
"""
import numpy as np

from ..core import backend, init, twins
from ..core.base import Layer, check_int
from ..core.conv import Conv2d
from ..core.linear import Linear

SELECTIONS = ("greedy", "sample")
SCORE_FORMS = ("factored", "explicit")


# ---- The method, on (..., K) arrays: one connection per leading index --------------------------

def greedy_index(scores):
    """k* = argmax_k scores[..., k] (the first one on ties): (...) ints."""
    return scores.argmax(axis=-1)


def sampled_index(scores, uniform):
    """k* ~ softmax(scores[..., :]), by inverting the CDF at `uniform` (...) in [0, 1)."""
    xp = backend.xp_of(scores)
    cdf = xp.cumsum(xp.exp(scores - scores.max(axis=-1, keepdims=True)), axis=-1)
    # Scaling u by the total normalises the softmax without dividing every entry.
    below = cdf < (uniform * cdf[..., -1])[..., None]
    return xp.minimum(below.sum(axis=-1), scores.shape[-1] - 1)


def pick(options, index):
    """The chosen option of every connection: options[..., index]: (...)."""
    xp = backend.xp_of(options)
    return xp.take_along_axis(options, index[..., None].astype(np.intp), axis=-1)[..., 0]


def straight_through(dW, options):
    """dL/dscores[..., k] = dL/dw * options[..., k], for every k (the paper's rule)."""
    return dW[..., None] * options


class Slots:
    """The K options of one layer, its initial scores, and the rule that chooses (plain form).

    options: weight_shape + (K,), fixed, U(-b*sigma, b*sigma), b = `option_bound`; `shared`: every
    connection has the layer's own K values (True) or the net's, in units of sigma (an array,
    init.network_options). Scores start U(0, score_bound*sigma) (the paper's lambda) and live in
    the owning layer's `params["scores"]`.
    """
    score_form = "explicit"

    def __init__(self, weight_shape, K, score_bound, selection, shared, rng, dtype,
                 option_bound=1.0, options_version=init.OPTIONS_VERSION):
        self.K = check_int(K, "K (the number of options per connection)")
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}; choose one of {SELECTIONS}")
        if not option_bound > 0:
            raise ValueError(f"option_bound must be positive, got {option_bound}")
        self.selection, self.score_bound = selection, score_bound
        self.shared = shared is not None and shared is not False   # K values for the layer
        self.network_values = shared if isinstance(shared, np.ndarray) else None
        self.weight_shape, self.option_bound = tuple(weight_shape), option_bound
        self._store(*self._draw(init.as_generator(rng), options_version, dtype))
        self.reseed(0)

    def _draw(self, rng, version, dtype):
        """(options, initial scores) as host arrays; keeps the key."""
        self.key, options, scores = init.draw_slot_values(
            rng, version, self.weight_shape, self.K, self.option_bound, self.score_bound,
            self.shared if self.network_values is None else self.network_values, dtype)
        return options, scores

    def _store(self, options, scores):
        """Keep the drawn values on the device, (..., K) in memory order."""
        options = backend.to_device(options)
        if self.shared:                        # a read-only view: one set of K values
            options = backend.xp_of(options).broadcast_to(options, self.weight_shape + (self.K,))
        self.options, self.initial_scores = options, backend.to_device(scores)

    def initial_params(self):
        """The trainable arrays at the start, by name."""
        scores, self.initial_scores = self.initial_scores, None      # handed over, not copied
        return {"scores": scores}

    def reseed(self, seed):
        """Restart the sampling of training forwards from `seed`."""
        self.seed, self._generator = seed, None

    def scores(self, params):
        """The current scores: weight_shape + (K,)."""
        return params["scores"]

    def greedy(self, params, reuse=False):
        """(index, option) of each connection's highest score (`reuse`: a twin may answer from
        its last selection)."""
        index = greedy_index(params["scores"])
        return index, pick(self.options, index)

    def choose(self, params, train):
        """The effective weight of a forward: a draw in training (selection "sample"), else
        the best score's option; remembers the index (`last_index`)."""
        if self.selection == "sample" and train:
            if self._generator is None:
                self._generator = backend.random_generator(self.seed)
            self.last_index = self.sample(params, self._generator)
            return self.pick(self.last_index)
        self.last_index, weight = self.greedy(params, reuse=not train)
        return weight

    def sample(self, params, generator):
        """One draw of k* per connection from softmax(scores), with uniforms of `generator`."""
        uniform = backend.uniform(generator, self.weight_shape, self.options.dtype)
        return sampled_index(self.scores(params), uniform)

    def pick(self, index):
        return pick(self.options, index)

    def digest_parts(self):
        """Byte strings that identify this layer's options (the checkpoint's digest)."""
        arrays = [self.options] + ([] if self.initial_scores is None else [self.initial_scores])
        return [np.ascontiguousarray(backend.to_host(a)).tobytes() for a in arrays]

    def gradients(self, dW):
        """The trainable arrays' gradients from g = dL/dw (weight_shape), by name."""
        return {"scores": straight_through(dW, self.options)}

    def score_grad(self, grads):
        """dL/dscores of a backward, weight_shape + (K,), from the layer's grads."""
        return grads["scores"]


def make_slots(score_form, weight_shape, K, score_bound, selection, shared, rng, dtype,
               option_bound=1.0, options_version=init.OPTIONS_VERSION, keep_options=False):
    """Slots of `score_form`: "explicit" (plain), "factored" (the twin registered as "slots",
    twins on), or None: the twin where it is on."""
    args = (weight_shape, K, score_bound, selection, shared, rng, dtype, option_bound,
            options_version)
    twin = twins.find("slots")
    if score_form is None:
        score_form = "explicit" if twin is None else "factored"
    if score_form not in SCORE_FORMS:
        raise ValueError(f"unknown score_form {score_form!r}; choose one of {SCORE_FORMS}")
    if score_form == "explicit":
        return Slots(*args)
    if twin is None:
        raise ValueError("score_form 'factored' is a fast twin: switch the twins on (import "
                         "slotnp.fast, then `with slotnp.fast.on():`) or use 'explicit'")
    return twin(*args, keep_options=keep_options)


class SlotWeightMixin:
    """What SlotLinear and SlotConv2d add to their dense parent: the weight comes from `slots`
    (`_forward_weight`), and dW becomes score gradients (`_store_weight_grad`)."""

    def _make_slots(self, score_form, K, **slot_args):
        self.slots = make_slots(score_form, self.weight_shape, K, **slot_args)
        self.params.update(self.slots.initial_params())

    def _forward_weight(self, train):
        return self.slots.choose(self.params, train)

    def _store_weight_grad(self, dW):
        self.grads.update(self.slots.gradients(dW))

    @property
    def options(self):
        """The options, weight_shape + (K,) (shared ones: a read-only view, on CuPy a copy)."""
        options = self.slots.options
        return options.copy() if self.slots.shared and backend.xp_of(options) is not np \
            else options

    @property
    def K(self):
        return self.slots.K

    @property
    def scores(self):
        """The current scores, weight_shape + (K,)."""
        return self.slots.scores(self.params)

    def score_grad(self):
        """dL/dscores of the last backward, weight_shape + (K,)."""
        return self.slots.score_grad(self.grads)

    def reseed(self, seed):
        """Restart the sampling of `selection="sample"` from `seed`."""
        self.slots.reseed(seed)

    def selected(self):
        """The option index of each connection at evaluation (argmax): weight_shape ints."""
        return self.slots.greedy(self.params, reuse=True)[0]

    def weight(self):
        """The effective weight at evaluation: weight_shape."""
        return self.slots.greedy(self.params, reuse=True)[1]

    def freeze(self, index=None):
        """A dense layer holding a copy of the selected weights (or of options `index`)."""
        return self.dense_with(self.weight().copy() if index is None
                               else self.slots.pick(index))

    def _slot_repr(self):
        shared = "" if not self.slots.shared else ", shared='network'" \
            if self.slots.network_values is not None else ", shared=True"
        form = ", score_form='explicit'" if self.slots.score_form == "explicit" else ""
        return f"K={self.K}, selection={self.slots.selection!r}{shared}{form}"


class SlotLinear(SlotWeightMixin, Linear):
    """A Linear layer whose weight (out, in) is chosen from K options per connection: fixed
    `options` (out, in, K), trainable scores (lambda = `score_bound`, 0.1 for linear layers).
    `bias`: a learned bias (out,) beside them (the paper's nets have none)."""

    def __init__(self, in_features, out_features, K, selection="greedy", shared=False, rng=None,
                 dtype=np.float32, option_bound=1.0, score_form=None,
                 options_version=init.OPTIONS_VERSION, keep_options=False, score_bound=0.1,
                 bias=False):
        Layer.__init__(self)  # not Linear.__init__: there is no learned weight to draw
        self._set_geometry(in_features, out_features)
        self._make_slots(score_form, K, score_bound=score_bound, selection=selection,
                         shared=shared, rng=rng, dtype=dtype, option_bound=option_bound,
                         options_version=options_version, keep_options=keep_options)
        self._set_bias(bias, dtype)

    def __repr__(self):
        return f"SlotLinear({self.in_features}, {self.out_features}{self._bias_repr()}, " \
               f"{self._slot_repr()})"


class SlotConv2d(SlotWeightMixin, Conv2d):
    """A Conv2d whose weight (F, C, KH, KW) is chosen from K options per connection: fixed
    `options` (F, C, KH, KW, K), trainable scores (lambda = `score_bound`, 1 for convolutions).
    `bias`: a learned bias (F,) beside them (the paper's nets have none)."""

    def __init__(self, in_channels, out_channels, kernel_size, K, stride=1, padding=0,
                 selection="greedy", shared=False, rng=None, dtype=np.float32, option_bound=1.0,
                 score_form=None, options_version=init.OPTIONS_VERSION,
                 keep_options=False, score_bound=1.0, bias=False):
        Layer.__init__(self)  # not Conv2d.__init__: there is no learned weight to draw
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self._make_slots(score_form, K, score_bound=score_bound, selection=selection,
                         shared=shared, rng=rng, dtype=dtype, option_bound=option_bound,
                         options_version=options_version, keep_options=keep_options)
        self._set_bias(bias, dtype)

    def __repr__(self):
        return Conv2d.__repr__(self)[:-1] + f", {self._slot_repr()})"
