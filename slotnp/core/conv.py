"""2-D convolution (cross-correlation, as in every framework): one im2col of the whole batch and
one GEMM (im2col.py), and its backward, three small functions. Tests: the loop oracle
(tests/naive.py) and float64 gradient checks. Where the twins are on, a twin "conv2d" may take it.
"""
import numpy as np

from . import backend, twins
from .base import WeightedLayer, check_input, check_pair, check_int
from .im2col import col2im, im2col, output_size


def im2col_forward(xp, x, w, stride, padding):
    """x: (N, C, H, W), w: (F, C, KH, KW) -> (y (N, F, OH, OW), cols for backward).

    Every receptive field becomes a column of cols (C*KH*KW, N*OH*OW); then y is one GEMM,
    W2d (F, C*KH*KW) @ cols, reshaped (a view of its channel-major memory: no copy)."""
    F, _, kh, kw = w.shape
    N = x.shape[0]
    cols, (OH, OW) = im2col(xp, x, kh, kw, stride, padding)
    y = w.reshape(F, -1) @ cols                                          # (F, N*OH*OW)
    return y.reshape(F, N, OH, OW).transpose(1, 0, 2, 3), cols


def im2col_weight_grad(dout, cols, w_shape):
    """dW = dout2d @ cols^T: every output position's gradient times its receptive field."""
    F = w_shape[0]
    dout2d = dout.transpose(1, 0, 2, 3).reshape(F, -1)                   # (F, N*OH*OW)
    return (dout2d @ cols.T).reshape(w_shape)


def im2col_input_grad(xp, dout, w, x_shape, stride, padding):
    """dx = col2im(W2d^T @ dout2d): each column's gradient folded back onto its window."""
    F, _, kh, kw = w.shape
    dout2d = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    dcols = w.reshape(F, -1).T @ dout2d                                  # (C*KH*KW, N*OH*OW)
    return col2im(xp, dcols, x_shape, kh, kw, stride, padding)


class Conv2d(WeightedLayer):
    """x: (N, C, H, W) -> y: (N, F, OH, OW). Weight `params["W"]`: (F, C, KH, KW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False,
                 rng=None, dtype=np.float32, weight=None):
        super().__init__()
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self._set_weight(weight, rng, dtype)
        self._set_bias(bias, self.params["W"].dtype)

    def _set_geometry(self, in_channels, out_channels, kernel_size, stride, padding):
        self.in_channels = check_int(in_channels, "in_channels")
        self.out_channels = check_int(out_channels, "out_channels")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = check_int(stride, "stride")
        self.padding = check_int(padding, "padding", minimum=0)

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels) + self.kernel_size

    def dense_with(self, weight):
        """A plain Conv2d of this layer's geometry holding `weight` (F, C, KH, KW), and a copy
        of this layer's bias where it has one."""
        return self._with_own_bias(Conv2d(self.in_channels, self.out_channels,
                                              self.kernel_size, self.stride, self.padding,
                                              weight=weight))

    def forward(self, x, train=True):
        check_input(self, x, 4, "(N, C, H, W)", self.in_channels)
        kh, kw = self.kernel_size
        H, W = x.shape[2:]
        if output_size(H, kh, self.stride, self.padding) < 1 or \
                output_size(W, kw, self.stride, self.padding) < 1:
            raise ValueError(f"{self!r}: input {H}x{W} is smaller than the {kh}x{kw} kernel "
                             f"with padding {self.padding}; use larger images or more padding")
        w = self._forward_weight(train)
        twin = twins.find("conv2d")
        done = twin.forward(self, x, w, train) if twin is not None else None
        if done is None:                                       # the plain way
            twin, done = None, im2col_forward(backend.xp_of(x), x, w, self.stride, self.padding)
        y, kept = done                                         # kept: cols, or the twin's cache
        self.cache = (twin, x.shape, kept, w)
        if "b" in self.params:
            y += self.params["b"].reshape(1, -1, 1, 1)
        return y

    def backward(self, dout, input_grad=True):
        """dout: (N, F, OH, OW) -> dx: (N, C, H, W), or None with input_grad=False."""
        twin, x_shape, kept, w = self.cache
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=(0, 2, 3))
        if twin is not None:
            dw, dx = twin.backward(self, dout, kept, w, input_grad)
        else:
            dw = im2col_weight_grad(dout, kept, w.shape)
            dx = im2col_input_grad(backend.xp_of(dout), dout, w, x_shape, self.stride,
                                   self.padding) if input_grad else None
        self._store_weight_grad(dw)
        return dx

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding}"
                f"{self._bias_repr()})")
