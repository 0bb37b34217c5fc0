"""Gradient checks: a backward against centred differences, in float64 (CLI: run/gradcheck.py,
e.g. `python -m slotnp.run.gradcheck Conv2d --stride 2 --padding 1`).

For L = sum(forward(x) * dout) with a random dout, backward gives dL/dx and, in `grads`,
dL/dparam; the numerical gradient perturbs one entry at a time by +-h (h = 1e-5) and takes
(L+ - L-) / 2h. In float64 they agree to about 1e-8 (check_layer: below 1e-7); float32 keeps
too few digits, so it is refused. Slot and edge-popup layers: slots/straight_through.py.
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

