"""Numerical gradients (float64, centred differences) and CS231n's relative error."""
import numpy as np

from slotnp import backend


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


def check_layer(layer, x, dout, forward=None, tolerance=1e-7, h=1e-5):
    """Compare a layer's backward (dx and every grads entry) with numerical gradients of
    L = sum(forward(x) * dout), centred differences with step h. Returns the largest relative
    error seen."""
    forward = forward or (lambda: layer.forward(x, train=True))
    loss = lambda: float((forward() * dout).sum())  # noqa: E731
    forward()
    dx = layer.backward(dout.copy())
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    for key, param in layer.params.items():
        errors[key] = rel_error(layer.grads[key], numerical_gradient(loss, param, h))
    assert set(layer.grads) == set(layer.params)
    assert max(errors.values()) < tolerance, errors
    return errors
