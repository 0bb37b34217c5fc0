"""The options that can win greedy selection of factored scores: an upper envelope of lines.

With factored scores (slot_factored.py) and b > 0, greedy selection picks, per connection,

    k* = first argmax_k  r * W[k] + S0[k],      r = a / b,

where the options W and the initial scores S0 never change: option k is the line
r -> W[k] r + S0[k], and k* the line on top at r. Only lines on the upper envelope of the K
lines are ever on top, for any r, and a set of K random lines has few of them: about 3 of 8 and
7 of 64 on average (the upper convex hull of the points (W[k], S0[k])). So they are found once,
and every later selection compares those E "candidates" instead of all K options, reading E/K
of the memory.

`envelope_candidates` walks each connection's envelope from r = -inf, where the line of least
slope is on top, to the next line it meets: among the steeper lines, the one crossing the
current line first, at r_k = (S0[c] - S0[k]) / (W[k] - W[c]). Lines that cross within a tiny
tolerance of that first crossing are all kept, so that float rounding and exact ties (equal
initial scores give a crossing at r = 0, where the smaller k must win) never drop a line that
can be on top. Kept in the order of k, the candidates give the same first argmax as all K
options. The walk is a loop over the envelope's length (at most K), each step vectorised over
a chunk of connections, on one core; on this 2-core machine it takes about 8 s per million
connections at K=64, once per layer, at its first greedy selection.
"""
import numpy as np

from ..core import backend

MIN_OPTIONS = 32       # below this K the candidates save too little (K=16: 14 -> 11 ms per
                       # million connections; K=32: 24 -> 13; K=64: 41 -> 13, on 2 cores)
TOLERANCE = 1e-6       # relative: crossings this close to the first one are kept as well
CHUNK = 1 << 16        # connections per pass while walking (bounds the (chunk, K) temporaries)


def _on_envelope(W, S0):
    """W, S0: (n, K), one connection a row -> (n, K) bool, True for every line that may be on
    top."""
    xp = backend.xp_of(W)
    # At r = -inf the least slope is on top; among equal slopes the largest initial score.
    current = xp.argmax(xp.where(W == W.min(axis=1, keepdims=True), S0, -xp.inf), axis=1)
    rows = xp.arange(len(W))
    keep = (W == W[rows, current, None]) & (S0 == S0[rows, current, None])
    while len(rows):
        # Only the connections still walking: their lines, current line and crossings.
        w, s0 = W[rows], S0[rows]
        at = (xp.arange(len(rows)), current)
        rise = w - w[at][:, None]                             # > 0 for the steeper lines
        steeper = rise > 0
        crossing = xp.where(steeper, (s0[at][:, None] - s0) / xp.where(steeper, rise, 1), xp.inf)
        first = crossing.min(axis=1, keepdims=True)
        near = steeper & (crossing <= first + TOLERANCE * xp.abs(first))
        keep[rows] |= near
        # Walk on along the steepest of the lines met there: it is on top just after.
        walking = near.any(axis=1)
        current = xp.argmax(xp.where(near, w, -xp.inf), axis=1)[walking]
        rows = rows[walking]
    return keep


def envelope_candidates(options, initial_scores):
    """options, initial_scores: (..., K) views of K-first memory (as Slots stores them).

    Returns (index, candidate options, candidate initial scores), each a (..., E) view of
    E-first memory: per connection its candidate lines in increasing k (index: their k),
    padded to the largest count E with repeats of the first (a repeat never wins a first
    argmax). None when E = K: then every option is a candidate.
    """
    xp = backend.xp_of(options)
    K = options.shape[-1]
    shape = options.shape[:-1]
    W = xp.moveaxis(options, -1, 0).reshape(K, -1)
    S0 = xp.moveaxis(initial_scores, -1, 0).reshape(K, -1)
    P = W.shape[1]
    keep = xp.empty((K, P), dtype=bool)
    for start in range(0, P, CHUNK):           # once per layer; bounds the temporaries
        part = slice(start, start + CHUNK)
        keep[:, part] = _on_envelope(xp.ascontiguousarray(W[:, part].T),
                                     xp.ascontiguousarray(S0[:, part].T)).T
    count = keep.sum(axis=0)
    E = int(count.max())
    if E == K:
        return None
    # Candidate k of connection j goes to row (number of candidates before it) of column j;
    # rows past a connection's count keep its first candidate (padding).
    order = xp.empty((E, P), dtype=np.min_scalar_type(K - 1))
    for start in range(0, P, CHUNK):
        part = keep[:, start:start + CHUNK]
        order[:, start:start + CHUNK] = xp.argmax(part, axis=0)
        lines, connections = xp.nonzero(part)
        rows = (xp.cumsum(part, axis=0, dtype=order.dtype) - 1)[lines, connections]
        order[rows, start + connections] = lines
    index = order.astype(np.intp)

    def as_view(rows):
        return xp.moveaxis(xp.ascontiguousarray(rows).reshape((E,) + shape), 0, -1)

    return (as_view(order), as_view(xp.take_along_axis(W, index, axis=0)),
            as_view(xp.take_along_axis(S0, index, axis=0)))


def envelope_walk(W, S0):
    """One connection's upper envelope, walked from r = -inf: [(k, start of its interval)],
    W, S0: (K,) host arrays. Plain Python, for reading (envelope_candidates is the fast one)."""
    line = min(range(len(W)), key=lambda k: (W[k], -S0[k]))      # on top at r = -inf
    walk, start = [(line, -np.inf)], -np.inf
    while True:
        crossings = [((S0[line] - S0[k]) / (W[k] - W[line]), -W[k], k)
                     for k in range(len(W)) if W[k] > W[line]]
        crossings = [c for c in crossings if c[0] >= start]
        if not crossings:
            return walk
        start, _, line = min(crossings)       # the first line met; of those, the steepest
        walk.append((line, start))

