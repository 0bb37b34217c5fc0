"""2-D convolution (cross-correlation, as in every framework) in one of three ways:
- Winograd's F(4x4, 3x3) on batch-innermost memory (winograd.py), the fastest, for 3x3 stride-1
  layers with 64 or more input channels and output sides that 4 divides;
- im2col and GEMM on batch-innermost memory, one cache-sized block of output rows at a time
  (batch_inner.py), the fast path for every other layer;
- one im2col of the whole batch and one GEMM (im2col.py), the plain path that the tests compare
  the other two against."""
import numpy as np

from .. import backend, init
from .base import WeightedLayer, check_input, check_pair, check_positive_int
from . import batch_inner, winograd
from .im2col import col2im, im2col, output_size


class Conv2d(WeightedLayer):
    """x: (N, C, H, W) -> y: (N, F, OH, OW). Weight `params["W"]`: (F, C, KH, KW).

    `path` picks the implementation: "winograd" (the default: Winograd where it applies,
    batch_inner elsewhere), "batch_inner" or "im2col" (plain). All give the same values and
    gradients up to rounding, in different memory orders of the same (N, F, OH, OW) shape.
    """
    PATHS = ("winograd", "batch_inner", "im2col")
    path = "winograd"

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
        N, _, H, W = x.shape
        OH, OW = output_size(H, kh, self.stride, self.padding), \
            output_size(W, kw, self.stride, self.padding)
        if OH < 1 or OW < 1:
            raise ValueError(f"{self!r}: input {H}x{W} is smaller than the {kh}x{kw} kernel "
                             f"with padding {self.padding}; use larger images or more padding")
        xp = backend.xp_of(x)
        w = self._forward_weight(train)
        if self.path not in self.PATHS:
            raise ValueError(f"{self!r}: path must be one of {self.PATHS}, got {self.path!r}")
        use_winograd = self.path == "winograd" and winograd.applies(
            self.kernel_size, self.stride, self.in_channels, OH, OW)
        if use_winograd:
            y, padded = winograd.forward(xp, x, w, self.padding)
            self.cache = ("winograd", x.shape, padded, w)
        elif self.path in ("winograd", "batch_inner"):
            y, padded = batch_inner.forward(xp, x, w, self.stride, self.padding)
            self.cache = ("batch_inner", x.shape, padded, w)
        else:
            cols, _ = im2col(xp, x, kh, kw, self.stride, self.padding)
            y = w.reshape(self.out_channels, -1) @ cols                     # (F, N*OH*OW)
            # (N, F, OH, OW) as a view of the channel-major result: no copy (see im2col.py).
            y = y.reshape(self.out_channels, N, OH, OW).transpose(1, 0, 2, 3)
            self.cache = ("im2col", x.shape, cols, w)
        if "b" in self.params:
            y += self.params["b"].reshape(1, -1, 1, 1)
        return y

    def backward(self, dout):
        path, x_shape, x_data, w = self.cache
        xp = backend.xp_of(dout)
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=(0, 2, 3))
        if path == "winograd":
            dw, dx = winograd.backward(xp, dout, x_data, w, self.padding)
        elif path == "batch_inner":
            dw, dx = batch_inner.backward(xp, dout, x_data, w, self.stride, self.padding)
        else:
            cols = x_data
            dout2d = dout.transpose(1, 0, 2, 3).reshape(self.out_channels, -1)  # (F, N*OH*OW)
            # dW = dout2d @ cols.T, computed as (cols @ dout2d.T).T: the same product, but BLAS
            # runs this orientation 20x faster when N*OH*OW is long (measured with OpenBLAS).
            dw = (cols @ dout2d.T).T.reshape(w.shape)
            dcols = w.reshape(self.out_channels, -1).T @ dout2d             # (C*KH*KW, N*OH*OW)
            kh, kw = self.kernel_size
            dx = col2im(xp, dcols, x_shape, kh, kw, self.stride, self.padding)
        self._store_weight_grad(dw)
        return dx

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size=({kh}, {kw}), stride={self.stride}, padding={self.padding})")
