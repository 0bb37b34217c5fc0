"""Flatten: (N, ...) -> (N, prod(...)), the bridge from convolutions to linear layers; and
`in_memory_order`, which makes a gradient in the memory order of its activation."""
from . import backend
from .base import Layer


def in_memory_order(make, shape, strides, dtype):
    """make(...) of `shape` with its axes laid out in memory in the order that `strides` has
    them, largest outermost: a gradient made this way matches its activation's memory order
    (batch innermost between a fast twin's convolutions, fast/batch_inner.py), so elementwise
    work on the two runs along contiguous memory."""
    order = sorted(range(len(shape)), key=lambda axis: -strides[axis])
    memory = make(tuple(shape[axis] for axis in order), dtype=dtype)
    return memory.transpose([order.index(axis) for axis in range(len(shape))])


class Flatten(Layer):
    def forward(self, x, train=True):
        if getattr(x, "ndim", 0) < 2:
            raise ValueError(f"Flatten expects input of shape (N, ...), got {getattr(x, 'shape', x)}")
        self.x_shape, self.x_strides = x.shape, x.strides
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        """dx: dout reshaped to the input's shape, copied into the input's memory order."""
        dx = in_memory_order(backend.xp_of(dout).empty, self.x_shape, self.x_strides, dout.dtype)
        dx[...] = dout.reshape(self.x_shape)
        return dx
