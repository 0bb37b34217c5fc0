"""Greedy selection that keeps no options in memory: each connection's winner and the interval
of r in which it stays the winner. Memory and step time do not grow with K.

With factored scores (slot_factored.py) and b > 0, greedy selection picks, per connection,
k* = first argmax_k  r * W[k] + S0[k]  with r = a / b: option k is the line
r -> W[k] r + S0[k], fixed for the whole run, and k* the line on top at r. The line on top at
r stays on top over an interval (low, high) of r, bounded by the crossings with the lines
around it. So a layer keeps, per connection, the winner's index and value and that interval,
and a selection is one test, low < r < high, per connection. A connection whose r crossed into
a neighbour's interval takes that line, and the line beyond becomes its new neighbour, pending
until r goes on past the old one (then that line's interval alone is found). Only the few
connections whose r left every interval it knows are selected anew, from their options and
initial scores drawn again from the layer's key (draws.slot_values_at: every block of
connections has its own counter-based stream). SGD needs nothing else: the coordinates'
gradients are (g, 0) and weight decay acts on a and b alone. The whole layer is drawn once, in
chunks, to start.

Exact, not approximate: the selection equals the streamed argmax of slot_factored.py (which
computes v[k] = fl(fl(W[k] r) + S0[k])) value for value. An interval ends short of every
crossing by the largest rounding error those two float operations can make there (below), so
inside it the streamed comparison cannot come out otherwise; near a crossing the connection is
simply selected anew, from all K options. interval_of states the bound line by line; the
layers compute it with interval_of_uniform, one margin per row and no masked steps, about five
times faster and narrower by about 1e-6 of r. When b <= 0 or a / b overflows (the cases where
the streamed selection compares the scores themselves) the layer does the same, in chunks.
tests/fast/test_slot_intervals.py checks selections and coordinates against the explicit form over
30 SGD steps in float64 at K = 2, 8, 64 and 1024, ties included.
"""
import math

import numpy as np

from ..core import backend, init
from . import draws, threads
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
# Selecting connections anew one by one (their values read from their streams, then their
# windows) costs 1 to 3 times as much a connection as drawing the whole layer in chunks
# (measured on a 512 x 128 layer: 7.7 against 3.9 us at K = 16, 20.5 against 7.1 at K = 64,
# 49 against 50 at K = 1024). Past this share of a layer's connections, the layer is drawn.
REDRAW_SHARE = 0.5


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


class Scratch:
    """Work arrays kept from one chunk to the next. A fresh (n, K) temporary costs more than the
    arithmetic on it: 2 MB newly allocated took about 1.5 ms here (its pages are faulted in and
    zeroed), a division over them 0.1 ms."""

    def __init__(self):
        self.arrays = {}

    def __call__(self, name, shape, dtype):
        """A work array named `name`, of this shape and dtype (contents undefined)."""
        size, dtype = math.prod(shape), np.dtype(dtype)
        held = self.arrays.get(name)
        if held is None or held.size < size or held.dtype != dtype:
            held = self.arrays[name] = backend.xp().empty(size, dtype)
        return held[:size].reshape(shape)


def interval_of_uniform(W, S0, line, W_max, S_max, scratch=None):
    """interval_of with one margin for a whole row, E_k(r) <= s u (2 |r| (|W[w]| + W_max) +
    |S0[w]| + S_max), W_max and S_max bounds on |W| and |S0| (a chunk's largest): the same
    (low, high, left line, right line), narrower by about 1e-6 of r, so just as safe. The margin
    then costs nothing per line, no step picks elements by a mask (np.where and boolean indexing
    mispredict: 4-6 ns an element against 0.1-0.3 for arithmetic), and the (n, K) temporaries
    are `scratch`'s (Scratch). The layers use this one; the tests compare the two.

    Its rounding is interval_of's (the lead, the slope with its margin, one division), so
    SAFETY = 4 covers it as it does there."""
    xp = backend.xp_of(W)
    scratch = scratch or Scratch()
    rows = xp.arange(len(W))
    s_u = W.dtype.type(SAFETY * UNIT_ROUNDOFF[np.dtype(W.dtype)])
    Ww, Sw = W[rows, line][:, None], S0[rows, line][:, None]
    lead = xp.subtract(Sw - s_u * (xp.abs(Sw) + S_max), S0,      # D - E at r = 0, per line
                       out=scratch("lead", W.shape, W.dtype))
    itself = xp.equal(S0, Sw, out=scratch("mask", W.shape, bool))   # w and its twins ...
    itself &= xp.equal(W, Ww, out=scratch("mask2", W.shape, bool))
    lead[itself] = np.inf                                           # ... never count
    spread = 2 * s_u * (xp.abs(Ww) + W_max)                         # E's slope in |r|
    rise = scratch("rise", W.shape, W.dtype)
    # r >= 0: D - E = lead - rise r. r <= 0, with t = -r: lead - (rise of the other sign) t.
    high, right, start, left = _reach(lead, xp.subtract(W, Ww - spread, out=rise), scratch)
    end_below, left_below, start_below, right_below = _reach(
        lead, xp.subtract(Ww + spread, W, out=rise), scratch)
    inf = W.dtype.type(np.inf)
    low = xp.where(start > 0, start, -inf)            # holds only from start: nothing below 0
    cut = start_below > 0                             # holds only below -start_below
    high, right = xp.where(cut, -start_below, high), xp.where(cut, right_below, right)
    wider = -end_below > low
    low, left = xp.where(wider, -end_below, low), xp.where(wider, left_below, left)
    return (low, high, xp.where(xp.isfinite(low), left, line),
            xp.where(xp.isfinite(high), right, line))


def _reach(lead, rise, scratch):
    """Where, along t >= 0, every line k keeps lead_k - rise_k t > 0 (n, K each): the end, set
    by the lines with rise > 0 (they fail from lead / rise on; 0 if one fails at 0, inf if none),
    and the start, set by those with rise < 0 (they hold only past lead / rise: -inf if none),
    each (n,) with the line that sets it. A line of rise 0 fails everywhere if lead <= 0."""
    xp = backend.xp_of(lead)
    inf = lead.dtype.type(np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = xp.divide(lead, rise, out=scratch("crossing", lead.shape, lead.dtype))
        ends = xp.maximum(rise, 0, out=scratch("ends", lead.shape, lead.dtype))
        ends /= ends                            # 1 where rise > 0, else NaN ...
        ends *= crossing
        xp.fmin(ends, inf, out=ends)            # ... and the NaN are inf (fmin skips NaN)
        starts = xp.minimum(rise, 0, out=scratch("starts", lead.shape, lead.dtype))
        starts /= starts                        # 1 where rise < 0, else NaN ...
        starts *= crossing
        xp.fmax(starts, -inf, out=starts)       # ... and the NaN are -inf
    end, start = ends.min(axis=1), starts.max(axis=1)
    mask = scratch("mask", lead.shape, bool)
    end_line = xp.equal(ends, end[:, None], out=mask).argmax(axis=1)
    start_line = xp.equal(starts, start[:, None], out=mask).argmax(axis=1)
    flat = xp.equal(rise, 0, out=mask)
    flat &= xp.less_equal(lead, 0, out=scratch("mask2", lead.shape, bool))
    end = xp.maximum(end, 0)
    end[flat.any(axis=1)] = 0
    return end, end_line, start, start_line


def winners(W, S0, r, scratch=None):
    """The first argmax of fl(fl(W * r) + S0) per row, as the streamed selection computes it.
    W, S0: (n, K), r: (n,), all of the layer's dtype."""
    xp = backend.xp_of(W)
    values = xp.multiply(W, r[:, None], out=(scratch or Scratch())("values", W.shape, W.dtype))
    values += S0
    return values.argmax(axis=1)


def magnitudes(W, S0):
    """The largest |W| and |S0| of rows W, S0 (n, K): the bounds interval_of_uniform takes."""
    return max(float(-W.min()), float(W.max())), float(backend.xp_of(S0).abs(S0).max())


def window_of(W, S0, r, scratch=None):
    """[(index, chosen, low, high, beyond)] of the left neighbour, the winner at r and the right
    neighbour, for rows of W, S0 (n, K) and r (n,); `beyond` is the next line further out (the
    left neighbour's left neighbour, the right one's right; the winner's is itself)."""
    xp = backend.xp_of(W)
    scratch = scratch or Scratch()
    rows = xp.arange(len(r))
    bounds = magnitudes(W, S0)

    def interval(line):
        return interval_of_uniform(W, S0, line, *bounds, scratch)

    line = winners(W, S0, r, scratch)
    low, high, left, right = interval(line)
    left_low, left_high, beyond_left, _ = interval(left)
    right_low, right_high, _, beyond_right = interval(right)
    return [(left, W[rows, left], left_low, left_high, beyond_left),
            (line, W[rows, line], low, high, line),
            (right, W[rows, right], right_low, right_high, beyond_right)]


class Lines:
    """One line per connection (the winner, or a neighbour on the envelope): its index, its
    option `chosen`, the interval (low, high) of r where it is on top, and the line `beyond` it
    (a neighbour's own neighbour further out); flat arrays (P,). A neighbour whose interval is
    empty is pending: its index is known (the line beyond the winner's previous neighbour), its
    option and interval not yet drawn."""

    def __init__(self, xp, P, K, dtype):
        self.index = xp.zeros(P, dtype=np.min_scalar_type(K - 1))
        self.chosen = xp.zeros(P, dtype=dtype)
        self.low = xp.full(P, np.inf, dtype=dtype)         # empty: (inf, -inf)
        self.high = xp.full(P, -np.inf, dtype=dtype)
        self.beyond = xp.zeros(P, dtype=self.index.dtype)

    def fields(self):
        return self.index, self.chosen, self.low, self.high, self.beyond

    def set(self, at, index, chosen, low, high, beyond):
        for field, value in zip(self.fields(), (index, chosen, low, high, beyond)):
            field[at] = value

    def copy_from(self, other, at):
        """Another line's index, option and interval (not what lies beyond it)."""
        for mine, theirs in zip(self.fields()[:4], other.fields()[:4]):
            mine[at] = theirs[at]

    def clear(self, at):
        self.low[at], self.high[at] = np.inf, -np.inf


def cross(at, current, near, far):
    """Connections `at` whose r went from the winner's interval into the near neighbour's: that
    line wins, the winner becomes the far neighbour (with the old far line beyond it), and the
    line beyond the near one becomes the near neighbour, pending."""
    far.beyond[at] = far.index[at]
    far.copy_from(current, at)
    current.copy_from(near, at)
    near.index[at] = near.beyond[at]
    near.clear(at)


class IntervalSlots(FactoredSlots):
    """Factored greedy slots without their options in memory (the module docstring).

    Kept per connection, for its winner and the two lines beside it on the envelope: the
    index, the option (`chosen`), the interval (`low`, `high`, in the layer's dtype) of
    r = a / b where that line is on top, and the line beyond it (Lines): 3 x 16 bytes in
    float32 for K up to 65,536 (besides a, its gradient and velocity), so that r moving back
    and forth across a crossing costs nothing, and moving on past a neighbour costs one
    interval. `options` and `initial_scores` are drawn again from the layer's key whenever
    they are asked for (inspection only).
    """

    def _draw(self, rng, version, dtype):
        """Only the key (version 2): the values are drawn where they are needed."""
        self.key, self.dtype = init.slot_key(rng), np.dtype(dtype)
        return None, None

    def _store(self, options, scores):
        self._state, self._greedy_cache = None, None

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

    @property
    def chunk(self):
        """Connections drawn at once (about BUILD_VALUES options): bounded memory."""
        return max(1, BUILD_VALUES // self.K)

    def in_chunks(self, count):
        """Consecutive parts (first, last, None) of `count` connections, a chunk each."""
        return [(at, min(at + self.chunk, count), None) for at in range(0, count, self.chunk)]

    def _values(self, start, stop):
        return draws.slot_values_range(self.key, self.weight_shape, self.K, self.option_bound,
                                       self.score_bound, start, stop, self.dtype)

    def _values_at(self, connections):
        W, S0 = draws.slot_values_at(self.key, self.weight_shape, self.K, self.option_bound,
                                    self.score_bound, backend.to_host(connections))
        return backend.to_device(W.astype(self.dtype)), backend.to_device(S0.astype(self.dtype))

    def pick(self, index):
        """The option `index` (weight_shape) names for every connection, drawn in chunks."""
        xp = backend.xp_of(index)
        flat = index.reshape(-1)
        chosen = xp.empty(flat.shape, dtype=self.dtype)
        step = self.chunk
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

    def _select(self, a, b):
        """greedy's selection (FactoredSlots.greedy): the intervals' test, and the connections
        that left theirs selected anew. Returns live arrays, updated in place by the next
        selection (treat as read-only; copy what must outlast it)."""
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
            cross(moved[to_left], current, left, right)
            cross(moved[to_right], current, right, left)
            lost = self._advance(moved[~(to_left | to_right)], ratio)
            if len(lost):                # past both neighbours: select these anew
                for lines, found in zip(self._state, self._window(lost, ratio[lost])):
                    lines.set(lost, *found.fields())
        return current.index.reshape(self.weight_shape), current.chosen.reshape(self.weight_shape)

    def _window(self, connections, r):
        """Lines (left neighbour, winner at r, right neighbour) of these connections (ascending
        flat indices, one line each), their options drawn again: one by one, or, when they are
        many, the whole layer in chunks."""
        if len(connections) > REDRAW_SHARE * self.size:
            return self._whole_window(connections, r)
        return self._windows(self.in_chunks(len(r)), r, lambda first, last, _:
                             self._values_at(connections[first:last]))

    def _whole_window(self, connections, r):
        """_window with the layer's values drawn in chunks, keeping the rows of `connections`."""
        xp = backend.xp_of(r)
        step = self.chunk
        bounds = backend.to_host(xp.searchsorted(connections, xp.arange(0, self.size, step)))
        bounds = list(bounds) + [len(r)]
        parts = [(first, last, chunk * step) for chunk, (first, last) in
                 enumerate(zip(bounds[:-1], bounds[1:])) if last > first]

        def values(first, last, start):     # the rows first:last of the chunk from start
            W, S0 = (backend.to_device(v)
                     for v in self._values(start, min(self.size, start + step)))
            rows = connections[first:last] - start
            return W[rows], S0[rows]

        return self._windows(parts, r, values)

    def _windows(self, parts, r, values):
        """window_of for consecutive parts (first, last, what) of the connections, with
        values(first, last, what) drawing their options and initial scores."""
        xp = backend.xp_of(r)
        found = [Lines(xp, len(r), self.K, self.dtype) for _ in range(3)]
        self._in_parts(parts, lambda first, last, what, scratch: [
            field for line in window_of(*values(first, last, what), r[first:last], scratch)
            for field in line], [field for lines in found for field in lines.fields()])
        return found

    def _in_parts(self, parts, compute, outputs):
        """outputs[i][first:last] = compute(first, last, what, scratch)[i] for every part
        (first, last, what); the cores share the parts (threads.in_parts), a Scratch each."""
        def work(begin, end):
            scratch = Scratch()
            for first, last, what in parts[begin:end]:
                for out, part in zip(outputs, compute(first, last, what, scratch)):
                    out[first:last] = part
                threads.chunk_done((last - first) * self.K)    # stop here on an interrupt

        threads.in_parts(backend.xp_of(outputs[0]), work, len(parts), self.chunk * self.K)

    def _advance(self, lost, ratio):
        """Of connections whose r left all three intervals (ascending flat indices), those past
        the winner's end on a side whose neighbour is pending take that line where r is inside
        its interval: one interval found, not a window. Returns the connections still lost."""
        xp = backend.xp_of(ratio)
        left, current, right = self._state
        r = ratio[lost]
        still = xp.ones(len(lost), dtype=bool)
        for past, near, far, outward in (
                ((r >= current.high[lost]) & (right.low[lost] > right.high[lost]), right, left, 3),
                ((r <= current.low[lost]) & (left.low[lost] > left.high[lost]), left, right, 2)):
            rows = xp.nonzero(past)[0]
            if not 0 < len(rows) <= REDRAW_SHARE * self.size:
                continue
            on, line = lost[rows], near.index[lost[rows]].astype(np.intp)
            found = [xp.empty(len(on), dtype) for dtype in (self.dtype,) * 3 + (line.dtype,)]

            def compute(first, last, _, scratch):
                W, S0 = self._values_at(on[first:last])
                mine = line[first:last]
                interval = interval_of_uniform(W, S0, mine, *magnitudes(W, S0), scratch)
                return W[xp.arange(len(mine)), mine], interval[0], interval[1], interval[outward]

            self._in_parts(self.in_chunks(len(on)), compute, found)
            chosen, low, high, beyond = found
            inside = (ratio[on] > low) & (ratio[on] < high)
            at = on[inside]
            cross(at, current, near, far)          # near is the new winner, once set:
            current.set(at, line[inside], chosen[inside], low[inside], high[inside],
                        line[inside])
            near.index[at] = beyond[inside]        # and the line beyond it pending
            still[rows[inside]] = False
        return lost[still]

    def _build(self, ratio):
        """Every connection's winner and both neighbours, with their intervals, at `ratio`:
        the whole layer drawn in chunks, as when many connections are selected anew."""
        self._state = self._whole_window(backend.xp_of(ratio).arange(self.size), ratio)

    def digest_parts(self):
        """What identifies this layer's values, without drawing all of them: the drawing's
        arguments and the first and last block of connections."""
        G, P = init.block_connections(self.K), self.size
        parts = [np.array([self.K, *self.weight_shape], np.int64).tobytes(),
                 np.asarray(self.key).tobytes(), np.float64([self.option_bound, self.score_bound])]
        for start in sorted({0, (P - 1) // G * G}):
            parts.extend(v.tobytes() for v in self._values(start, min(P, start + G)))
        return parts

    def digest_parts_as_kept(self):
        """The digest parts of slot_factored's layers, which keep these values in memory (all
        options, then all initial scores, connection by connection): drawn in chunks, so that
        a checkpoint saved by such a layer resumes in this one."""
        for which in (0, 1):
            for start, stop, _ in self.in_chunks(self.size):
                yield np.ascontiguousarray(self._values(start, stop)[which]).tobytes()

    def _compare_scores(self, a, b):
        """The argmax of the scores a * W + b * S0 themselves, in chunks (b <= 0, or a / b not
        finite), computed as slot_factored's factored_scores does."""
        xp = backend.xp_of(a)
        P = self.size
        flat = a.reshape(-1)
        index = xp.empty(P, dtype=np.min_scalar_type(self.K - 1))
        chosen = xp.empty(P, dtype=self.dtype)
        step = self.chunk
        for start in range(0, P, step):
            stop = min(P, start + step)
            W, S0 = (backend.to_device(v) for v in self._values(start, stop))
            scores = flat[start:stop, None] * W
            scores += b * S0
            best = scores.argmax(axis=1)
            index[start:stop] = best
            chosen[start:stop] = W[xp.arange(stop - start), best]
        return index.reshape(self.weight_shape), chosen.reshape(self.weight_shape)
