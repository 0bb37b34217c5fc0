"""Flatten: (N, ...) -> (N, prod(...)), the bridge from convolutions to linear layers."""
from . import twins
from .base import Layer


class Flatten(Layer):
    def forward(self, x, train=True):
        if getattr(x, "ndim", 0) < 2:
            raise ValueError(f"Flatten expects input of shape (N, ...), got {getattr(x, 'shape', x)}")
        self.x_shape, self.x_strides = x.shape, x.strides
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        """dx: dout reshaped to the input's shape."""
        twin = twins.find("flatten")               # (dx in the input's memory order)
        dx = twin.backward(self, dout) if twin is not None else None
        return dx if dx is not None else dout.reshape(self.x_shape)
