"""Unfolding image windows into columns (im2col) and folding them back (col2im).

A convolution becomes one matrix product once every receptive field is a column:
cols[(c, i, j), (n, oh, ow)] = x_padded[n, c, oh*stride + i, ow*stride + j].
Both directions loop over the KH*KW kernel taps only (9 for a 3x3 kernel); each tap moves a
whole strided slice at once, so there is no loop over pixels and no scatter-add (col2im sums
overlapping windows tap by tap, which is deterministic on the GPU too).
"""


def output_size(size, kernel, stride, padding):
    """Number of window positions along one axis (floor, as in every framework)."""
    return (size + 2 * padding - kernel) // stride + 1


def pad(xp, x, padding):
    """Zero-pad the two spatial axes of x: (N, C, H, W)."""
    if padding == 0:
        return x
    return xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def im2col(xp, x, kh, kw, stride, padding):
    """x: (N, C, H, W) -> cols: (C*KH*KW, N*OH*OW), plus (OH, OW)."""
    N, C, H, W = x.shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    xp_ = pad(xp, x, padding)
    cols = xp.empty((C, kh, kw, N, OH, OW), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = xp_[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride]
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * kh * kw, N * OH * OW), (OH, OW)


def col2im(xp, cols, x_shape, kh, kw, stride, padding):
    """The adjoint of im2col: cols: (C*KH*KW, N*OH*OW) -> dx: (N, C, H, W), overlaps summed."""
    N, C, H, W = x_shape
    OH, OW = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    cols = cols.reshape(C, kh, kw, N, OH, OW)
    dx = xp.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + stride * OH:stride, j:j + stride * OW:stride] += \
                cols[:, i, j].transpose(1, 0, 2, 3)
    if padding == 0:
        return dx
    return xp.ascontiguousarray(dx[:, :, padding:H + padding, padding:W + padding])
