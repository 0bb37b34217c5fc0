"""Batch normalisation without learned scale or shift (PyTorch's BatchNorm2d(affine=False)), the
layer the authors' VGG-19 puts after every convolution. Per channel c, over the batch and the
pixels (M = N*H*W values):

    training:    mu = mean(x[:, c]),  var = mean((x[:, c] - mu)^2),  y = (x - mu) / sqrt(var + eps)
    evaluation:  y = (x - running_mean) / sqrt(running_var + eps)
    backward:    dL/dx = (g - mean(g) - y * mean(g * y)) / sqrt(var + eps),  g = dL/dy

Each training forward moves the running averages towards the batch's statistics, running <-
(1 - momentum) running + momentum batch (the variance unbiased, times M / (M - 1), as PyTorch
does). They are not trained: they live in `buffers`, which checkpoints save. Tests: gradient
checks, the loop oracle tests/naive.py.
"""
import numpy as np

from . import backend
from .base import Layer, check_input, check_int, raise_backward_after_evaluation

AXES = (0, 2, 3)   # the batch and the pixels: the statistics are per channel


class BatchNorm2d(Layer):
    """x: (N, C, H, W) -> y: (N, C, H, W), each channel normalised (the module docstring)."""

    def __init__(self, channels, eps=1e-5, momentum=0.1, dtype=np.float32):
        super().__init__()
        self.channels = check_int(channels, "channels")
        if not 0.0 < momentum <= 1.0 or not eps > 0:
            raise ValueError(f"BatchNorm2d needs 0 < momentum <= 1 and eps > 0, got "
                             f"momentum={momentum!r}, eps={eps!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.buffers = {"running_mean": backend.to_device(np.zeros(channels, dtype)),
                        "running_var": backend.to_device(np.ones(channels, dtype))}

    def forward(self, x, train=True):
        check_input(self, x, 4, "(N, C, H, W)", self.channels)
        if not train:
            self.cache = None
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            return (x - mean.reshape(1, -1, 1, 1)) / backend.xp_of(x).sqrt(
                var.reshape(1, -1, 1, 1) + x.dtype.type(self.eps))
        xp = backend.xp_of(x)
        mean = x.mean(axis=AXES, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=AXES, keepdims=True)
        inverse_std = 1 / xp.sqrt(var + x.dtype.type(self.eps))
        y = centred * inverse_std
        self.cache = (y, inverse_std)
        count = x.size // self.channels
        keep, move = x.dtype.type(1 - self.momentum), x.dtype.type(self.momentum)
        unbiased = x.dtype.type(count / max(1, count - 1))
        for name, batch in (("running_mean", mean), ("running_var", var * unbiased)):
            self.buffers[name] *= keep
            self.buffers[name] += move * batch.reshape(-1)
        return y

    def backward(self, dout):
        if getattr(self, "cache", None) is None:
            raise_backward_after_evaluation(self)
        y, inverse_std = self.cache
        mean_g = dout.mean(axis=AXES, keepdims=True)
        mean_gy = (dout * y).mean(axis=AXES, keepdims=True)
        return (dout - mean_g - y * mean_gy) * inverse_std

    def __repr__(self):
        return f"BatchNorm2d({self.channels}, affine=False)"
