"""Slot layers: every connection holds K fixed random options and learns only a score per option.

The forward pass uses, per connection, the option picked by the selection rule:
  greedy:  k* = argmax_k scores[..., k]
  sample:  k* ~ Multinomial(softmax(scores[..., :]))  (drawn anew each training forward)
The effective weight w = options[..., k*] then goes through the ordinary dense layer. Backward
is straight-through: with g = dL/dw from the dense backward, dL/dscores[..., k] = g * options[..., k]
for every k. The options never change.

The scores are kept in one of two forms (`score_form`):
  explicit:  all K scores of every connection, a parameter like any other. The plain form.
  factored:  scores = a * options + b * initial_scores, with a per connection and b per layer.
The factored form is exact, not an approximation. Every score gradient g * options[..., k] lies
along the options, and SGD with momentum and weight decay is linear in the parameters and the
gradients, so the scores never leave the plane of options and initial scores: SGD on the scores
is SGD on the coordinates (a, b), started at (0, 1), with the gradient's coordinates (g, 0). The
step then updates two numbers per connection instead of K, and no K-sized gradient or velocity
exists. (g and 0 are coordinates of the score gradient, not derivatives of the loss by a or b.)
"""
import numpy as np

from .. import backend, init
from .argmax import first_argmax
from .base import Layer, check_positive_int
from .conv import Conv2d
from .envelope import MIN_OPTIONS, envelope_candidates
from .linear import Linear

SELECTIONS = ("greedy", "sample")
# How an evaluation forward (train=False) of a sampled slot net chooses its weights: one draw
# from softmax(scores) as in training (the authors' code), the mean option under it, or argmax.
EVALUATIONS = ("sample", "expected", "argmax")
SCORE_FORMS = ("factored", "explicit")
SELECTION_CHUNK_VALUES = 1 << 18  # connections per chunk of greedy selection (1 MB of float32)


def k_first(array):
    """A (K, ...) view of a (..., K) array: free, and contiguous when stored K-first."""
    return backend.xp_of(array).moveaxis(array, -1, 0)


def greedy_choice(scores, options):
    """Per connection, the option with the highest score (the first one on ties).

    scores, options: (..., K). Returns (index (...), chosen option (...)).
    """
    _, index, chosen = first_argmax(list(k_first(scores)), list(k_first(options)))
    return index, chosen


def factored_scores(coef_options, coef_initial, options, initial_scores):
    """The scores a * options + b * initial_scores: (..., K), computed K-first."""
    xp = backend.xp_of(options)
    scores = coef_options[None] * k_first(options)
    scores += coef_initial * k_first(initial_scores)
    return xp.moveaxis(scores, 0, -1)


def factored_greedy_choice(coef_options, coef_initial, options, initial_scores):
    """greedy_choice of the factored scores a * options + b * initial_scores, without forming them.

    coef_options: (...), coef_initial: a () array, options and initial_scores: (..., K).
    For b > 0 the argmax of b * (r * options + initial_scores), r = a / b, is that of
    r * options + initial_scores: one multiply and one add per option, in one reused buffer.
    Otherwise it compares the scores themselves: when b <= 0, and when a / b overflows, as it
    does once weight decay at a large learning rate (sampling's 25) has shrunk b to almost 0;
    an infinite r would tie every option of one sign.
    """
    xp = backend.xp_of(options)
    ratio = None
    if float(coef_initial) > 0:
        with np.errstate(over="ignore"):
            ratio = coef_options / coef_initial
    if ratio is None or not bool(xp.isfinite(ratio).all()):
        return greedy_choice(factored_scores(coef_options, coef_initial, options, initial_scores),
                             options)
    W, S0 = k_first(options), k_first(initial_scores)
    index = xp.empty(ratio.shape, dtype=np.min_scalar_type(len(W) - 1))

    rows_per_chunk = max(1, SELECTION_CHUNK_VALUES // max(1, ratio[0].size))

    def choose_rows(start, stop):                 # rows start:stop of the weight, one core
        # In chunks whose ~7 passes per option stay in this core's cache.
        for first in range(start, stop, rows_per_chunk):
            rows = slice(first, min(first + rows_per_chunk, stop))
            part = ratio[rows]
            buffer = xp.empty_like(part)

            def scores_one_option_at_a_time():
                for k in range(len(W)):
                    xp.multiply(W[k, rows], part, out=buffer)
                    xp.add(buffer, S0[k, rows], out=buffer)
                    yield buffer

            index[rows] = first_argmax(scores_one_option_at_a_time(), count=len(W))[1]

    backend.in_parts(xp, choose_rows, len(ratio), ratio[0].size * len(W))
    return index, gather(options, index)


def softmax_weights_k_first(scores):
    """exp(s - max_k s) per connection, K-first: (K, ...), unnormalised softmax weights."""
    s = k_first(scores)
    return backend.xp_of(scores).exp(s - s.max(axis=0))


def sampled_index(scores, uniform):
    """One draw per connection from softmax(scores[..., :]), by inverting the CDF at `uniform`.

    scores: (..., K); uniform: (...) values in [0, 1). Returns (...) ints in [0, K).
    """
    xp = backend.xp_of(scores)
    cdf = softmax_weights_k_first(scores)
    # The running sum, one option at a time: the same additions in the same order as
    # xp.cumsum(axis=0), which NumPy runs ~40x slower along the first axis.
    for k in range(1, len(cdf)):
        cdf[k] += cdf[k - 1]
    # Scaling u by the total normalises the softmax without dividing every entry.
    below = cdf < uniform * cdf[-1]
    return xp.minimum(below.sum(axis=0), scores.shape[-1] - 1)


def expected_weight(scores, options):
    """The mean option under softmax(scores): sum_k softmax(s)_k * options[..., k]: (...)."""
    p = softmax_weights_k_first(scores)
    return (p * k_first(options)).sum(axis=0) / p.sum(axis=0)


def gather(options, index):
    """options: (..., K), index: (...) -> the chosen option per connection: (...)."""
    xp = backend.xp_of(options)
    W = k_first(options)
    if all(step == 0 for step in W.strides[1:]):         # shared: one set of K values
        return W[(slice(None),) + (0,) * index.ndim][index]
    if not W.flags.c_contiguous:
        return xp.take_along_axis(W, index[None].astype(np.intp), axis=0)[0]
    # Stored K-first, option k of connection j is element k*P + j of the flat array.
    options_flat, index_flat = W.reshape(-1), index.reshape(-1)
    chosen = xp.empty(index.shape, dtype=options.dtype)
    chosen_flat, P = chosen.reshape(-1), index.size

    def gather_part(start, stop):
        at = index_flat[start:stop].astype(np.intp)
        at *= P
        at += xp.arange(start, stop)
        xp.take(options_flat, at, out=chosen_flat[start:stop])

    backend.in_parts(xp, gather_part, P)
    return chosen


def k_last_on_device(array):
    """Upload a host (..., K) array stored K-first, and return the (..., K) view of it.

    Slot work runs over K slices of whole layers (selection, score gradient), so keeping each
    slice contiguous is what makes it fast; the public shape stays (..., K).
    """
    stored = backend.to_device(np.ascontiguousarray(np.moveaxis(array, -1, 0)))
    return backend.xp_of(stored).moveaxis(stored, 0, -1)


class Slots:
    """The K options of one layer, its scores' initial values, and the rule that chooses.

    options: weight_shape + (K,), fixed, U(-b*sigma, b*sigma) with b = `option_bound` (the
    paper's 1; see nets.build). With `shared`, the layer has only K values, broadcast to every
    connection. initial_scores: U(0, scale*sigma), same shape. Both are stored K-first in memory
    (see k_last_on_device). The trainable arrays live in the owning layer's `params`; `Slots`
    reads them: {"scores"} in the explicit form, {"coef_options", "coef_initial"} (a and b of
    the module docstring) in the factored form.
    """

    def __init__(self, weight_shape, K, scale, selection, shared, rng, dtype, option_bound=1.0,
                 score_form="factored", options_version=init.OPTIONS_VERSION):
        self.K = check_positive_int(K, "K (the number of options per connection)")
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}; choose one of {SELECTIONS}")
        if score_form not in SCORE_FORMS:
            raise ValueError(f"unknown score_form {score_form!r}; choose one of {SCORE_FORMS}")
        if not option_bound > 0:
            raise ValueError(f"option_bound must be positive, got {option_bound}")
        self.selection, self.score_form = selection, score_form
        self.shared = bool(shared)
        self.evaluation, self._evaluation_seed = "argmax", 0
        self._evaluation_cache = None
        self.weight_shape = tuple(weight_shape)
        self.option_bound, self.scale = option_bound, scale
        options, scores = self._draw(init.as_generator(rng), options_version, dtype)
        self.initial_scores = k_last_on_device(scores)
        if self.shared:
            options = backend.to_device(options)
            self.options = backend.xp_of(options).broadcast_to(options,
                                                               self.weight_shape + (self.K,))
        else:
            self.options = k_last_on_device(options)
        self._greedy_cache = None
        self._candidates, self._candidates_found = None, False
        self.reseed(0)

    def _draw(self, rng, version, dtype):
        """(options, initial scores) as host arrays of `dtype`, drawn as `version` says
        (init.py): 2 from a key taken from `rng`, kept in `self.key`; 1 straight from `rng`."""
        shape, K = self.weight_shape, self.K
        if version == 1:
            self.key = None
            options = init.slot_options(rng, shape, K, dtype, shared=self.shared,
                                        bound=self.option_bound)
            return options, init.slot_scores(rng, shape, K, self.scale, dtype)
        if version != 2:
            raise ValueError(f"unknown options_version {version!r}: this slotnp draws options "
                             "by version 1 or 2; a newer slotnp wrote this run")
        self.key = init.slot_key(rng)
        options, scores = init.slot_values(self.key, shape, K, self.option_bound, self.scale)
        if self.shared:
            options = init.shared_slot_options(self.key, shape, K, self.option_bound)
        else:
            options = options.reshape(shape + (K,))
        return options.astype(dtype), scores.reshape(shape + (K,)).astype(dtype)

    def initial_params(self):
        """The trainable arrays at the start, by name (the owning layer keeps them)."""
        if self.score_form == "explicit":
            scores, self.initial_scores = self.initial_scores, None  # handed over, not copied
            return {"scores": scores}
        xp, dtype = backend.xp_of(self.options), self.options.dtype
        return {"coef_options": xp.zeros(self.weight_shape, dtype),
                "coef_initial": xp.ones((), dtype)}

    def reseed(self, seed):
        self.seed = seed
        self._generator = None

    def scores(self, params):
        """The current scores: weight_shape + (K,)."""
        if self.score_form == "explicit":
            return params["scores"]
        return factored_scores(params["coef_options"], params["coef_initial"], self.options,
                               self.initial_scores)

    def greedy(self, params, reuse=False):
        """(index, chosen option) of the highest score of every connection (treat as read-only).

        With `reuse`, a factored layer returns its previous answer when the coefficients still
        equal the ones it was computed from: comparing a and b reads one number per connection,
        choosing reads 2K. Evaluation over many batches then selects once.
        """
        if self.score_form == "explicit":
            return greedy_choice(params["scores"], self.options)
        a, b = params["coef_options"], params["coef_initial"]
        xp = backend.xp_of(a)
        cached = self._greedy_cache
        if reuse and cached is not None and bool(xp.array_equal(cached[0], a)) \
                and bool(cached[1] == b):
            return cached[2], cached[3]
        candidates = self.candidates() if float(b) > 0 else None
        if candidates is None:
            index, chosen = factored_greedy_choice(a, b, self.options, self.initial_scores)
        else:
            which, chosen = factored_greedy_choice(a, b, *candidates[1:])
            index = gather(candidates[0], which)
        self._greedy_cache = (a.copy(), b.copy(), index, chosen) if reuse else None
        return index, chosen

    def candidates(self):
        """(index, options, initial scores) of the lines that can win greedy selection of the
        factored scores while b > 0, each (..., E) (envelope.py), found on first use; None when
        there is nothing to gain (K < MIN_OPTIONS, shared options, or E = K)."""
        if not self._candidates_found and self.K >= MIN_OPTIONS and not self.shared:
            self._candidates = envelope_candidates(self.options, self.initial_scores)
        self._candidates_found = True
        return self._candidates

    def set_evaluation(self, mode, seed=0):
        """How later evaluation forwards of a `selection="sample"` layer choose (EVALUATIONS):
        "sample" draws one weight from `seed` and keeps it for every batch until the scores
        or this setting change, so one draw is one network. Greedy layers always use argmax.
        """
        if mode not in EVALUATIONS:
            raise ValueError(f"unknown evaluation {mode!r}; choose one of {EVALUATIONS}")
        self.evaluation, self._evaluation_seed = mode, seed
        self._evaluation_cache = None

    def choose(self, params, train):
        """The effective weight for a forward pass; remembers the index for inspection."""
        if self.selection == "sample" and train:
            if self._generator is None:
                self._generator = backend.random_generator(self.seed)
            self.last_index = self._sample(params, self._generator)
            return gather(self.options, self.last_index)
        if self.selection == "greedy" or self.evaluation == "argmax":
            self.last_index, weight = self.greedy(params, reuse=not train)
            return weight
        return self._evaluation_weight(params)

    def _sample(self, params, generator):
        scores = self.scores(params)
        uniform = backend.uniform(generator, scores.shape[:-1], scores.dtype)
        return sampled_index(scores, uniform)

    def _evaluation_weight(self, params):
        """The sampled or expected weight of an evaluation, made once per setting and scores."""
        xp = backend.xp_of(self.options)
        cached = self._evaluation_cache
        if cached is not None and all(bool(xp.array_equal(cached[0][k], params[k]))
                                      for k in params):
            self.last_index = cached[1]
            return cached[2]
        if self.evaluation == "sample":
            index = self._sample(params, backend.random_generator(self._evaluation_seed))
            weight = gather(self.options, index)
        else:
            index, weight = None, expected_weight(self.scores(params), self.options)
        self._evaluation_cache = ({k: v.copy() for k, v in params.items()}, index, weight)
        self.last_index = index
        return weight

    def gradients(self, dW):
        """The trainable arrays' gradients from g = dL/dw (weight_shape), by name."""
        if self.score_form == "explicit":
            return {"scores": self.score_grad(dW)}
        xp = backend.xp_of(dW)
        return {"coef_options": dW, "coef_initial": xp.zeros((), dW.dtype)}

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

    @property
    def scores(self):
        """The current scores, weight_shape + (K,), in either score form."""
        return self.slots.scores(self.params)

    def score_grad(self):
        """dL/dscores of the last backward, weight_shape + (K,), in either score form."""
        if self.slots.score_form == "explicit":
            return self.grads["scores"]
        return self.slots.score_grad(self.grads["coef_options"])

    def _forward_weight(self, train):
        return self.slots.choose(self.params, train)

    def _store_weight_grad(self, dW):
        self.grads.update(self.slots.gradients(dW))

    def reseed(self, seed):
        """Restart the sampling of `selection="sample"` from `seed`."""
        self.slots.reseed(seed)

    def selected(self):
        """The option index each connection uses at evaluation (argmax): weight_shape ints."""
        return self.slots.greedy(self.params, reuse=True)[0]

    def weight(self):
        """The effective weight at evaluation: weight_shape."""
        return self.slots.greedy(self.params, reuse=True)[1]

    def _slot_repr(self):
        shared = ", shared=True" if self.slots.shared else ""
        form = ", score_form='explicit'" if self.slots.score_form == "explicit" else ""
        return f"K={self.K}, selection={self.slots.selection!r}{shared}{form}"


class SlotLinear(SlotWeightMixin, Linear):
    """A Linear layer whose weight (out, in) is chosen from K options per connection.

    Fixed: `options`, (out_features, in_features, K). Trainable: the scores, same shape, in
    `params` as `Slots` describes. Scores start at U(0, 0.1 sigma).
    """

    def __init__(self, in_features, out_features, K, selection="greedy", shared=False, rng=None,
                 dtype=np.float32, option_bound=1.0, score_form="factored",
                 options_version=init.OPTIONS_VERSION):
        Layer.__init__(self)  # not Linear.__init__: there is no learned weight to draw
        self.in_features = check_positive_int(in_features, "in_features")
        self.out_features = check_positive_int(out_features, "out_features")
        self.slots = Slots(self.weight_shape, K, 0.1, selection, shared, rng, dtype, option_bound,
                           score_form, options_version)
        self.params.update(self.slots.initial_params())

    def freeze(self):
        """A dense Linear holding the selected weights, for fine-tuning with ordinary SGD."""
        dense = Linear(self.in_features, self.out_features, dtype=self.options.dtype)
        dense.params["W"] = self.weight().copy()
        return dense

    def __repr__(self):
        return f"SlotLinear({self.in_features}, {self.out_features}, {self._slot_repr()})"


class SlotConv2d(SlotWeightMixin, Conv2d):
    """A Conv2d whose weight (F, C, KH, KW) is chosen from K options per connection.

    Fixed: `options`, (F, C, KH, KW, K). Trainable: the scores, same shape, in `params` as
    `Slots` describes. Scores start at U(0, sigma).
    """

    def __init__(self, in_channels, out_channels, kernel_size, K, stride=1, padding=0,
                 selection="greedy", shared=False, rng=None, dtype=np.float32, option_bound=1.0,
                 score_form="factored", options_version=init.OPTIONS_VERSION):
        Layer.__init__(self)  # not Conv2d.__init__: there is no learned weight to draw
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self.slots = Slots(self.weight_shape, K, 1.0, selection, shared, rng, dtype, option_bound,
                           score_form, options_version)
        self.params.update(self.slots.initial_params())

    def freeze(self):
        """A dense Conv2d holding the selected weights, for fine-tuning with ordinary SGD."""
        dense = Conv2d(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                       self.padding, dtype=self.options.dtype)
        dense.params["W"] = self.weight().copy()
        return dense

    def __repr__(self):
        return Conv2d.__repr__(self)[:-1] + f", {self._slot_repr()})"
