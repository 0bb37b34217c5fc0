"""The gradient check of slot and edge-popup layers, the straight-through way.

Their scores choose a weight (an argmax, a top-k), and a choice is a step function: nudging a
score by h changes nothing, so its numerical gradient is 0 although the straight-through rule
gives g * option. So the check holds the choice fixed: a dense twin of the layer holding the
chosen weight w is checked numerically (core/gradcheck.py: dL/dx and dL/dw), the layer's own
dL/dx must equal the twin's, and the score gradient the rule applied to that dL/dw: dL/dscores[..., k] = dL/dw *
options[..., k] for slot layers, dL/dscores = dL/dw * W * sign(scores) for edge-popup.
"""
import numpy as np

from ..core import backend
from ..core.gradcheck import layer_errors, rel_error


def straight_through_errors(layer, x, dout):
    """The errors of a slot or edge-popup layer, its choice held fixed (module docstring):
    "x", "W" (through the dense twin), "scores" (the rule applied to the numerical dL/dw), and
    "x (own)" (the layer's own dL/dx against the checked twin's)."""
    layer.forward(x, train=True)
    dx = layer.backward(dout.copy())
    slot = hasattr(layer, "slots")
    dense = layer.freeze(layer.slots.last_index if slot else None)   # the weight it chose
    errors = layer_errors(dense, x, dout)
    dense.forward(x, train=True)
    errors["x (own)"] = rel_error(dx, dense.backward(dout.copy()))
    dw = backend.to_host(dense.grads["W"])
    if slot:
        expected, got = dw[..., None] * backend.to_host(layer.options), layer.score_grad()
    else:
        scores = backend.to_host(layer.params["scores"])
        expected = dw * backend.to_host(layer.supermask.weight) * np.sign(scores)
        got = layer.grads["scores"]
    errors["scores"] = rel_error(got, expected)
    if "b" in layer.params:                         # a learned bias: the dense twin's, checked
        errors["b (own)"] = rel_error(layer.grads["b"], dense.grads["b"])
    return errors
