"""Winograd's four tile transforms (winograd.py) compiled with numba, each fused with the copy
beside it: the NumPy twin copies every patch into D and then multiplies by a 36 x 36 matrix
(BK = kron(B^T, B^T)); these read each patch where it lies and apply B^T d B as two passes of
6-point transforms, whose constant rows they spell out (most entries of B^T are 0 or +-1).

    input_transform   V[e] = (B^T d B)[e]       d: a 6x6 patch of the padded input
    output_transform  y tile = A^T m A          m: a 6x6 tile of M = U @ V, y: its 4x4 outputs
    output_adjoint    dM[e] = (A dy A^T)[e]     dy: a 4x4 tile of the output gradient
    input_adjoint     dpadded patch += B dV B^T

Each kernel walks one block of tiles of one part of the batch (winograd.tile_blocks,
threads.batch_parts), the batch innermost, and releases the GIL, so the halves of a batch run on
two cores as before. The sums are the same products in another order: results agree with the
NumPy twin to float rounding (tests/fast/test_convolution.py). Where numba is not installed, or
its JIT is switched off, this module registers nothing and winograd.py uses its NumPy
transforms.
"""
import sys

import numpy as np

try:
    import numba
except ImportError:          # numba is optional: winograd.py keeps its NumPy transforms
    numba = None


def _jit(**options):
    """numba.njit(**options) as a decorator; without numba, the plain Python function."""
    return numba.njit(**options) if numba is not None else (lambda function: function)


_inline = _jit(inline="always")                 # the 6-point transforms, inlined
_kernel = _jit(nogil=True, cache=True)         # the kernels: two halves of a batch at once

# Small integer constants as float32: exact, and float32 * float32 stays float32 where a
# Python int would make numba compute in float64 (float64 inputs stay float64).
_2, _4, _5, _8 = (np.float32(c) for c in (2, 4, 5, 8))


@_inline
def _bt(d0, d1, d2, d3, d4, d5):
    """B^T @ d: the input transform of 6 values (the rows of winograd.B_T)."""
    return (_4 * d0 - _5 * d2 + d4, -_4 * d1 - _4 * d2 + d3 + d4, _4 * d1 - _4 * d2 - d3 + d4,
            -_2 * d1 - d2 + _2 * d3 + d4, _2 * d1 - d2 - _2 * d3 + d4, _4 * d1 - _5 * d3 + d5)


@_inline
def _b(v0, v1, v2, v3, v4, v5):
    """B @ v: the adjoint of _bt (the columns of winograd.B_T)."""
    return (_4 * v0, -_4 * v1 + _4 * v2 - _2 * v3 + _2 * v4 + _4 * v5,
            -_5 * v0 - _4 * v1 - _4 * v2 - v3 - v4, v1 - v2 + _2 * v3 - _2 * v4 - _5 * v5,
            v0 + v1 + v2 + v3 + v4, v5)


@_inline
def _at(m0, m1, m2, m3, m4, m5):
    """A^T @ m: the output transform, 6 values to 4 (the rows of winograd.A_T)."""
    return (m0 + m1 + m2 + m3 + m4, m1 - m2 + _2 * m3 - _2 * m4,
            m1 + m2 + _4 * m3 + _4 * m4, m1 - m2 + _8 * m3 - _8 * m4 + m5)


@_inline
def _a(g0, g1, g2, g3):
    """A @ g: the adjoint of _at, 4 values to 6 (the columns of winograd.A_T)."""
    return (g0, g0 + g1 + g2 + g3, g0 - g1 + g2 - g3,
            g0 + _2 * g1 + _4 * g2 + _8 * g3, g0 - _2 * g1 + _4 * g2 - _8 * g3, g3)


# The batch runs of values a tile reads or writes, as 1-d views indexed from 0: numba then knows
# each index is not negative, and vectorises the loop over the batch.

@_inline
def _rows6(a, c, y, x, n0, n1):
    """a[c, y + i, x, n0:n1] for i = 0..5: a 6-high column of a patch."""
    return (a[c, y, x, n0:n1], a[c, y + 1, x, n0:n1], a[c, y + 2, x, n0:n1],
            a[c, y + 3, x, n0:n1], a[c, y + 4, x, n0:n1], a[c, y + 5, x, n0:n1])


@_inline
def _rows4(a, f, y, x, n0, n1):
    """a[f, y + i, x, n0:n1] for i = 0..3: a 4-high column of an output tile."""
    return a[f, y, x, n0:n1], a[f, y + 1, x, n0:n1], a[f, y + 2, x, n0:n1], a[f, y + 3, x, n0:n1]


@_inline
def _columns4(a, f, y, x, n0, n1):
    """a[f, y, x + j, n0:n1] for j = 0..3: a 4-wide row of an output tile."""
    return a[f, y, x, n0:n1], a[f, y, x + 1, n0:n1], a[f, y, x + 2, n0:n1], a[f, y, x + 3, n0:n1]


@_kernel
def input_transform(padded, n0, n1, V, ty0, ty1, tx0, tx1):
    """padded: (C, Hp, Wp, N), images n0:n1 -> V: (36, C, tiles, n1 - n0), tiles row-major."""
    C, n = padded.shape[0], n1 - n0
    t = np.empty((6, 6, n), V.dtype)
    for c in range(C):
        for ty in range(ty0, ty1):
            for tx in range(tx0, tx1):
                tile, y0, x0 = (ty - ty0) * (tx1 - tx0) + tx - tx0, 4 * ty, 4 * tx
                for j in range(6):                       # t = B^T d, column by column
                    d0, d1, d2, d3, d4, d5 = _rows6(padded, c, y0, x0 + j, n0, n1)
                    for m in range(n):
                        r = _bt(d0[m], d1[m], d2[m], d3[m], d4[m], d5[m])
                        for i in range(6):
                            t[i, j, m] = r[i]
                for i in range(6):                       # V = t B, row by row
                    for m in range(n):
                        r = _bt(t[i, 0, m], t[i, 1, m], t[i, 2, m], t[i, 3, m], t[i, 4, m],
                                t[i, 5, m])
                        for j in range(6):
                            V[6 * i + j, c, tile, m] = r[j]


@_kernel
def output_transform(M, out, n0, n1, ty0, ty1, tx0, tx1):
    """M: (36, F, tiles, n1 - n0) -> the block's 4x4 tiles of out (F, OH, OW, N), images
    n0:n1."""
    F, n = M.shape[1], n1 - n0
    t = np.empty((6, 4, n), M.dtype)
    for f in range(F):
        for ty in range(ty0, ty1):
            for tx in range(tx0, tx1):
                tile, y0, x0 = (ty - ty0) * (tx1 - tx0) + tx - tx0, 4 * ty, 4 * tx
                for i in range(6):                       # t = m A, row by row
                    e = 6 * i
                    for m in range(n):
                        r = _at(M[e, f, tile, m], M[e + 1, f, tile, m], M[e + 2, f, tile, m],
                                M[e + 3, f, tile, m], M[e + 4, f, tile, m], M[e + 5, f, tile, m])
                        for j in range(4):
                            t[i, j, m] = r[j]
                for j in range(4):                       # y = A^T t, column by column
                    o0, o1, o2, o3 = _rows4(out, f, y0, x0 + j, n0, n1)
                    for m in range(n):
                        o0[m], o1[m], o2[m], o3[m] = _at(t[0, j, m], t[1, j, m], t[2, j, m],
                                                         t[3, j, m], t[4, j, m], t[5, j, m])


@_kernel
def output_adjoint(dy, n0, n1, dM, ty0, ty1, tx0, tx1):
    """dy: (F, OH, OW, N), images n0:n1 -> dM: (36, F, tiles, n1 - n0) for the block's tiles."""
    F, n = dy.shape[0], n1 - n0
    t = np.empty((4, 6, n), dM.dtype)
    for f in range(F):
        for ty in range(ty0, ty1):
            for tx in range(tx0, tx1):
                tile, y0, x0 = (ty - ty0) * (tx1 - tx0) + tx - tx0, 4 * ty, 4 * tx
                for i in range(4):                       # t = dy A^T, row by row
                    g0, g1, g2, g3 = _columns4(dy, f, y0 + i, x0, n0, n1)
                    for m in range(n):
                        r = _a(g0[m], g1[m], g2[m], g3[m])
                        for j in range(6):
                            t[i, j, m] = r[j]
                for j in range(6):                       # dM = A t, column by column
                    for m in range(n):
                        r = _a(t[0, j, m], t[1, j, m], t[2, j, m], t[3, j, m])
                        for i in range(6):
                            dM[6 * i + j, f, tile, m] = r[i]


@_kernel
def input_adjoint(dV, dpadded, n0, n1, ty0, ty1, tx0, tx1):
    """dV: (36, C, tiles, n1 - n0) -> added into the block's patches of dpadded (C, Hp, Wp, N),
    images n0:n1."""
    C, n = dV.shape[1], n1 - n0
    t = np.empty((6, 6, n), dV.dtype)
    for c in range(C):
        for ty in range(ty0, ty1):
            for tx in range(tx0, tx1):
                tile, y0, x0 = (ty - ty0) * (tx1 - tx0) + tx - tx0, 4 * ty, 4 * tx
                for i in range(6):                       # t = dV B^T, row by row
                    e = 6 * i
                    for m in range(n):
                        r = _b(dV[e, c, tile, m], dV[e + 1, c, tile, m], dV[e + 2, c, tile, m],
                               dV[e + 3, c, tile, m], dV[e + 4, c, tile, m],
                               dV[e + 5, c, tile, m])
                        for j in range(6):
                            t[i, j, m] = r[j]
                for j in range(6):                       # dpadded += B t, column by column
                    d0, d1, d2, d3, d4, d5 = _rows6(dpadded, c, y0, x0 + j, n0, n1)
                    for m in range(n):
                        r = _b(t[0, j, m], t[1, j, m], t[2, j, m], t[3, j, m], t[4, j, m],
                               t[5, j, m])
                        d0[m] += r[0]
                        d1[m] += r[1]
                        d2[m] += r[2]
                        d3[m] += r[3]
                        d4[m] += r[4]
                        d5[m] += r[5]


if numba is not None and not numba.config.DISABLE_JIT:   # else Python loops: NumPy is faster
    from . import winograd
    winograd.register_compiled(sys.modules[__name__])
