"""Unfolding image windows into columns (im2col) and folding them back (col2im).

A convolution becomes one matrix product once every receptive field is a column:
cols[(c, i, j), (n, oh, ow)] = x_padded[n, c, oh*stride + i, ow*stride + j].
Both directions loop over the KH*KW kernel taps only (9 for a 3x3 kernel); each tap moves a
whole strided slice at once, so there is no loop over pixels and no scatter-add (col2im sums
overlapping windows tap by tap, which is deterministic on the GPU too).

Both work channel-major, on (C, N, H, W) memory, since the columns are ordered (c, ...) x (n, ...).
"""


def output_size(size, kernel, stride, padding):
    """Number of window positions along one axis (floor, as in every framework)."""
    return (size + 2 * padding - kernel) // stride + 1


def channel_major_padded(xp, x, padding):
    """x: (N, C, H, W) -> (C, N, H + 2p, W + 2p), zero-padded (a free view when p = 0 and x is
    already channel-major in memory)."""
    x_cn = x.transpose(1, 0, 2, 3)
    if padding == 0:
        return x_cn
    C, N, H, W = x_cn.shape
    padded = xp.zeros((C, N, H + 2 * padding, W + 2 * padding), dtype=x.dtype)
    padded[:, :, padding:H + padding, padding:W + padding] = x_cn
    return padded


def im2col(xp, x, kh, kw, stride, padding):
    """x: (N, C, H, W) -> cols: (C*KH*KW, N*OH*OW), plus (OH, OW)."""
    N, C, H, W = x.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    x_cn = channel_major_padded(xp, x, padding)
    cols = xp.empty((C, kh, kw, N, OH, OW), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, i, j] = x_cn[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
    return cols.reshape(C * kh * kw, N * OH * OW), (OH, OW)


def col2im(xp, cols, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: cols: (C*KH*KW, N*OH*OW) -> dx: (N, C, H, W), overlaps summed.

    dx is returned as a view of channel-major memory (see the module docstring)."""
    N, C, H, W = x_shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    cols = cols.reshape(C, kh, kw, N, OH, OW)
    dx = xp.zeros((C, N, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += cols[:, i, j]
    return dx[:, :, padding:H + padding, padding:W + padding].transpose(1, 0, 2, 3)
