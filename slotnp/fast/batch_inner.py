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

from ..core.im2col import output_size
from . import threads

STACK_VALUES = 9 * 64 * 4096  # values in one block's stack of columns (9 MB in float32)


def padded_batch_inner(xp, x, padding, copy=True):
    """x: (N, C, H, W), any memory order -> (C, H + 2p, W + 2p, N), zero-padded; without
    `copy` only the zeros, for copy_images to fill part by part."""
    N, C, H, W = x.shape
    p = padding
    padded = xp.zeros((C, H + 2 * p, W + 2 * p, N), dtype=x.dtype)
    if copy:
        copy_images(padded, x, padding, 0, N)
    return padded


def copy_images(padded, x, padding, n0, n1):
    """Images n0:n1 of x (N, C, H, W) into the inside of padded (C, H + 2p, W + 2p, N)."""
    p, (H, W) = padding, x.shape[2:]
    padded[:, p:p + H, p:p + W, n0:n1] = x[n0:n1].transpose(1, 2, 3, 0)


def unpadded(dpadded, padding):
    """dpadded: (C, Hp, Wp, N) -> dx: (N, C, H, W), a view without the padding's border."""
    H, W = dpadded.shape[1] - 2 * padding, dpadded.shape[2] - 2 * padding
    return dpadded[:, padding:padding + H, padding:padding + W].transpose(3, 0, 1, 2)


def row_blocks(rows, values_per_row, whole=False):
    """(r0, r1) for consecutive blocks of output rows, each at most STACK_VALUES values (one
    block with `whole`: on a GPU, few large operations beat cache-sized ones)."""
    step = rows if whole else max(1, STACK_VALUES // values_per_row)
    return [(r0, min(r0 + step, rows)) for r0 in range(0, rows, step)]


class Geometry:
    """Sizes shared by forward and backward, and the two halves of a block's im2col."""

    def __init__(self, padded_shape, kernel_shape, stride, whole=False, rows=None):
        """`rows`: (first, last), the output rows to cut into blocks (default: all)."""
        self.C, Hp, Wp, self.N = padded_shape
        self.kh, self.kw = kernel_shape
        self.stride = stride
        self.OH, self.OW = output_size(Hp, self.kh, stride, 0), output_size(Wp, self.kw, stride, 0)
        self.stack_rows = self.kh * self.kw * self.C
        self.row_values = self.OW * self.N                       # columns per output row
        first, last = rows if rows is not None else (0, self.OH)
        self.blocks = [(first + r0, first + r1) for r0, r1 in
                       row_blocks(last - first, self.stack_rows * self.row_values, whole)]

    def new_stack(self, xp, dtype):
        """(KH*KW*C, rows*OW*N) memory for the largest block."""
        rows = max(r1 - r0 for r0, r1 in self.blocks)
        return xp.empty((self.stack_rows, rows * self.row_values), dtype=dtype)

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
    memory, and the padded batch-inner input that backward needs. The output rows are cut in two
    parts (threads.batch_parts), side by side, each with its own stack; a block of output rows
    of the whole batch is one piece of y's memory, which its GEMM writes in place."""
    F = w.shape[0]
    padded = padded_batch_inner(xp, x, padding)
    C, Hp, Wp, N = padded.shape
    w2d = w.transpose(0, 2, 3, 1).reshape(F, -1)
    OH, OW = (output_size(side, k, stride, 0) for side, k in zip((Hp, Wp), w.shape[2:]))
    y = xp.empty((F, OH, OW, N), dtype=x.dtype)
    y_rows = y.reshape(F, OH * OW * N)               # output row r: columns r*OW*N ...

    def forward_rows(first, last):
        g = Geometry((C, Hp, Wp, N), w.shape[2:], stride, whole=xp is not np,
                     rows=(first, last))
        stack = g.new_stack(xp, x.dtype)
        for r0, r1 in g.blocks:
            for window, part in zip(g.windows(padded, r0, r1), g.parts(stack, r0, r1)):
                part[...] = window                                             # im2col
            xp.matmul(w2d, stack[:, :(r1 - r0) * g.row_values],
                      out=y_rows[:, r0 * g.row_values:r1 * g.row_values])
    threads.side_by_side(xp, forward_rows, threads.batch_parts(xp, OH))
    return y.transpose(3, 0, 1, 2), padded


def row_parts(xp, rows, kernel, stride):
    """The output rows in parts: ([two parts to run side by side], [the part to run after]).

    The two parts' windows read disjoint input rows, so their col2im never adds into the same
    memory; the rows between them, whose windows reach into both, run after them. The cut is
    always the same (not the number of cores), so dW, summed part by part in order, is the same
    on one core as on two. One part on a GPU, or where there are too few rows to cut."""
    between = max(0, (kernel - 1 - stride) // stride + 1)   # rows whose windows meet both
    if xp is not np or rows < 2 + between:
        return [(0, rows)], []
    middle = (rows - between) // 2
    return [(0, middle), (middle + between, rows)], \
        [(middle, middle + between)] if between else []


def backward(xp, dout, padded, w, stride, padding, input_grad=True):
    """dout: (N, F, OH, OW), any memory order -> (dW (F, C, KH, KW), dx (N, C, H, W) as a view
    of batch-inner memory, or None without input_grad). The output rows go in parts
    (`row_parts`), two side by side; each part sums its own dW, and the parts' sums are added
    in order."""
    F = w.shape[0]
    kh, kw = w.shape[2:]
    w2d = w.transpose(0, 2, 3, 1).reshape(F, -1)
    dy = xp.ascontiguousarray(dout.transpose(1, 2, 3, 0))                  # (F, OH, OW, N)
    dy_rows = dy.reshape(F, -1)                   # output row r: columns r*OW*N ...
    dpadded = xp.zeros_like(padded) if input_grad else None
    side_by_side, after = row_parts(xp, dy.shape[1], kh, stride)
    dw_of = {}

    def backward_rows(first, last):
        g = Geometry(padded.shape, (kh, kw), stride, whole=xp is not np, rows=(first, last))
        dw2d = dw_of[first] = xp.zeros((F, g.stack_rows), dtype=dout.dtype)
        dw_block = xp.empty_like(dw2d)
        stack = g.new_stack(xp, dout.dtype)
        for r0, r1 in g.blocks:
            dy_block = dy_rows[:, r0 * g.row_values:r1 * g.row_values]
            columns = stack[:, :dy_block.shape[1]]
            parts_of_stack = g.parts(stack, r0, r1)
            for window, part in zip(g.windows(padded, r0, r1), parts_of_stack):
                part[...] = window                                             # im2col
            xp.matmul(dy_block, columns.T, out=dw_block)
            dw2d += dw_block
            if input_grad:
                xp.matmul(w2d.T, dy_block, out=columns)                        # dcolumns
                for dwindow, part in zip(g.windows(dpadded, r0, r1), parts_of_stack):
                    dwindow += part                                            # col2im
    threads.side_by_side(xp, backward_rows, side_by_side)
    for first, last in after:
        backward_rows(first, last)
    parts = side_by_side + after
    dw2d = dw_of[parts[0][0]]
    for first, _ in parts[1:]:
        dw2d += dw_of[first]
    C = padded.shape[0]
    dw = xp.ascontiguousarray(dw2d.reshape(F, kh, kw, C).transpose(0, 3, 1, 2))
    return dw, unpadded(dpadded, padding) if input_grad else None

