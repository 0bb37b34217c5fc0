"""Flatten: (N, ...) -> (N, prod(...)), the bridge from convolutions to linear layers."""
from .. import backend
from .base import Layer, in_memory_order


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
