"""Winograd's minimal filtering F(4x4, 3x3) for 3x3 stride-1 convolutions, on batch-innermost
memory (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR 2016).

Cut the output into 4x4 tiles. A tile needs the 6x6 patch d of the padded input under it
(neighbouring patches overlap by 2), and for one input and one output channel its outputs are

    Y = A^T [ (G g G^T) * (B^T d B) ] A          g: the 3x3 kernel, *: elementwise

that is 36 multiplications for 16 outputs, where the direct sum takes 144. Summed over the input
channels, the elementwise product at each of the 36 positions e of a transformed tile is a
matrix product over channels, for all tiles of the batch at once:

    M[e] = U[e] @ V[e]        U[e]: (F, C) transformed kernels, V[e]: (C, tiles) transformed patches

so the GEMMs do 36/16 = 2.25 multiply-adds per output and input channel, against im2col's 9.
The transforms are small matrix products too, on all positions at once, because
vec(P^T d Q) = kron(P^T, Q^T) vec(d) for row-major vec:

    V = BK @ D     BK = kron(B^T, B^T): (36, 36)   D: the 36 patch values, (36, C*tiles)
    U = GK @ w9    GK = kron(G, G):     (36, 9)    w9: the 9 kernel taps, (9, F*C)
    Y = AK @ M     AK = kron(A^T, A^T): (16, 36)   Y: the 16 tile outputs, (16, F*tiles)

Backward is the adjoint of each linear step, in reverse order:

    dM = AK^T @ dY,   dU[e] = dM[e] @ V[e]^T,   dV[e] = U[e]^T @ dM[e],   dD = BK^T @ dV,
    dw9 = GK^T @ dU,  and each of dD's 36 patch values added back where D was copied from.

The layout is batch_inner.py's: input padded as (C, H + 2p, W + 2p, N), output (F, OH, OW, N).
Patch position (i, j) of a block of tiles is then one strided slice of the padded input whose
runs of N values are contiguous. The work goes one block of tiles at a time, so that D, V and M
stay in cache. A training forward keeps every block's V for backward (2.25 values per input
value: 75 MB for CONV-2's second layer at batch 128), which saved backward 11% of a
forward-and-backward on one core. Each half of the batch is a
separate piece of work (runs of N/2 values), so that two cores take one half each.

The transforms hold fractions (1/6, 1/24) that float32 rounds: outputs differ from the direct
sum by about 1e-5 of the largest output (im2col: below 1e-6; `python bench/conv_layers.py`
measures both). In float64 the tests hold it to 1e-13 of the plain path. Conv2d uses this path
where it applies (see `applies`) and batch_inner.py elsewhere.
"""
import contextlib
import sys

import numpy as np

from ..core import backend
from . import threads
from .batch_inner import copy_images, padded_batch_inner, unpadded

TILE = 4            # output tile side
PATCH = TILE + 2    # input patch side for a 3x3 kernel
BLOCK_VALUES = 36 * 64 * 4 * 128   # values of D in one block of tiles (1.2 M, 4.7 MB in float32)
# With few input channels the 36 GEMMs are too shallow. Forward + backward at 32x32 to 64
# channels, batch 128, in ms, Winograd against batch_inner.py for 3 / 16 / 32 / 64 input channels:
# 104 / 29, 123 / 85, 136 / 129, 205 / 258 (`python bench/conv_layers.py --shapes 3,64,32
# 16,64,32 32,64,32 64,64,32 --winograd-min-channels 1`).
MIN_CHANNELS = 64
# With few tiles in a part of the batch the GEMMs are too narrow: VGG-19's 4x4 layers at batch
# 16 (8 tiles a half) took 80 ms forward and backward against batch_inner's 26 (512 -> 512
# channels); at 32 tiles the two paths tie, at 64 and more Winograd wins (CONV-2 at batch 128:
# 4,096 tiles a half).
MIN_TILES = 32

B_T = np.array([[4, 0, -5, 0, 1, 0],
                [0, -4, -4, 1, 1, 0],
                [0, 4, -4, -1, 1, 0],
                [0, -2, -1, 2, 1, 0],
                [0, 2, -1, -2, 1, 0],
                [0, 4, 0, -5, 0, 1]], dtype=np.float64)
G = np.array([[1 / 4, 0, 0],
              [-1 / 6, -1 / 6, -1 / 6],
              [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6],
              [1 / 24, -1 / 12, 1 / 6],
              [0, 0, 1]], dtype=np.float64)
A_T = np.array([[1, 1, 1, 1, 1, 0],
                [0, 1, -1, 2, -2, 0],
                [0, 1, 1, 4, 4, 0],
                [0, 1, -1, 8, -8, 1]], dtype=np.float64)


def applies(kernel_shape, stride, in_channels, out_height, out_width, batch=None):
    """Whether Conv2d uses this path: a 3x3 kernel, stride 1, at least MIN_CHANNELS input
    channels, output sides that 4 divides, and (given the batch size) at least MIN_TILES
    tiles in each part of the batch (threads.BATCH_PARTS)."""
    parts = threads.BATCH_PARTS
    return (tuple(kernel_shape) == (3, 3) and stride == 1 and in_channels >= MIN_CHANNELS
            and out_height % TILE == 0 and out_width % TILE == 0
            and (batch is None or (out_height // TILE) * (out_width // TILE)
                 * -(-batch // parts) >= MIN_TILES))


_TRANSFORMS = {}


def transforms(xp, dtype):
    """BK (36, 36), GK (36, 9), AK (16, 36) in `dtype` on xp's device, uploaded once."""
    key = (id(xp), np.dtype(dtype).name)
    if key not in _TRANSFORMS:
        _TRANSFORMS[key] = [xp.asarray(np.kron(m, m).astype(dtype)) for m in (B_T, G, A_T)]
    return _TRANSFORMS[key]


def tile_blocks(tile_rows, tile_cols, values_per_tile, whole=False):
    """(ty0, ty1, tx0, tx1) for consecutive blocks of tiles, each at most BLOCK_VALUES values of
    D: whole rows of tiles while one fits, else pieces of one row (`whole`: one block, for a
    GPU)."""
    if whole:
        return [(0, tile_rows, 0, tile_cols)]
    if tile_cols * values_per_tile <= BLOCK_VALUES:
        step = BLOCK_VALUES // (tile_cols * values_per_tile)
        return [(r, min(r + step, tile_rows), 0, tile_cols) for r in range(0, tile_rows, step)]
    step = max(1, BLOCK_VALUES // values_per_tile)
    return [(r, r + 1, c, min(c + step, tile_cols))
            for r in range(tile_rows) for c in range(0, tile_cols, step)]


def tile_views(a, side, block):
    """For each position (i, j) of a side x side tile, row-major: its values over the block's
    tiles in a: (channels, rows, cols, N) memory -> (channels, ty1 - ty0, tx1 - tx0, N) slices."""
    ty0, ty1, tx0, tx1 = block
    return [a[:, TILE * ty0 + i:TILE * (ty1 - 1) + i + 1:TILE,
              TILE * tx0 + j:TILE * (tx1 - 1) + j + 1:TILE]
            for i in range(side) for j in range(side)]


# ---- The four tile transforms, each with the copy beside it --------------------------------
# Each works on one block of tiles of one part of the batch, (ty0, ty1, tx0, tx1), and writes
# into an array it is given (C-contiguous: V and dM are filled through reshaped views). A
# compiled twin of the four may register itself (`register_compiled`); these NumPy ones run
# where none has, and on a GPU.

def input_transform(padded, n0, n1, V, ty0, ty1, tx0, tx1):
    """V = BK @ D: padded (C, Hp, Wp, N), images n0:n1 -> V (36, C, tiles, n1 - n0), D the
    block's patches."""
    xp, block = backend.xp_of(padded), (ty0, ty1, tx0, tx1)
    assert V.flags.c_contiguous, "V is filled through a reshaped view"
    C = padded.shape[0]
    D = xp.empty((PATCH * PATCH, C, ty1 - ty0, tx1 - tx0, n1 - n0), dtype=padded.dtype)
    for part, window in zip(D, tile_views(padded[..., n0:n1], PATCH, block)):
        part[...] = window
    xp.matmul(transforms(xp, V.dtype)[0], D.reshape(PATCH * PATCH, -1),
              out=V.reshape(PATCH * PATCH, -1))


def output_transform(M, out, n0, n1, ty0, ty1, tx0, tx1):
    """The block's tiles of out (F, OH, OW, N), images n0:n1, = AK @ M, M: (36, F, tiles, n)."""
    xp, F, n = backend.xp_of(M), M.shape[1], M.shape[3]
    Y = xp.matmul(transforms(xp, M.dtype)[2], M.reshape(PATCH * PATCH, -1))
    Y = Y.reshape(TILE * TILE, F, ty1 - ty0, tx1 - tx0, n)
    for window, part in zip(tile_views(out[..., n0:n1], TILE, (ty0, ty1, tx0, tx1)), Y):
        window[...] = part


def output_adjoint(dy, n0, n1, dM, ty0, ty1, tx0, tx1):
    """dM = AK^T @ dY: dy (F, OH, OW, N), images n0:n1 -> dM (36, F, tiles, n1 - n0), dY the
    block's tiles."""
    xp, F = backend.xp_of(dy), dy.shape[0]
    assert dM.flags.c_contiguous, "dM is filled through a reshaped view"
    dY = xp.empty((TILE * TILE, F, ty1 - ty0, tx1 - tx0, n1 - n0), dtype=dy.dtype)
    for part, window in zip(dY, tile_views(dy[..., n0:n1], TILE, (ty0, ty1, tx0, tx1))):
        part[...] = window
    xp.matmul(transforms(xp, dy.dtype)[2].T, dY.reshape(TILE * TILE, -1),
              out=dM.reshape(PATCH * PATCH, -1))


def input_adjoint(dV, dpadded, n0, n1, ty0, ty1, tx0, tx1):
    """The block's patches of dpadded (C, Hp, Wp, N), images n0:n1, += BK^T @ dV, dV:
    (36, C, tiles, n1 - n0)."""
    xp, C, n = backend.xp_of(dV), dV.shape[1], dV.shape[3]
    dD = xp.matmul(transforms(xp, dV.dtype)[0].T, dV.reshape(PATCH * PATCH, -1))
    for window, part in zip(tile_views(dpadded[..., n0:n1], PATCH, (ty0, ty1, tx0, tx1)),
                            dD.reshape(PATCH * PATCH, C, ty1 - ty0, tx1 - tx0, n)):
        window += part


_compiled = None      # compiled twins of the four transforms, where one has registered
use_compiled = True   # False: the NumPy transforms even where compiled ones are registered


def register_compiled(kernels):
    """Offer compiled twins of the four transforms above (a module with the same names)."""
    global _compiled
    _compiled = kernels


@contextlib.contextmanager
def numpy_transforms():
    """Within it, the NumPy transforms run even where compiled ones are registered (tests and
    bench/ compare the two)."""
    global use_compiled
    before, use_compiled = use_compiled, False
    try:
        yield
    finally:
        use_compiled = before


def kernels(xp):
    """What does the four transforms on xp: the compiled twins on the CPU where registered,
    else this module."""
    if xp is np and use_compiled and _compiled is not None:
        return _compiled
    return sys.modules[__name__]


def transformed_patches(xp, padded, n0, n1, block):
    """V (36, C, tiles*n) of one block of tiles of images n0:n1 of `padded` (C, Hp, Wp, N)."""
    V = xp.empty((PATCH * PATCH, padded.shape[0], (block[1] - block[0]) * (block[3] - block[2]),
                  n1 - n0), dtype=padded.dtype)
    kernels(xp).input_transform(padded, n0, n1, V, *block)
    return V.reshape(PATCH * PATCH, padded.shape[0], -1)


def _setup(xp, padded, w):
    """The kernel transform GK, and U = GK @ w9 as (36, F, C)."""
    F, C = w.shape[:2]
    GK = transforms(xp, padded.dtype)[1]
    U = xp.matmul(GK, w.transpose(2, 3, 0, 1).reshape(9, F * C)).reshape(PATCH * PATCH, F, C)
    return GK, U


def blocks_of(xp, padded, n):
    """The blocks of tiles for a part of n images of `padded` (C, Hp, Wp, N)."""
    C, Hp, Wp, _ = padded.shape
    return tile_blocks((Hp - 2) // TILE, (Wp - 2) // TILE, PATCH * PATCH * C * n,
                       whole=xp is not np)


def forward(xp, x, w, padding, keep=False):
    """x: (N, C, H, W), w: (F, C, 3, 3) -> y: (N, F, OH, OW), a view of (F, OH, OW, N) memory,
    and what backward needs: the padded batch-inner input and, with `keep` (training), the
    transformed patches V of every block, which backward would otherwise compute again. The
    halves of the batch (threads.batch_parts) go side by side, each on its own core."""
    F = w.shape[0]
    padded = padded_batch_inner(xp, x, padding, copy=False)    # each part copies its images
    _, U = _setup(xp, padded, w)
    _, Hp, Wp, N = padded.shape
    y = xp.empty((F, Hp - 2, Wp - 2, N), dtype=x.dtype)
    kept = {} if keep else None
    transform = kernels(xp)

    def forward_part(n0, n1):
        copy_images(padded, x, padding, n0, n1)
        for index, block in enumerate(blocks_of(xp, padded, n1 - n0)):
            V = transformed_patches(xp, padded, n0, n1, block)
            if keep:
                kept[n0, index] = V
            M = xp.matmul(U, V)                                           # (36, F, tiles*n)
            transform.output_transform(M.reshape(PATCH * PATCH, F, -1, n1 - n0), y, n0, n1,
                                       *block)
    threads.side_by_side(xp, forward_part, threads.batch_parts(xp, N))
    return y.transpose(3, 0, 1, 2), (padded, kept)


def backward(xp, dout, cache, w, padding, input_grad=True):
    """dout: (N, F, OH, OW), any memory order, and forward's `cache` -> (dW (F, C, 3, 3),
    dx (N, C, H, W) as a view of batch-inner memory, or None without input_grad). Each half of
    the batch sums its own dU; the halves' sums are added in order, so dW is the same whether
    they ran side by side or one after the other."""
    padded, kept = cache
    F, C = w.shape[:2]
    GK, U = _setup(xp, padded, w)
    N = padded.shape[3]
    dy = xp.ascontiguousarray(dout.transpose(1, 2, 3, 0))            # (F, OH, OW, N)
    dpadded = xp.zeros_like(padded) if input_grad else None
    parts = threads.batch_parts(xp, N)
    transform = kernels(xp)
    dU_of = {}

    def backward_part(n0, n1):
        dU = dU_of[n0] = xp.zeros((PATCH * PATCH, F, C), dtype=dout.dtype)
        for index, block in enumerate(blocks_of(xp, padded, n1 - n0)):
            tiles = (block[1] - block[0]) * (block[3] - block[2])
            dM = xp.empty((PATCH * PATCH, F, tiles, n1 - n0), dtype=dout.dtype)
            transform.output_adjoint(dy, n0, n1, dM, *block)
            dM = dM.reshape(PATCH * PATCH, F, -1)
            V = kept.pop((n0, index), None) if kept is not None else None
            if V is None:                  # an evaluation forward before, or a second backward
                V = transformed_patches(xp, padded, n0, n1, block)
            dU += xp.matmul(dM, V.transpose(0, 2, 1))
            if not input_grad:
                continue
            dV = xp.matmul(U.transpose(0, 2, 1), dM)                  # (36, C, tiles*n)
            transform.input_adjoint(dV.reshape(PATCH * PATCH, C, tiles, n1 - n0),
                                    dpadded, n0, n1, *block)
    threads.side_by_side(xp, backward_part, parts)
    dU = dU_of[parts[0][0]]
    for n0, _ in parts[1:]:
        dU += dU_of[n0]
    dw = xp.matmul(GK.T, dU.reshape(PATCH * PATCH, F * C)).reshape(3, 3, F, C)
    dw = xp.ascontiguousarray(dw.transpose(2, 3, 0, 1))
    return dw, unpadded(dpadded, padding) if input_grad else None
