"""A stride-1 convolution as one small GEMM per kernel tap, with no im2col.

Pad the input, keep it channel-major and flatten each channel: x_flat (C, N*Hp*Wp). Moving
a window by i rows and j columns is then a shift of the flat index by i*Wp + j, so for every
kernel tap (i, j) one GEMM adds W[:, :, i, j] @ x_flat[:, shifted] into the output:

    y_grid[f, q] = sum_ij  W[f, :, i, j] @ x_flat[:, q + i*Wp + j]

y_grid holds an output for every position q of the padded grid; those with oh < OH and
ow < OW are the convolution, the rest (windows running over a row's end) are cropped away.
The extra work is (Hp*Wp)/(OH*OW), 13% at 32x32 with padding 1. In exchange nothing of size
KH*KW*C x N*OH*OW is ever written (im2col's columns: 300 MB for CONV-2's second layer).
Backward is the same shifts read the other way: dW[:, :, i, j] = dy_grid @ x_flat[:, shifted].T
and dx_flat[:, q] = sum_ij W[:, :, i, j].T @ dy_grid[:, q - i*Wp - j].

`Conv2d` takes this path where `pays_off` says so and im2col (im2col.py) otherwise; tests
compare the two.
"""
from .im2col import channel_major_padded, output_size

MIN_CHANNELS = 16        # below this the per-tap GEMMs (inner size C) are too thin
MAX_GRID_OVERHEAD = 1.2  # padded-grid outputs per real output


def pays_off(C, H, W, kh, kw, stride, padding):
    """Whether this path beats im2col, by the rule measured on a 2-core CPU: stride 1, at least
    MIN_CHANNELS input channels (CONV-2's first layer, C=3, ran 5x slower), and at most 20%
    cropped grid positions (32x32 images qualify; at 16x16, 27% extra made it slower)."""
    if stride != 1 or C < MIN_CHANNELS:
        return False
    OH, OW = output_size(H, kh, 1, padding), output_size(W, kw, 1, padding)
    return (H + 2 * padding) * (W + 2 * padding) <= MAX_GRID_OVERHEAD * OH * OW


BLOCK = 8192  # output columns per pass: a block of partial sums stays in cache (~20% faster)


def taps(kh, kw, Wp):
    """((i, j), flat shift) for every kernel tap."""
    return [((i, j), i * Wp + j) for i in range(kh) for j in range(kw)]


def sum_of_shifted_products(matrices, source, starts, out):
    """out[:, q] = sum_t matrices[t] @ source[:, q + starts[t]] for every column q of `out`,
    one block of columns at a time, so each block is summed in cache and written once."""
    for s in range(0, out.shape[1], BLOCK):
        e = min(s + BLOCK, out.shape[1])
        block = out[:, s:e]
        for t, (matrix, start) in enumerate(zip(matrices, starts)):
            product = matrix @ source[:, s + start:e + start]
            if t == 0:
                block[...] = product
            else:
                block += product


def forward(xp, x, w, padding):
    """x: (N, C, H, W), w: (F, C, KH, KW) -> y: (N, F, OH, OW), a view of channel-major memory,
    and x_flat (C, N*Hp*Wp), the padded input that backward needs."""
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    x_flat = channel_major_padded(xp, x, padding).reshape(C, N * Hp * Wp)
    L = N * Hp * Wp - ((kh - 1) * Wp + (kw - 1))  # grid positions whose windows stay in x_flat
    y_grid = xp.empty((F, N * Hp * Wp), dtype=x.dtype)
    tap_list = taps(kh, kw, Wp)
    sum_of_shifted_products([w[:, :, i, j] for (i, j), _ in tap_list], x_flat,
                            [shift for _, shift in tap_list], y_grid[:, :L])
    y = y_grid.reshape(F, N, Hp, Wp)[:, :, :Hp - kh + 1, :Wp - kw + 1]
    return y.transpose(1, 0, 2, 3), x_flat


def backward(xp, dout, x_flat, x_shape, w, padding):
    """dout: (N, F, OH, OW) -> (dW (F, C, KH, KW), dx (N, C, H, W) as a channel-major view)."""
    N, C, H, W = x_shape
    F, _, kh, kw = w.shape
    Hp, Wp = H + 2 * padding, W + 2 * padding
    OH, OW = dout.shape[2:]
    M = (kh - 1) * Wp + (kw - 1)                     # the largest shift
    L = N * Hp * Wp - M
    # dy on the padded grid, zero where y_grid was cropped, after M zeros: dx gathers from
    # q - shift, which must stay inside the array.
    dy_shifted = xp.zeros((F, M + N * Hp * Wp), dtype=dout.dtype)
    dy_grid = dy_shifted[:, M:]
    dy_grid.reshape(F, N, Hp, Wp)[:, :, :OH, :OW] = dout.transpose(1, 0, 2, 3)
    tap_list = taps(kh, kw, Wp)
    dw = xp.empty_like(w)
    for (i, j), shift in tap_list:
        # dW[:, :, i, j] = dy @ x_shifted.T, in the orientation BLAS runs fast (see Conv2d)
        dw[:, :, i, j] = (x_flat[:, shift:shift + L] @ dy_grid[:, :L].T).T
    # dx_flat[:, q] = sum over taps of W[:, :, i, j].T @ dy_grid[:, q - shift]
    dx_flat = xp.empty((C, N * Hp * Wp), dtype=dout.dtype)
    sum_of_shifted_products([w[:, :, i, j].T for (i, j), _ in tap_list], dy_shifted,
                            [M - shift for _, shift in tap_list], dx_flat)
    dx = dx_flat.reshape(C, N, Hp, Wp)[:, :, padding:padding + H, padding:padding + W]
    return dw, dx.transpose(1, 0, 2, 3)
