"""Fully connected layer y = x W^T (+ b), with W of shape (out_features, in_features)."""
import numpy as np

from . import twins
from .base import WeightedLayer, check_input, check_int


class Linear(WeightedLayer):
    """x: (N, in_features) -> y: (N, out_features). Trainable `params["W"]` (and `params["b"]`)."""

    def __init__(self, in_features, out_features, bias=False, rng=None, dtype=np.float32,
                 weight=None):
        super().__init__()
        self._set_geometry(in_features, out_features)
        self._set_weight(weight, rng, dtype)
        self._set_bias(bias, self.params["W"].dtype)

    def _set_geometry(self, in_features, out_features):
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")

    @property
    def weight_shape(self):
        return (self.out_features, self.in_features)

    def dense_with(self, weight):
        """A plain Linear of this layer's shape holding `weight` (out, in), and a copy of this
        layer's bias where it has one."""
        return self._with_own_bias(Linear(self.in_features, self.out_features, weight=weight))

    def forward(self, x, train=True):
        check_input(self, x, 2, "(N, in_features)", self.in_features)
        w = self._forward_weight(train)
        self.cache = (x, w)
        twin = twins.find("linear")                # (large layers: on every core)
        y = twin.forward(self, x, w) if twin is not None else None
        if y is None:
            y = x @ w.T
        if "b" in self.params:
            y += self.params["b"]
        return y

    def backward(self, dout, input_grad=True):
        """dout: (N, out_features) -> dx: (N, in_features), or None with input_grad=False."""
        x, w = self.cache
        twin = twins.find("linear")
        done = twin.backward(self, dout, x, w, input_grad) if twin is not None else None
        dw, dx = done if done is not None else (dout.T @ x, dout @ w if input_grad else None)
        self._store_weight_grad(dw)
        if "b" in self.params:
            self.grads["b"] = dout.sum(axis=0)
        return dx

    def __repr__(self):
        return f"{type(self).__name__}({self.in_features}, {self.out_features}{self._bias_repr()})"
