"""A stride-1 convolution as a sum over kernel taps of shifted GEMMs, with no full im2col.

Lay the input out channel-major and flat, every image row followed by p zeros and every image
by p zero rows (p = padding), after a leading margin of zeros: row stride Ws = W + p, image
stride (H + p) * Ws. One gap of p zeros pads both the end of a row and the start of the next,
so the layout is the zero-padded input with neighbours sharing their padding. Moving a window by
(di, dj) = (i - p, j - p) is then a shift of the flat index by di*Ws + dj, and for every kernel
tap (i, j) the product W[:, :, i, j] @ x_flat[:, shifted] adds into the output:

    y_grid[f, q] = sum_ij  W[f, :, i, j] @ x_flat[:, margin + q + (i - p)*Ws + (j - p)]

y_grid has one column per position q of the layout; those inside an image (oh < OH, ow < OW)
are the convolution, the rest (windows over a gap) are cropped away. The extra work is
(H + p)(W + p) / (OH * OW): 6% at 32x32, 13% at 16x16, 27% at 8x8 for a 3x3 kernel with
padding 1. In exchange nothing of size KH*KW*C x N*OH*OW is ever written (im2col's columns:
300 MB for CONV-2's second layer): `sum_of_shifted_products` stacks the shifted slices only
for a cache-sized block of columns at a time. Backward reads the same shifts the other way:
    dW[:, :, i, j] = dy_grid @ x_flat[:, margin + shifted].T
    dx_grid[:, q]  = sum_ij W[:, :, i, j].T @ dy_grid[:, q - shift_ij]

`Conv2d` takes this path where `pays_off` says so and im2col (im2col.py) otherwise; tests
compare the two.
"""
from .. import backend
from .im2col import output_size

MIN_CHANNELS = 16         # below this the per-tap GEMMs (inner size C) are too thin
MAX_GRID_OVERHEAD = 1.15  # layout positions per real output
STACK_VALUES = 9 * 64 * 2048  # values in one block's stack of shifted copies (4.5 MB in float32)


def pays_off(C, H, W, kh, kw, stride, padding):
    """Whether this path applies and beats im2col, by the rule measured on a 2-core CPU:
    stride 1, outputs that fit an image's slot of the layout (kernel > padding), at least
    MIN_CHANNELS input channels (CONV-2's first layer, C=3, ran 5x slower), and a layout
    overhead of at most MAX_GRID_OVERHEAD (16x16 images and larger, for 3x3 kernels)."""
    if stride != 1 or C < MIN_CHANNELS or min(kh, kw) <= padding:
        return False
    OH, OW = output_size(H, kh, 1, padding), output_size(W, kw, 1, padding)
    return (H + padding) * (W + padding) <= MAX_GRID_OVERHEAD * OH * OW


def layout(xp, images, slot, front, back):
    """images: (C, N, h, w) -> flat (C, front + N*rows*cols + back), zeros except image n at the
    top left of its slot (rows, cols) = `slot`, the slots one after another; and the middle
    part, (C, N*rows*cols)."""
    C, N, h, w = images.shape
    rows, cols = slot
    flat = xp.zeros((C, front + N * rows * cols + back), dtype=images.dtype)
    middle = flat[:, front:front + N * rows * cols]
    middle.reshape(C, N, rows, cols)[:, :, :h, :w] = images
    return flat, middle


def shifts(kh, kw, p, Ws):
    """The flat shift of every kernel tap (i, j): ((i, j), (i - p)*Ws + (j - p))."""
    return [((i, j), (i - p) * Ws + (j - p)) for i in range(kh) for j in range(kw)]


def sum_of_shifted_products(matrices, source, starts, out):
    """out[:, q] = sum_t matrices[t] @ source[:, q + starts[t]] for every column q of `out`.

    One block of columns at a time, the T shifted slices of `source` are copied one under
    another into a stack small enough to stay in cache, and one GEMM with the matrices side by
    side, (M, T*R) @ (T*R, block), sums all T products inside BLAS. (One GEMM per shift plus
    T - 1 additions of partial sums measured 12-25% slower.)
    """
    xp = backend.xp_of(source)
    rows = source.shape[0]
    side_by_side = xp.concatenate(matrices, axis=1)                  # (M, T*rows)
    block = max(1, min(STACK_VALUES // (len(matrices) * rows), out.shape[1]))
    stack = xp.empty((len(matrices) * rows, block), dtype=source.dtype)
    for s in range(0, out.shape[1], block):
        e = min(s + block, out.shape[1])
        for t, start in enumerate(starts):
            stack[t * rows:(t + 1) * rows, :e - s] = source[:, s + start:e + start]
        xp.matmul(side_by_side, stack[:, :e - s], out=out[:, s:e])


def forward(xp, x, w, p):
    """x: (N, C, H, W), w: (F, C, KH, KW), padding p -> y: (N, F, OH, OW), a view of
    channel-major memory, and x_flat, the laid-out input that backward needs."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Ws = W + p
    taps = shifts(kh, kw, p, Ws)
    margin = p * Ws + p                                      # room for the most negative shift
    x_flat, _ = layout(xp, x.transpose(1, 0, 2, 3), (H + p, Ws), margin, taps[-1][1])
    y_grid = xp.empty((F, N * (H + p) * Ws), dtype=x.dtype)
    sum_of_shifted_products([w[:, :, i, j] for (i, j), _ in taps], x_flat,
                            [margin + shift for _, shift in taps], y_grid)
    OH, OW = output_size(H, kh, 1, p), output_size(W, kw, 1, p)
    y = y_grid.reshape(F, N, H + p, Ws)[:, :, :OH, :OW]
    return y.transpose(1, 0, 2, 3), x_flat


def backward(xp, dout, x_flat, x_shape, w, p):
    """dout: (N, F, OH, OW) -> (dW (F, C, KH, KW), dx (N, C, H, W) as a channel-major view)."""
    N, C, H, W = x_shape
    F, _, kh, kw = w.shape
    Ws = W + p
    taps = shifts(kh, kw, p, Ws)
    margin, largest = p * Ws + p, taps[-1][1]
    # dy in the same layout, zero off the outputs; dx gathers from q - shift, so dy gets a
    # margin of `largest` in front and `margin` behind.
    dy_flat, dy = layout(xp, dout.transpose(1, 0, 2, 3), (H + p, Ws), largest, margin)
    dw = xp.empty_like(w)
    for (i, j), shift in taps:
        # dW[:, :, i, j] = dy @ x_shifted.T, in the orientation BLAS runs fast (see Conv2d)
        start = margin + shift
        dw[:, :, i, j] = (x_flat[:, start:start + dy.shape[1]] @ dy.T).T
    dx_grid = xp.empty((C, N * (H + p) * Ws), dtype=dout.dtype)
    sum_of_shifted_products([w[:, :, i, j].T for (i, j), _ in taps], dy_flat,
                            [largest - shift for _, shift in taps], dx_grid)
    dx = dx_grid.reshape(C, N, H + p, Ws)[:, :, :H, :W]
    return dw, dx.transpose(1, 0, 2, 3)
