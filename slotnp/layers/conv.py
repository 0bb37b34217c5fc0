"""2-D convolution (cross-correlation, as in every framework).

The plain path comes first: one im2col of the whole batch and one GEMM (im2col.py), and its
backward, three small functions. Conv2d then picks one of three paths (`Conv2d.path`):
- "im2col": the plain path below, which the tests compare the others against;
- "batch_inner": im2col and GEMM on batch-innermost memory, one cache-sized block of output
  rows at a time (batch_inner.py);
- "winograd": Winograd's F(4x4, 3x3) on batch-innermost memory (winograd.py) for 3x3 stride-1
  layers with 64 or more input channels and output sides that 4 divides, and batch_inner for
  every other layer;
- "auto" (the default): "winograd" on the CPU, where its cache-sized blocks win, and "im2col"
  on a GPU, where one im2col and one GEMM per layer are few, large operations (bench/
  op_count.py counts them).
tests/test_layers.py checks each against the loop oracle (tests/naive.py) and by float64
gradient checks, and the fast ones against the plain one.
"""
import numpy as np

from .. import backend, init
from .base import WeightedLayer, check_input, check_pair, check_positive_int
from . import batch_inner, winograd
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
    """x: (N, C, H, W) -> y: (N, F, OH, OW). Weight `params["W"]`: (F, C, KH, KW).

    `path` picks the implementation (the module docstring): "auto" (the default), "winograd",
    "batch_inner" or "im2col" (plain). All give the same values and gradients up to rounding,
    in different memory orders of the same (N, F, OH, OW) shape.
    """
    PATHS = ("im2col", "batch_inner", "winograd", "auto")
    path = "auto"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False,
                 rng=None, dtype=np.float32):
        super().__init__()
        self._set_geometry(in_channels, out_channels, kernel_size, stride, padding)
        self.params["W"] = backend.to_device(init.learned_weight(rng, self.weight_shape, dtype))
        if bias:
            self.params["b"] = backend.to_device(np.zeros(self.out_channels, dtype))

    def _set_geometry(self, in_channels, out_channels, kernel_size, stride, padding):
        self.in_channels = check_positive_int(in_channels, "in_channels")
        self.out_channels = check_positive_int(out_channels, "out_channels")
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = check_positive_int(stride, "stride")
        if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
            raise ValueError(f"padding must be an int >= 0, got {padding!r}")
        self.padding = int(padding)

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels) + self.kernel_size

    def forward(self, x, train=True):
        check_input(self, x, 4, "(N, C, H, W)", self.in_channels)
        kh, kw = self.kernel_size
        H, W = x.shape[2:]
        OH, OW = output_size(H, kh, self.stride, self.padding), \
            output_size(W, kw, self.stride, self.padding)
        if OH < 1 or OW < 1:
            raise ValueError(f"{self!r}: input {H}x{W} is smaller than the {kh}x{kw} kernel "
                             f"with padding {self.padding}; use larger images or more padding")
        xp = backend.xp_of(x)
        w = self._forward_weight(train)
        if self.path not in self.PATHS:
            raise ValueError(f"{self!r}: path must be one of {self.PATHS}, got {self.path!r}")
        path = self.path if self.path != "auto" else "winograd" if xp is np else "im2col"
        use_winograd = path == "winograd" and winograd.applies(
            self.kernel_size, self.stride, self.in_channels, OH, OW)
        if path == "im2col":                                         # the plain path
            y, cols = im2col_forward(xp, x, w, self.stride, self.padding)
            self.cache = ("im2col", x.shape, cols, w)
        elif use_winograd:
            y, kept = winograd.forward(xp, x, w, self.padding, keep=train)
            self.cache = ("winograd", x.shape, kept, w)
        else:
            y, padded = batch_inner.forward(xp, x, w, self.stride, self.padding)
            self.cache = ("batch_inner", x.shape, padded, w)
        if "b" in self.params:
            y += self.params["b"].reshape(1, -1, 1, 1)
        return y

    def backward(self, dout):
        path, x_shape, x_data, w = self.cache
        xp = backend.xp_of(dout)
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=(0, 2, 3))
        if path == "im2col":                                         # the plain path
            dw = im2col_weight_grad(dout, x_data, w.shape)
            dx = im2col_input_grad(xp, dout, w, x_shape, self.stride, self.padding)
        elif path == "winograd":
            dw, dx = winograd.backward(xp, dout, x_data, w, self.padding)
        else:
            dw, dx = batch_inner.backward(xp, dout, x_data, w, self.stride, self.padding)
        self._store_weight_grad(dw)
        return dx

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding})")
