"""Gradient checks: every backward in slotnp against centred differences, in float64.
From the command line (run/gradcheck.py):

  python -m slotnp.run.gradcheck Conv2d --stride 2 --padding 1
  python -m slotnp.run.gradcheck SlotLinear --K 8
  python -m slotnp.run.gradcheck MaxPool2d

For L = sum(forward(x) * dout) with a random dout, a layer's backward gives dL/dx and, in
`grads`, dL/dparam; the numerical gradient perturbs one entry at a time by +-h (h = 1e-5) and
takes (L+ - L-) / 2h. They agree to about 1e-9 in float64; in float32 the differences lose
most of their digits, so a check in float32 is refused rather than reported as a failure.

Slot and edge-popup layers are checked the straight-through way. Their scores choose a weight
(an argmax, a top-k), and a choice is a step function: nudging a score by h changes nothing,
so its numerical gradient is 0 although the straight-through rule gives g * option. So the
check holds the choice fixed: a dense twin of the layer holding the chosen weight w is
checked numerically (dL/dx and dL/dw), and then the score gradient must equal the rule applied
to that dL/dw: dL/dscores[..., k] = dL/dw * options[..., k] for slot layers,
dL/dscores = dL/dw * W * sign(scores) for edge-popup.
"""
import numpy as np

from . import backend


def rel_error(x, y):
    """max |x - y| / max(1e-8, |x| + |y|), elementwise over two arrays on any backend."""
    x, y = backend.to_host(x), backend.to_host(y)
    assert x.shape == y.shape, (x.shape, y.shape)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, array, h=1e-5):
    """d f() / d array by centred differences, perturbing `array` in place entry by entry."""
    grad = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        old = float(array[index])
        array[index] = old + h
        plus = f()
        array[index] = old - h
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def require_float64(*arrays):
    """Raise a ValueError that says why, unless every array is float64."""
    for array in arrays:
        if array.dtype != np.float64:
            raise ValueError(f"gradient checks need float64, got {array.dtype}: centred "
                             "differences with h = 1e-5 keep about 2 of float32's 7 digits, so "
                             "even a correct backward would show errors near 1; build the "
                             "layer with dtype=np.float64 (or pass --dtype float64)")


def layer_errors(layer, x, dout, forward=None, h=1e-5):
    """{"x": error of dL/dx, param name: error of dL/dparam} of a layer's backward against
    numerical gradients of L = sum(forward(x) * dout)."""
    require_float64(x, dout, *layer.params.values())
    forward = forward or (lambda: layer.forward(x, train=True))
    loss = lambda: float((forward() * dout).sum())  # noqa: E731
    forward()
    dx = layer.backward(dout.copy())
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    for key, param in layer.params.items():
        errors[key] = rel_error(layer.grads[key], numerical_gradient(loss, param, h))
    return errors


def check_layer(layer, x, dout, forward=None, tolerance=1e-7, h=1e-5):
    """layer_errors, asserted below `tolerance`; returns them."""
    errors = layer_errors(layer, x, dout, forward, h)
    assert set(layer.grads) == set(layer.params)
    assert max(errors.values()) < tolerance, errors
    return errors


def straight_through_errors(layer, x, dout):
    """The errors of a slot or edge-popup layer, its choice held fixed (module docstring):
    "x", "W" (through the dense twin), "scores" (the rule applied to the numerical dL/dw)."""
    layer.forward(x, train=True)
    layer.backward(dout.copy())
    if hasattr(layer, "slots"):
        dense = layer.freeze(layer.slots.last_index)      # the weight this forward chose
    else:
        dense = layer.freeze()
    errors = layer_errors(dense, x, dout)
    dw = backend.to_host(dense.grads["W"])
    if hasattr(layer, "slots"):
        expected = dw[..., None] * backend.to_host(layer.options)
        assert np.array_equal(backend.to_host(dense.params["W"]), backend.to_host(
            layer.slots.pick(layer.slots.last_index)))
    else:
        expected = dw * backend.to_host(layer.supermask.weight) * np.sign(
            backend.to_host(layer.params["scores"]))
    errors["scores"] = rel_error(layer.score_grad() if hasattr(layer, "slots")
                                 else layer.grads["scores"], expected)
    return errors
