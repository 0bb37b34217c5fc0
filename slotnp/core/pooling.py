"""2-D max and average pooling over KH x KW windows with a stride (default: KH, the window's side).

Both loop over the window taps only: tap (i, j) of every window is one strided slice of x.
Outputs are floor-sized, so rows or columns that do not fill a window are ignored.
"""
from . import backend, twins
from .base import (Layer, check_input, check_pair, check_int,
                   raise_backward_after_evaluation)
from .im2col import output_size


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = check_pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size[0] if stride is None else \
            check_int(stride, "stride")

    def _geometry(self, x):
        check_input(self, x, 4, "(N, C, H, W)")
        self.x_shape, self.x_strides = x.shape, x.strides
        (kh, kw), s = self.kernel_size, self.stride
        OH, OW = output_size(x.shape[2], kh, s, 0), output_size(x.shape[3], kw, s, 0)
        if OH < 1 or OW < 1:
            raise ValueError(f"{self!r}: input {x.shape[2]}x{x.shape[3]} is smaller than the "
                             f"{kh}x{kw} window")
        return OH, OW

    def _taps(self, OH, OW):
        """The slice of x that holds tap (i, j) of every window, for each tap in order."""
        (kh, kw), s = self.kernel_size, self.stride
        for i in range(kh):
            for j in range(kw):
                yield (slice(None), slice(None), slice(i, i + s * OH, s), slice(j, j + s * OW, s))

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """x: (N, C, H, W) -> y: (N, C, OH, OW), the max of each window.

    Backward sends each gradient to the first maximum of its window (as other frameworks do).
    """

    def forward(self, x, train=True):
        OH, OW = self._geometry(x)
        twin = twins.find("maxpool")               # (the same values, on every core)
        y = twin.forward(self, x, train) if twin is not None else None
        if y is not None:
            return y
        taps = backend.xp_of(x).stack([x[tap] for tap in self._taps(OH, OW)])
        self.argmax = taps.argmax(axis=0) if train else None   # (N, C, OH, OW): which tap
        return taps.max(axis=0)

    def backward(self, dout):
        if getattr(self, "argmax", None) is None:
            raise_backward_after_evaluation(self)
        twin = twins.find("maxpool")
        dx = twin.backward(self, dout) if twin is not None else None
        if dx is not None:
            return dx
        dx = backend.xp_of(dout).zeros(self.x_shape, dout.dtype)
        for t, tap in enumerate(self._taps(*dout.shape[2:])):
            dx[tap] += dout * (self.argmax == t)
        return dx


class AvgPool2d(_Pool2d):
    """x: (N, C, H, W) -> y: (N, C, OH, OW), the mean of each window."""

    def forward(self, x, train=True):
        OH, OW = self._geometry(x)
        xp = backend.xp_of(x)
        y = xp.zeros(x.shape[:2] + (OH, OW), x.dtype)
        for tap in self._taps(OH, OW):
            y += x[tap]
        return y * x.dtype.type(1.0 / (self.kernel_size[0] * self.kernel_size[1]))

    def backward(self, dout):
        dx = backend.xp_of(dout).zeros(self.x_shape, dout.dtype)
        share = dout * dout.dtype.type(1.0 / (self.kernel_size[0] * self.kernel_size[1]))
        for tap in self._taps(*dout.shape[2:]):
            dx[tap] += share
        return dx
