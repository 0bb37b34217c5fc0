"""The layer protocol every layer follows, and the checks that give clear errors on bad input.

A layer has `forward(x, train=True) -> y`, which caches what its backward needs (an
evaluation forward, train=False, may keep nothing), and `backward(dout) -> dx`, which also
overwrites `grads` (same keys as `params`); a layer with a weight (Conv2d, Linear) also takes
`backward(dout, input_grad=False)`, which fills `grads` and skips dx. Backward never
updates parameters and never writes into `dout`; the optimizer does the updates. `buffers`
holds state that is not trained but belongs to the network (batch normalisation's running
averages): checkpoints save it with the parameters.
"""
import numpy as np

from . import backend, init


class Layer:
    """Base class: a layer without parameters."""

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}

    def forward(self, x, train=True):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class WeightedLayer(Layer):
    """A layer computed from one weight, `params["W"]` (Linear, Conv2d).

    Forward reads the weight through `_forward_weight` and backward hands dW to
    `_store_weight_grad`; the slot layers override just these two to choose the weight from
    their options and to turn dW into score gradients.
    """

    def weight(self):
        """The weight the evaluation forward uses: `weight_shape`."""
        return self.params["W"]

    def _forward_weight(self, train):
        return self.params["W"]

    def _store_weight_grad(self, dW):
        self.grads["W"] = dW

    def _set_weight(self, weight, rng, dtype):
        """params["W"]: `weight` where given (its own dtype), else a Glorot draw (init.py)."""
        if weight is None:
            weight = init.learned_weight(rng, self.weight_shape, dtype)
        elif tuple(weight.shape) != self.weight_shape:
            raise ValueError(f"{self!r} needs a weight of shape {self.weight_shape}, got "
                             f"{tuple(weight.shape)}")
        self.params["W"] = backend.to_device(weight)

    def _set_bias(self, bias, dtype):
        """params["b"], one per output (zeros), where `bias`: the paper's nets have none."""
        if bias:
            self.params["b"] = backend.to_device(np.zeros(self.weight_shape[0], dtype))

    def _with_own_bias(self, dense):
        """`dense` (a layer of this one's shape) holding a copy of this layer's bias, if any."""
        if "b" in self.params:
            dense.params["b"] = self.params["b"].copy()
        return dense

    def _bias_repr(self):
        return ", bias=True" if "b" in self.params else ""


def raise_backward_after_evaluation(layer):
    """The error for a backward whose forward ran with train=False, which keeps no cache."""
    raise RuntimeError(f"{layer!r}: backward needs a forward with train=True before it; the "
                       "last forward was an evaluation (train=False), which keeps nothing for "
                       "backward")


def check_int(value, what, minimum=1):
    """Raise a ValueError unless `value` is an int >= minimum (1: positive); return it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be " + ("a positive integer" if minimum == 1 else
                                               f"an int >= {minimum}") + f", got {value!r}")
    return int(value)


def check_pair(value, what, minimum=1):
    """An int or a pair of ints (each >= minimum) as a tuple (h, w)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                             or v < minimum for v in pair):
        raise ValueError(f"{what} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_input(layer, x, ndim, layout, channels=None):
    """Raise a ValueError naming the layer when x has the wrong rank or channel count."""
    if getattr(x, "ndim", None) != ndim:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer!r} expects input of shape {layout} ({ndim} dimensions), "
                         f"got {shape}; reshape the input or check the layer order")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{layer!r} expects {channels} input channels/features (axis 1 of "
                         f"{layout}), got input of shape {tuple(x.shape)}")
