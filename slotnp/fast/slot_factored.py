"""The fast twin of slot.py's plain Slots: factored scores, and selection streamed over options.

Factored scores. Every score gradient g * options[..., k] lies along the connection's own
option vector, and SGD with momentum and weight decay is linear in the parameters and the
gradients. So scores that start at S0 stay on the plane

    scores = a * options + b * S0,      a per connection (starts at 0), b per layer (starts at 1),

and SGD on the K scores is exactly SGD on the coordinates (a, b), with (g, 0) as their
gradients: the step updates one number per connection (and one per layer) instead of K, and no
K-sized gradient or velocity exists. (g and 0 are coordinates of the score gradient, not
derivatives of the loss by a or b.) tests/fast/test_slot_factored.py's
`test_factored_scores_follow_the_explicit_trajectory_under_sgd` runs 30 SGD steps in both
forms and finds the same scores, selections and outputs (float64).

Greedy selection then needs no scores at all: for b > 0 it is the argmax of
r * options + S0 with r = a / b, one multiply and one add per option, streamed one option at a
time in cache-sized chunks, on every core. From K = 32 on, only the options on the upper
envelope of the K lines r -> options[k] r + S0[k] can win (envelope.py), and selection reads
only those. Options and initial scores are stored K-first (each option's values of the whole
layer contiguous), behind (..., K) views.
"""
import numpy as np

from ..core import backend
from .argmax import first_argmax
from ..slots.slot import Slots
from . import threads
from .envelope import MIN_OPTIONS, envelope_candidates

SELECTION_CHUNK_VALUES = 1 << 18  # connections per chunk of greedy selection (1 MB of float32)
SAMPLE_CHUNK_VALUES = 1 << 20    # scores formed at once by sampling on the CPU (4 MB of float32)
GPU_SCORE_VALUES = 1 << 26        # scores formed at once by greedy selection on a GPU (256 MB)


def k_first(array):
    """A (K, ...) view of a (..., K) array: free, and contiguous when stored K-first."""
    return backend.xp_of(array).moveaxis(array, -1, 0)


def k_last_on_device(array):
    """Upload a host (..., K) array stored K-first, and return the (..., K) view of it.

    Slot work runs over K slices of whole layers (selection, score gradient), so keeping each
    slice contiguous is what makes it fast; the public shape stays (..., K).
    """
    stored = backend.to_device(np.ascontiguousarray(np.moveaxis(array, -1, 0)))
    return backend.xp_of(stored).moveaxis(stored, 0, -1)


def factored_scores(coef_options, coef_initial, options, initial_scores):
    """The scores a * options + b * initial_scores: (..., K), computed K-first."""
    xp = backend.xp_of(options)
    scores = coef_options[None] * k_first(options)
    scores += coef_initial * k_first(initial_scores)
    return xp.moveaxis(scores, 0, -1)


def greedy_choice(scores, options):
    """Per connection, the option with the highest score (the first one on ties), streamed
    over the K slices. scores, options: (..., K). Returns (index (...), chosen option (...))."""
    _, index, chosen = first_argmax(list(k_first(scores)), list(k_first(options)))
    return index, chosen


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
    if xp is not np:
        return streamed_scores_choice(coef_options, coef_initial, options, initial_scores)
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

    threads.in_parts(xp, choose_rows, len(ratio), ratio[0].size * len(W))
    return index, gather(options, index)


def streamed_scores_choice(coef_options, coef_initial, options, initial_scores):
    """factored_greedy_choice on a GPU: the argmax of the scores a * W[k] + b * S0[k]
    themselves, for as many options at once as GPU_SCORE_VALUES allows (usually all K: a few
    large operations per layer). Exact for every b, with no ratio and no case to decide on the
    host, so the device is never waited for (a read of b would stall every step)."""
    xp = backend.xp_of(options)
    W, S0 = k_first(options), k_first(initial_scores)
    K = len(W)
    step = max(1, GPU_SCORE_VALUES // max(1, coef_options.size))
    for start in range(0, K, step):
        scores = coef_options[None] * W[start:start + step]          # (options, ...)
        scores += coef_initial * S0[start:start + step]
        index = scores.argmax(axis=0)                                # the first maximum
        value = xp.take_along_axis(scores, index[None], axis=0)[0]
        if start == 0:
            best, best_index = value, index
        else:                         # a later chunk wins only when strictly greater
            better = value > best
            best = xp.where(better, value, best)
            best_index = xp.where(better, index + start, best_index)
    return best_index, xp.take_along_axis(W, best_index[None], axis=0)[0]


def sampled_index_k_first(scores, uniform):
    """slot.sampled_index on K-first memory: scores (..., K) a view of (K, ...) storage."""
    xp = backend.xp_of(scores)
    s = k_first(scores)
    cdf = xp.exp(s - s.max(axis=0))
    if xp is np:
        # The running sum, one option at a time: the same additions in the same order as
        # np.cumsum(axis=0), which NumPy runs ~40x slower along the first axis.
        for k in range(1, len(cdf)):
            cdf[k] += cdf[k - 1]
    else:
        cdf = xp.cumsum(cdf, axis=0)              # one scan on a GPU
    below = cdf < uniform * cdf[-1]
    # Counted in the smallest integer that holds K: NumPy sums booleans ~9x faster into uint8
    # than into its default int64.
    count = below.sum(axis=0, dtype=np.min_scalar_type(len(s)))
    return xp.minimum(count, len(s) - 1)


def factored_sampled_index(coef_options, coef_initial, options, initial_scores, uniform):
    """sampled_index_k_first of the factored scores a * options + b * initial_scores, formed
    chunk by chunk of connections on the CPU, so that each chunk's K scores stay in cache
    through the max, exp, running sum and count (one pass over memory instead of seven). Each
    value goes through the same operations as in factored_scores and sampled_index_k_first,
    so the draws are the same (tests/fast/test_slot_factored.py). uniform: (...), the layer's
    weight shape.
    """
    xp = backend.xp_of(options)
    W, S0 = k_first(options), k_first(initial_scores)
    if xp is not np or not (W.flags.c_contiguous and S0.flags.c_contiguous):
        return sampled_index_k_first(factored_scores(coef_options, coef_initial, options,
                                                     initial_scores), uniform)
    K = len(W)
    W, S0 = W.reshape(K, -1), S0.reshape(K, -1)
    a, u = coef_options.reshape(-1), uniform.reshape(-1)
    index = np.empty(a.shape, dtype=np.int64)
    chunk = max(1, SAMPLE_CHUNK_VALUES // K)

    def sample_part(start, stop):
        for low in range(start, stop, chunk):
            high = min(stop, low + chunk)
            scores = a[None, low:high] * W[:, low:high]
            scores += coef_initial * S0[:, low:high]
            index[low:high] = sampled_index_k_first(np.moveaxis(scores, 0, -1), u[low:high])
    threads.in_parts(xp, sample_part, len(a), K)
    return index.reshape(uniform.shape)


def gather(options, index):
    """slot.pick on K-first memory: options (..., K), index (...) -> the chosen option (...)."""
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

    threads.in_parts(xp, gather_part, P)
    return chosen


class FactoredSlots(Slots):
    """Slots whose scores are a * options + b * initial_scores (the module docstring): the
    owning layer's params are {"coef_options": a (weight_shape), "coef_initial": b ()}."""
    score_form = "factored"
    _holding, _held = False, None     # see `hold`

    def choose(self, params, train):
        """Slots.choose; while held (`hold`), an evaluation forward reuses the weight chosen
        at the first one."""
        if not train and self._held is not None:
            self.last_index, weight = self._held
            return weight
        weight = super().choose(params, train)
        if not train and self._holding:
            self._held = (self.last_index, weight)
        return weight

    def hold(self, on=True):
        """While on, evaluation forwards choose once and then reuse that weight, without
        comparing the scores to see whether they changed (which reads from the device): for an
        evaluation over many batches (fast/evaluation.py). Training forwards choose anew."""
        self._holding, self._held = on, None

    def _store(self, options, scores):
        if self.shared:
            options = backend.to_device(options)
            self.options = backend.xp_of(options).broadcast_to(options,
                                                               self.weight_shape + (self.K,))
        else:
            self.options = k_last_on_device(options)
        self.initial_scores = k_last_on_device(scores)
        self._greedy_cache = None
        self._candidates, self._candidates_found = None, False

    def initial_params(self):
        xp, dtype = backend.xp_of(self.options), self.options.dtype
        return {"coef_options": xp.zeros(self.weight_shape, dtype),
                "coef_initial": xp.ones((), dtype)}

    def scores(self, params):
        return factored_scores(params["coef_options"], params["coef_initial"], self.options,
                               self.initial_scores)

    def greedy(self, params, reuse=False):
        """(index, chosen option) of the highest score of every connection (treat as read-only).

        With `reuse`, it returns the previous answer when the coefficients still equal the ones
        it was computed from: comparing a and b reads one number per connection, choosing reads
        2K. Evaluation over many batches then selects once.
        """
        a, b = params["coef_options"], params["coef_initial"]
        xp = backend.xp_of(a)
        cached = self._greedy_cache
        if reuse and cached is not None and bool(xp.array_equal(cached[0], a)) \
                and bool(cached[1] == b):
            return cached[2], cached[3]
        index, chosen = self._select(a, b)
        self._greedy_cache = (a.copy(), b.copy(), index, chosen) if reuse else None
        return index, chosen

    def _select(self, a, b):
        """greedy's selection itself: among the envelope's candidates where there are any."""
        candidates = self.candidates() if backend.xp_of(a) is np and float(b) > 0 else None
        if candidates is None:
            return factored_greedy_choice(a, b, self.options, self.initial_scores)
        which, chosen = factored_greedy_choice(a, b, *candidates[1:])
        return gather(candidates[0], which), chosen

    def candidates(self):
        """(index, options, initial scores) of the lines that can win greedy selection of the
        factored scores while b > 0, each (..., E) (envelope.py), found on first use; None when
        there is nothing to gain (K < MIN_OPTIONS, shared options, or E = K)."""
        if not self._candidates_found and self.K >= MIN_OPTIONS and not self.shared:
            self._candidates = envelope_candidates(self.options, self.initial_scores)
        self._candidates_found = True
        return self._candidates

    def sample(self, params, generator):
        uniform = backend.uniform(generator, self.weight_shape, self.options.dtype)
        return factored_sampled_index(params["coef_options"], params["coef_initial"],
                                      self.options, self.initial_scores, uniform)

    def pick(self, index):
        return gather(self.options, index)

    def gradients(self, dW):
        return {"coef_options": dW, "coef_initial": backend.xp_of(dW).zeros((), dW.dtype)}

    def score_grad(self, grads):
        """Straight-through: dL/dscores[..., k] = dL/dw * options[..., k]  (stored K-first)."""
        dW = grads["coef_options"]
        return backend.xp_of(dW).moveaxis(dW[None] * k_first(self.options), 0, -1)
