"""The fast twin of core/conv.py's Conv2d on the CPU: Winograd, or im2col on batch-innermost
memory, on both cores (Winograd: a half of the batch each; im2col: a part of the output rows
each).

Which path a layer takes (`path`, set for a scope with `using`):
- "winograd": Winograd's F(4x4, 3x3) (winograd.py) for 3x3 stride-1 layers with 64 or more
  input channels, output sides that 4 divides and enough tiles in a batch (`winograd.applies`),
  and batch_inner for every other layer;
- "batch_inner": im2col and GEMM on batch-innermost memory, one cache-sized block of output
  rows at a time (batch_inner.py), for every layer;
- "auto" (the default): "winograd" on the CPU; on a GPU the plain path, whose one im2col and
  one GEMM per layer are few, large operations (bench/op_count.py counts them).
tests/fast/test_convolution.py checks each against the plain path and the loop oracle, and by
float64 gradient checks.
"""
import contextlib
import sys

import numpy as np

from ..core import backend, twins
from ..core.im2col import output_size
from . import batch_inner, winograd

PATHS = ("auto", "winograd", "batch_inner")
path = "auto"


@contextlib.contextmanager
def using(chosen):
    """Within it, the twin takes `chosen` (one of PATHS)."""
    global path
    if chosen not in PATHS:
        raise ValueError(f"convolution path must be one of {PATHS}, got {chosen!r}")
    before, path = path, chosen
    try:
        yield
    finally:
        path = before


def forward(layer, x, w, train):
    """(y, what backward needs), or None where the plain path should run (on a GPU)."""
    xp = backend.xp_of(x)
    if path == "auto" and xp is not np:
        return None
    OH, OW = (output_size(side, k, layer.stride, layer.padding)
              for side, k in zip(x.shape[2:], layer.kernel_size))
    if path != "batch_inner" and winograd.applies(layer.kernel_size, layer.stride,
                                                  layer.in_channels, OH, OW, len(x)):
        y, kept = winograd.forward(xp, x, w, layer.padding, keep=train)
        return y, (winograd, kept)
    y, padded = batch_inner.forward(xp, x, w, layer.stride, layer.padding)
    return y, (batch_inner, padded)


def backward(layer, dout, cache, w, input_grad=True):
    """(dW, dx) from forward's cache; dx is None without input_grad."""
    module, kept = cache
    xp = backend.xp_of(dout)
    if module is winograd:
        return winograd.backward(xp, dout, kept, w, layer.padding, input_grad)
    return batch_inner.backward(xp, dout, kept, w, layer.stride, layer.padding, input_grad)


twins.register("conv2d", sys.modules[__name__])
