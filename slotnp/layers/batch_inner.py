"""Convolution on batch-innermost memory: im2col and col2im one cache-sized block of output rows
at a time, so the full columns matrix is never written.

Lay the padded input out as (C, H + 2p, W + 2p, N), the batch index innermost. Then kernel tap
(i, j) of the windows of output rows r0 <= r < r1 is one slice,

    padded[:, r0*s + i : r1*s + i : s,  j : j + OW*s : s,  :]        (s = stride)

whose last OW*N values (stride 1) or N values (any stride) are contiguous in memory: runs of
4,096 floats for CONV-2 at batch 128, where (N, C, H, W) memory gives runs of 32. So the
columns of a block of rows are copied at memory speed into a stack that stays in cache,
rows (i, j, c) x columns (r, ow, n), and one GEMM per block does the work:

    y[:, rows]  = W2d @ stack                 W2d = W as (F, KH*KW*C), taps outermost
    dW2d       += dy[:, rows] @ stack.T
    dstack      = W2d.T @ dy[:, rows],  each tap's part added back where it was copied from

There is no padding overhead (every column is a real output) and no size-dependent temporary
larger than the stack. The output y is (F, OH, OW, N) memory handed on as an (N, F, OH, OW)
view; ReLU and pooling keep their input's memory order, so the next convolution finds its input
batch-innermost already and pads it with one fast copy. Conv2d uses this path for every layer
that Winograd's (winograd.py, same memory layout) does not take; its im2col path (im2col.py) is
the plain one that the tests compare this one against.
"""
import numpy as np

from .im2col import output_size

STACK_VALUES = 9 * 64 * 4096  # values in one block's stack of columns (9 MB in float32)


def padded_batch_inner(xp, x, padding):
    """x: (N, C, H, W), any memory order -> (C, H + 2p, W + 2p, N), zero-padded."""
    N, C, H, W = x.shape
    p = padding
    padded = xp.zeros((C, H + 2 * p, W + 2 * p, N), dtype=x.dtype)
    padded[:, p:p + H, p:p + W] = x.transpose(1, 2, 3, 0)
    return padded


def row_blocks(rows, values_per_row, whole=False):
    """(r0, r1) for consecutive blocks of output rows, each at most STACK_VALUES values (one
    block with `whole`: on a GPU, few large operations beat cache-sized ones)."""
    step = rows if whole else max(1, STACK_VALUES // values_per_row)
    return [(r0, min(r0 + step, rows)) for r0 in range(0, rows, step)]


class Geometry:
    """Sizes shared by forward and backward, and the two halves of a block's im2col."""

    def __init__(self, padded_shape, kernel_shape, stride, whole=False):
        self.C, Hp, Wp, self.N = padded_shape
        self.kh, self.kw = kernel_shape
        self.stride = stride
        self.OH, self.OW = output_size(Hp, self.kh, stride, 0), output_size(Wp, self.kw, stride, 0)
        self.stack_rows = self.kh * self.kw * self.C
        self.row_values = self.OW * self.N                       # columns per output row
        self.blocks = row_blocks(self.OH, self.stack_rows * self.row_values, whole)

    def new_stack(self, xp, dtype):
        """(KH*KW*C, rows*OW*N) memory for the largest block."""
        return xp.empty((self.stack_rows, self.blocks[0][1] * self.row_values), dtype=dtype)

    def windows(self, padded, r0, r1):
        """For each tap (i, j), taps in order: its window slice of `padded` for output rows
        r0..r1, (C, r1 - r0, OW, N)."""
        s = self.stride
        return [padded[:, r0 * s + i:(r1 - 1) * s + i + 1:s, j:j + (self.OW - 1) * s + 1:s]
                for i in range(self.kh) for j in range(self.kw)]

    def parts(self, stack, r0, r1):
        """For each tap, its rows of the block's stack, seen as (C, r1 - r0, OW, N)."""
        parts = stack.reshape(self.kh, self.kw, self.C, -1, self.OW, self.N)[:, :, :, :r1 - r0]
        return [parts[i, j] for i in range(self.kh) for j in range(self.kw)]


def forward(xp, x, w, stride, padding):
    """x: (N, C, H, W), w: (F, C, KH, KW) -> y: (N, F, OH, OW), a view of (F, OH, OW, N)
    memory, and the padded batch-inner input that backward needs."""
    F = w.shape[0]
    padded = padded_batch_inner(xp, x, padding)
    g = Geometry(padded.shape, w.shape[2:], stride, whole=xp is not np)
    w2d = w.transpose(0, 2, 3, 1).reshape(F, g.stack_rows)
    y = xp.empty((F, g.OH * g.row_values), dtype=x.dtype)
    stack = g.new_stack(xp, x.dtype)
    for r0, r1 in g.blocks:
        for window, part in zip(g.windows(padded, r0, r1), g.parts(stack, r0, r1)):
            part[...] = window                                                 # im2col
        columns = slice(r0 * g.row_values, r1 * g.row_values)
        xp.matmul(w2d, stack[:, :columns.stop - columns.start], out=y[:, columns])
    return y.reshape(F, g.OH, g.OW, g.N).transpose(3, 0, 1, 2), padded


def backward(xp, dout, padded, w, stride, padding):
    """dout: (N, F, OH, OW), any memory order -> (dW (F, C, KH, KW), dx (N, C, H, W) as a view
    of batch-inner memory)."""
    F = w.shape[0]
    g = Geometry(padded.shape, w.shape[2:], stride, whole=xp is not np)
    w2d = w.transpose(0, 2, 3, 1).reshape(F, g.stack_rows)
    dy = xp.ascontiguousarray(dout.transpose(1, 2, 3, 0)).reshape(F, -1)  # (F, OH*OW*N)
    dw2d = xp.zeros((F, g.stack_rows), dtype=dout.dtype)
    dw_block = xp.empty_like(dw2d)
    dpadded = xp.zeros_like(padded)
    stack = g.new_stack(xp, dout.dtype)
    for r0, r1 in g.blocks:
        dy_rows = dy[:, r0 * g.row_values:r1 * g.row_values]
        columns = stack[:, :dy_rows.shape[1]]
        parts = g.parts(stack, r0, r1)
        for window, part in zip(g.windows(padded, r0, r1), parts):
            part[...] = window                                                 # im2col
        xp.matmul(dy_rows, columns.T, out=dw_block)
        dw2d += dw_block
        xp.matmul(w2d.T, dy_rows, out=columns)                                # dcolumns
        for dwindow, part in zip(g.windows(dpadded, r0, r1), parts):
            dwindow += part                                                    # col2im
    dw = xp.ascontiguousarray(dw2d.reshape(F, g.kh, g.kw, g.C).transpose(0, 3, 1, 2))
    H, W = dpadded.shape[1] - 2 * padding, dpadded.shape[2] - 2 * padding
    dx = dpadded[:, padding:padding + H, padding:padding + W]
    return dw, dx.transpose(3, 0, 1, 2)
