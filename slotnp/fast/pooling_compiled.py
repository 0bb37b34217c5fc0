"""Max pooling over windows that tile the input (window = stride, as in every net here), compiled
with numba, on batch-innermost memory: one pass over x forward, one over dx backward. The NumPy
twin (elementwise.py) makes a pass per tap and per step of its first-argmax, and a boolean mask
per tap backward.

    forward:  y[c, oy, ox, :] = max over taps t = (i, j) of x[c, s*oy + i, s*ox + j, :]
              index = the first tap that holds the maximum (taps row by row, as the plain layer)
    backward: dx[c, s*oy + i, s*ox + j, :] = dout[c, oy, ox, :] where index is that tap, else 0

Each kernel takes a range of channels and releases the GIL; both cores take one range each
(threads.in_parts). The values are exactly the plain layer's (comparisons and copies only):
tests/fast/test_elementwise.py (a NaN is the maximum of its window, as np.max and np.argmax
have it). Where numba is not installed, or its JIT is switched off, this module registers
nothing.
"""
import sys

import numpy as np

from .winograd_compiled import numba, _jit

_kernel = _jit(nogil=True, cache=True)


@_kernel
def pool_forward(x, s, y, index, c0, c1):
    """x: (C, H, W, N) -> y: (C, OH, OW, N), and index: the tap of each maximum."""
    OH, OW, N = y.shape[1], y.shape[2], y.shape[3]
    # The taps are counted in 32 bits and stored as bytes once per window: with the byte array
    # in the loop, LLVM does not vectorise it (about 6 times slower on CONV-2's first pool).
    taps = np.empty(N, np.int32)
    for c in range(c0, c1):
        for oy in range(OH):
            for ox in range(OW):
                best = y[c, oy, ox]
                first = x[c, s * oy, s * ox]
                for m in range(N):
                    best[m] = first[m]
                    taps[m] = 0
                for t in range(1, s * s):
                    row = x[c, s * oy + t // s, s * ox + t % s]
                    for m in range(N):
                        # strictly: the first maximum wins; a NaN wins, as in np.argmax
                        value, top = row[m], best[m]
                        better = (value > top) | ((value != value) & (top == top))
                        best[m] = value if better else top
                        taps[m] = t if better else taps[m]
                index[c, oy, ox] = taps


@_kernel
def pool_backward(dout, index, s, dx, c0, c1):
    """dout, index: (C, OH, OW, N) -> dx: (C, s*OH, s*OW, N), every value written."""
    OH, OW, N = dout.shape[1], dout.shape[2], dout.shape[3]
    zero = np.zeros(1, dx.dtype)[0]
    for c in range(c0, c1):
        for oy in range(OH):
            for ox in range(OW):
                g, tap = dout[c, oy, ox], index[c, oy, ox]
                for t in range(s * s):
                    row = dx[c, s * oy + t // s, s * ox + t % s]
                    for m in range(N):
                        row[m] = g[m] if tap[m] == t else zero


if numba is not None and not numba.config.DISABLE_JIT:
    from . import elementwise
    elementwise.register_compiled_pooling(sys.modules[__name__])
