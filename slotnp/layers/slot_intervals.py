"""Greedy selection that keeps no options in memory: each connection's winner and the interval
of r in which it stays the winner. Memory and step time do not grow with K.

With factored scores (slot_factored.py) and b > 0, greedy selection picks, per connection,
k* = first argmax_k  r * W[k] + S0[k]  with r = a / b: option k is the line
r -> W[k] r + S0[k], fixed for the whole run, and k* the line on top at r. The line on top at
r stays on top over an interval (low, high) of r, bounded by the crossings with the lines
around it. So a layer keeps, per connection, the winner's index and value and that interval,
and a selection is one test, low < r < high, per connection. Only the few connections whose r
has left its interval are selected anew, from their options and initial scores drawn again
from the layer's key (init.slot_values_at: every block of connections has its own
counter-based stream). SGD needs nothing else: the coordinates' gradients are (g, 0) and weight
decay acts on a and b alone. The whole layer is drawn once, in chunks, to start.

Exact, not approximate: the selection equals the streamed argmax of slot_factored.py (which
computes v[k] = fl(fl(W[k] r) + S0[k])) value for value. An interval ends short of every
crossing by the largest rounding error those two float operations can make there (below), so
inside it the streamed comparison cannot come out otherwise; near a crossing the connection is
simply selected anew, from all K options. When b <= 0 or a / b overflows (the cases where the
streamed selection compares the scores themselves) the layer does the same, in chunks.
tests/test_slot_intervals.py checks selections and coordinates against the explicit form over
30 SGD steps in float64 at K = 2, 8, 64 and 1024, ties included.
"""
import math

import numpy as np

from .. import backend, init
from .slot_factored import FactoredSlots

BUILD_VALUES = 1 << 19   # options drawn at once while (re)building a layer's intervals
UNIT_ROUNDOFF = {np.dtype(np.float32): 2.0 ** -24, np.dtype(np.float64): 2.0 ** -53}
# The error bound E below, times this. 1 covers the selection's own rounding; the rest covers
# the interval's, computed in the layer's dtype: at a computed end, the true D - s E is off by
# at most about 2 u (|S0[w]| + |S0[k]|) (the lead at 0 and its margin) plus 3 u |r| (|W[w]| +
# |W[k]|) (the slope, its spread, the division), i.e. at most 2 E, so s = 4 leaves D above E.
# Larger s only widens the gaps around crossings where a connection is selected anew: at 16
# they cost 98% of the reselections of a K = 1024 Lenet (14 s an epoch against 5.5 s at 4).
SAFETY = 4.0
# Selecting a connection anew alone (its values read from its stream, then its window) costs
# about as much as drawing REDRAW_OVERHEAD + 1.5 K options of a whole layer in chunks (measured
# on Lenet at K = 1024: 63 against 41 microseconds a connection). Past that share of a layer,
# the layer is drawn in chunks: 4% at K = 16, 52% at K = 1024 (1/64 made a K = 1024 first
# epoch take 68 s instead of 36).
REDRAW_OVERHEAD = 375


def redraw_share(K):
    """The share of a layer's connections past which selecting them anew draws the layer."""
    return K / (REDRAW_OVERHEAD + 1.5 * K)


def interval_of(W, S0, line):
    """Where `line` (n,) of each row of W, S0 (n, K) is safely the first argmax (below): the
    interval (low, high) (n,) each, and the lines that bound it on the left and the right (the
    neighbours on the envelope; `line` itself where the interval is unbounded).

    Why: the computed value of line k, fl(fl(W[k] r) + S0[k]), carries an error below
    u (2 |W[k] r| + |S0[k]|) (u the unit roundoff: one rounding of the product, one of the sum).
    Line w stays first wherever its true lead over line k, D_k(r) = (S0[w] - S0[k]) +
    (W[w] - W[k]) r, exceeds E_k(r) = s u (2 |r| (|W[w]| + |W[k]|) + |S0[w]| + |S0[k]|)
    (s = SAFETY). D_k - E_k is linear on each side of r = 0 and concave, so it is positive on an
    interval, and (low, high) is the intersection of those. A line equal to w (same option and
    score) never counts: its value is computed identically and a tie keeps the first, w.
    """
    xp = backend.xp_of(W)
    rows = xp.arange(len(W))
    u = UNIT_ROUNDOFF[np.dtype(W.dtype)]
    W64, S064 = W.copy(), S0                                # (in the layer's dtype)
    Ww, Sw = W64[rows, line][:, None], S064[rows, line][:, None]
    counts = (W64 != Ww) | (S064 != Sw)                     # not w itself, nor its twin
    lead0 = Sw - S064                                       # D - E at r = 0 ...
    margin = xp.abs(S064)
    margin += xp.abs(Sw)
    margin *= W.dtype.type(SAFETY * u)
    lead0 -= margin
    lead0[~counts] = np.inf                                 # (lines that never count)
    spread = xp.abs(W64, out=margin)                        # ... and E's slope in |r|
    spread += xp.abs(Ww)
    spread *= W.dtype.type(2 * SAFETY * u)
    slope = xp.subtract(Ww, W64, out=W64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # r >= 0: D - E = lead0 + rate r, rate = slope - spread. Falling (rate < 0): holds
        # up to its root (0 if it fails at 0); rising: holds from its root (if that is > 0).
        rate = slope - spread
        root = xp.divide(-lead0, rate)
        zero = W.dtype.type(0)
        high = xp.where(rate < 0, xp.maximum(root, zero), W.dtype.type(np.inf))
        high[(rate == 0) & (lead0 <= 0)] = zero
        low = xp.where((rate > 0) & (root > 0), root, W.dtype.type(-np.inf))
        # r <= 0: rate = slope + spread, mirrored: rising holds down to its root (0 if it
        # fails at 0); falling holds below its root (if that is < 0).
        rate = xp.add(slope, spread, out=rate)
        root = xp.divide(-lead0, rate, out=root)
        low = xp.maximum(low, xp.where(rate > 0, xp.minimum(root, zero), W.dtype.type(-np.inf)),
                         out=low)
        never = (rate == 0) & (lead0 <= 0)
        low[never] = xp.maximum(low, zero)[never]
        high = xp.minimum(high, xp.where((rate < 0) & (root < 0), root, W.dtype.type(np.inf)),
                          out=high)
    right, left = high.argmin(axis=1), low.argmax(axis=1)
    high, low = high[rows, right], low[rows, left]
    return (low, high, xp.where(xp.isfinite(low), left, line),
            xp.where(xp.isfinite(high), right, line))


def winners(W, S0, r):
    """The first argmax of fl(fl(W * r) + S0) per row, as the streamed selection computes it.
    W, S0: (n, K), r: (n,), all of the layer's dtype."""
    values = W * r[:, None]
    values += S0
    return values.argmax(axis=1)


def window_of(W, S0, r):
    """[(index, chosen, low, high)] of the left neighbour, the winner at r and the right
    neighbour, for rows of W, S0 (n, K) and r (n,)."""
    xp = backend.xp_of(W)
    rows = xp.arange(len(r))
    line = winners(W, S0, r)
    low, high, left, right = interval_of(W, S0, line)
    return [(left, W[rows, left], *interval_of(W, S0, left)[:2]),
            (line, W[rows, line], low, high),
            (right, W[rows, right], *interval_of(W, S0, right)[:2])]


def joined(parts):
    """The windows (window_of) of consecutive parts of the connections, as one window."""
    xp = backend.xp_of(parts[0][0][0])
    return [tuple(xp.concatenate([part[i][j] for part in parts]) for j in range(4))
            for i in range(3)]


class Lines:
    """One line per connection (the winner, or a neighbour on the envelope): its index, its
    option `chosen`, and the interval (low, high) of r where it is on top; flat arrays (P,)."""

    def __init__(self, xp, P, K, dtype):
        self.index = xp.zeros(P, dtype=np.min_scalar_type(K - 1))
        self.chosen = xp.zeros(P, dtype=dtype)
        self.low = xp.full(P, np.inf, dtype=dtype)         # empty: (inf, -inf)
        self.high = xp.full(P, -np.inf, dtype=dtype)

    def set(self, at, index, chosen, low, high):
        self.index[at], self.chosen[at], self.low[at], self.high[at] = index, chosen, low, high

    def copy_from(self, other, at):
        self.set(at, other.index[at], other.chosen[at], other.low[at], other.high[at])

    def clear(self, at):
        self.low[at], self.high[at] = np.inf, -np.inf


class IntervalSlots(FactoredSlots):
    """Factored greedy slots without their options in memory (the module docstring).

    Kept per connection, for its winner and the two lines beside it on the envelope: the
    index, the option (`chosen`) and the interval (`low`, `high`, in the layer's dtype) of
    r = a / b where that line is on top: 3 x 13 bytes in float32 whatever K is (besides a, its
    gradient and velocity), so that r moving back and forth across a crossing costs nothing. `options` and `initial_scores`
    are drawn again from the layer's key whenever they are asked for (inspection only).
    """

    def _draw(self, rng, version, dtype):
        """Only the key (version 2): the values are drawn where they are needed."""
        self.key, self.dtype = init.slot_key(rng), np.dtype(dtype)
        return None, None

    def _store(self, options, scores):
        self._state = None

    @property
    def options(self):
        """All options, drawn again: weight_shape + (K,) (for inspection: K-sized memory)."""
        return backend.to_device(self._values(0, self.size)[0].reshape(self.weight_shape +
                                                                        (self.K,)))

    @property
    def initial_scores(self):
        """All initial scores, drawn again, as `options`."""
        return backend.to_device(self._values(0, self.size)[1].reshape(self.weight_shape +
                                                                        (self.K,)))

    @property
    def size(self):
        return math.prod(self.weight_shape)

    def _values(self, start, stop):
        W, S0 = init.slot_values(self.key, self.weight_shape, self.K, self.option_bound,
                                 self.scale, start, stop)
        return W.astype(self.dtype), S0.astype(self.dtype)

    def _values_at(self, connections):
        W, S0 = init.slot_values_at(self.key, self.weight_shape, self.K, self.option_bound,
                                    self.scale, backend.to_host(connections))
        return backend.to_device(W.astype(self.dtype)), backend.to_device(S0.astype(self.dtype))

    def pick(self, index):
        """The option `index` (weight_shape) names for every connection, drawn in chunks."""
        xp = backend.xp_of(index)
        flat = index.reshape(-1)
        chosen = xp.empty(flat.shape, dtype=self.dtype)
        step = max(1, BUILD_VALUES // self.K)
        for start in range(0, self.size, step):
            stop = min(self.size, start + step)
            W = backend.to_device(self._values(start, stop)[0])
            chosen[start:stop] = W[xp.arange(stop - start), flat[start:stop].astype(np.intp)]
        return chosen.reshape(self.weight_shape)

    def initial_params(self):
        xp = backend.xp()
        return {"coef_options": xp.zeros(self.weight_shape, self.dtype),
                "coef_initial": xp.ones((), self.dtype)}

    def scores(self, params):
        a, b = params["coef_options"], params["coef_initial"]
        return a[..., None] * self.options + b * self.initial_scores

    def score_grad(self, grads):
        return grads["coef_options"][..., None] * self.options

    def candidates(self):
        return None

    def greedy(self, params, reuse=False):
        """(index, chosen option) of every connection: live arrays, updated in place by the
        next selection (treat as read-only; copy what must outlast it)."""
        a, b = params["coef_options"], params["coef_initial"]
        xp = backend.xp_of(a)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            ratio = (a / b).reshape(-1)
        if not float(b) > 0 or not bool(xp.isfinite(ratio).all()):
            self._state = None           # the intervals are of r, which means nothing now
            return self._compare_scores(a, b)
        if self._state is None:
            self._build(ratio)
        left, current, right = self._state
        moved = xp.nonzero(~((ratio > current.low) & (ratio < current.high)))[0]
        if len(moved):
            r = ratio[moved]
            to_left = (r > left.low[moved]) & (r < left.high[moved])
            to_right = (r > right.low[moved]) & (r < right.high[moved]) & ~to_left
            # Across one crossing: the neighbour becomes the winner, the winner its neighbour
            # on the other side, and the line beyond is not known (an empty interval).
            for on, near, far in ((moved[to_left], left, right), (moved[to_right], right, left)):
                far.copy_from(current, on)
                current.copy_from(near, on)
                near.clear(on)
            lost = moved[~(to_left | to_right)]
            if len(lost):                # past both neighbours: select these anew
                window = self._window(lost, ratio[lost])
                for lines, found in zip(self._state, window):
                    lines.set(lost, *found)
        return current.index.reshape(self.weight_shape), current.chosen.reshape(self.weight_shape)

    def _window(self, connections, r):
        """[(index, chosen, low, high)] for the left neighbour, the winner at r and the right
        neighbour of these connections (ascending flat indices), their options drawn again:
        one by one, or, when they are many, the whole layer in chunks."""
        if len(connections) > redraw_share(self.K) * self.size:
            return self._whole_window(connections, r)
        step = max(1, BUILD_VALUES // self.K)   # a chunk at a time: bounded memory
        return joined([window_of(*self._values_at(connections[at:at + step]), r[at:at + step])
                       for at in range(0, len(connections), step)])

    def _whole_window(self, connections, r):
        """_window with the layer's values drawn in chunks, keeping the rows of `connections`."""
        xp = backend.xp_of(r)
        step = max(1, BUILD_VALUES // self.K)
        parts = []
        bounds = backend.to_host(xp.searchsorted(connections, xp.arange(0, self.size, step)))
        for chunk, (first, last) in enumerate(zip(bounds, list(bounds[1:]) + [len(r)])):
            if last > first:
                start = chunk * step
                W, S0 = (backend.to_device(v)
                         for v in self._values(start, min(self.size, start + step)))
                rows = connections[first:last] - start
                parts.append(window_of(W[rows], S0[rows], r[first:last]))
        return joined(parts)

    def _build(self, ratio):
        """Every connection's winner and both neighbours, with their intervals, at `ratio`:
        the whole layer drawn in chunks, as when many connections are selected anew."""
        xp = backend.xp_of(ratio)
        self._state = [Lines(xp, self.size, self.K, self.dtype) for _ in range(3)]
        everything = xp.arange(self.size)
        for lines, found in zip(self._state, self._whole_window(everything, ratio)):
            lines.set(everything, *found)

    def digest_parts(self):
        """What identifies this layer's values, without drawing all of them: the drawing's
        arguments and the first and last block of connections."""
        G, P = init.block_connections(self.K), self.size
        parts = [np.array([self.K, *self.weight_shape], np.int64).tobytes(),
                 np.asarray(self.key).tobytes(), np.float64([self.option_bound, self.scale])]
        for start in sorted({0, (P - 1) // G * G}):
            parts.extend(v.tobytes() for v in self._values(start, min(P, start + G)))
        return parts

    def _compare_scores(self, a, b):
        """The argmax of the scores a * W + b * S0 themselves, in chunks (b <= 0, or a / b not
        finite), computed as slot_factored's factored_scores does."""
        xp = backend.xp_of(a)
        P = self.size
        flat = a.reshape(-1)
        index = xp.empty(P, dtype=np.min_scalar_type(self.K - 1))
        chosen = xp.empty(P, dtype=self.dtype)
        step = max(1, BUILD_VALUES // self.K)
        for start in range(0, P, step):
            stop = min(P, start + step)
            W, S0 = (backend.to_device(v) for v in self._values(start, stop))
            scores = flat[start:stop, None] * W
            scores += b * S0
            best = scores.argmax(axis=1)
            index[start:stop] = best
            chosen[start:stop] = W[xp.arange(stop - start), best]
        return index.reshape(self.weight_shape), chosen.reshape(self.weight_shape)
