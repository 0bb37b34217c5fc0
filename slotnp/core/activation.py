"""Elementwise layers: ReLU and (inverted) Dropout."""
from . import backend, twins
from .base import Layer, raise_backward_after_evaluation


class ReLU(Layer):
    """y = max(x, 0), any shape. Keeps only the mask x > 0 for backward (in training only)."""

    def forward(self, x, train=True):
        twin = twins.find("relu")                  # (the same values, on every core)
        y = twin.forward(self, x, train) if twin is not None else None
        if y is not None:
            return y
        self.mask = x > 0 if train else None
        return backend.xp_of(x).maximum(x, x.dtype.type(0))

    def backward(self, dout):
        if getattr(self, "mask", None) is None:
            raise_backward_after_evaluation(self)
        twin = twins.find("relu")
        dx = twin.backward(self, dout) if twin is not None else None
        return dx if dx is not None else dout * self.mask


class Dropout(Layer):
    """Inverted dropout: in training each element is zeroed with probability p_drop and the
    survivors are scaled by 1 / (1 - p_drop), so evaluation is the identity.

    Draws come from the layer's own generator on the active device (`reseed` restarts it).
    Tests may pass `mask` to forward: an array of x's shape holding 0 or 1/(1-p_drop).
    """

    def __init__(self, p_drop=0.5, seed=0):
        super().__init__()
        if not isinstance(p_drop, (int, float)) or not 0.0 <= p_drop < 1.0:
            raise ValueError(f"Dropout p_drop must be a number in [0, 1), got {p_drop!r}")
        self.p_drop = float(p_drop)
        self.reseed(seed)

    def reseed(self, seed):
        """Restart the dropout masks from `seed` (the generator is made on first use)."""
        self.seed = seed
        self._generator = None

    def forward(self, x, train=True, mask=None):
        if not train or self.p_drop == 0.0:
            self.mask = None
            return x
        if mask is None:
            if self._generator is None:
                self._generator = backend.random_generator(self.seed)
            keep = backend.uniform(self._generator, x.shape, x.dtype) >= self.p_drop
            mask = keep * x.dtype.type(1.0 / (1.0 - self.p_drop))
        self.mask = mask
        return x * mask

    def backward(self, dout):
        if self.mask is None:
            return dout
        return dout * self.mask

    def __repr__(self):
        return f"Dropout(p_drop={self.p_drop})"
