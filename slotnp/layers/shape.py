"""Flatten: (N, ...) -> (N, prod(...)), the bridge from convolutions to linear layers."""
from .base import Layer


class Flatten(Layer):
    def forward(self, x, train=True):
        if getattr(x, "ndim", 0) < 2:
            raise ValueError(f"Flatten expects input of shape (N, ...), got {getattr(x, 'shape', x)}")
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.x_shape)
