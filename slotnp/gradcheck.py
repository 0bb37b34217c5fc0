"""Gradient checks: every backward in slotnp against centred differences, in float64.

  python -m slotnp.gradcheck Conv2d --stride 2 --padding 1
  python -m slotnp.gradcheck SlotLinear --K 8
  python -m slotnp.gradcheck MaxPool2d

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
import argparse
import sys

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
        from .layers.slot import pick
        dense = layer.freeze(layer.slots.last_index)      # the weight this forward chose
    else:
        dense = layer.freeze()
    errors = layer_errors(dense, x, dout)
    dw = backend.to_host(dense.grads["W"])
    if hasattr(layer, "slots"):
        expected = dw[..., None] * backend.to_host(layer.options)
        assert np.array_equal(backend.to_host(dense.params["W"]), backend.to_host(
            pick(layer.options, layer.slots.last_index)))
    else:
        expected = dw * backend.to_host(layer.supermask.weight) * np.sign(
            backend.to_host(layer.params["scores"]))
    errors["scores"] = rel_error(layer.score_grad() if hasattr(layer, "slots")
                                 else layer.grads["scores"], expected)
    return errors


def build(name, args, rng):
    """(layer, x) for the command line: a small, odd-shaped case of layer `name`."""
    from . import layers
    dtype = np.dtype(args.dtype).type
    k, s, p = args.kernel, args.stride, args.padding
    image = (2, 3, 7, 6)
    made = {
        "Linear": lambda: (layers.Linear(7, 5, rng=rng, dtype=dtype), (3, 7)),
        "Conv2d": lambda: (layers.Conv2d(3, 4, k, s, p, rng=rng, dtype=dtype), image),
        "MaxPool2d": lambda: (layers.MaxPool2d(k, s), image),
        "AvgPool2d": lambda: (layers.AvgPool2d(k, s), image),
        "ReLU": lambda: (layers.ReLU(), (3, 7)),
        "SlotLinear": lambda: (layers.SlotLinear(7, 5, args.K, args.selection, rng=rng,
                                                 dtype=dtype), (3, 7)),
        "SlotConv2d": lambda: (layers.SlotConv2d(3, 4, k, args.K, s, p, args.selection,
                                                 rng=rng, dtype=dtype), image),
        "EdgePopupLinear": lambda: (layers.EdgePopupLinear(7, 5, args.keep, rng=rng,
                                                           dtype=dtype), (3, 7)),
        "EdgePopupConv2d": lambda: (layers.EdgePopupConv2d(3, 4, k, args.keep, s, p, rng=rng,
                                                           dtype=dtype), image),
    }
    layer, shape = made[name]()
    x = rng.standard_normal(shape).astype(dtype)
    if name == "MaxPool2d":      # values far apart: a perturbation never changes a maximum
        x = rng.permutation(x.size).reshape(shape).astype(dtype) * dtype(0.1)
    if name == "ReLU":           # away from the kink at 0
        x = x + np.sign(x) * dtype(0.1)
    return layer, x


LAYERS = ("Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "SlotLinear", "SlotConv2d",
          "EdgePopupLinear", "EdgePopupConv2d")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m slotnp.gradcheck",
                                description="Check a layer's backward against numerical "
                                            "gradients (float64).")
    p.add_argument("layer", choices=LAYERS)
    p.add_argument("--kernel", type=int, default=3, help="kernel or window side (3)")
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--padding", type=int, default=0)
    p.add_argument("--K", type=int, default=4, help="slot layers: options per connection")
    p.add_argument("--selection", choices=("greedy", "sample"), default="greedy")
    p.add_argument("--keep", type=float, default=0.5, help="edge-popup: the kept fraction")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    try:
        layer, x = build(args.layer, args, rng)
        x = backend.to_device(x)
        dout = backend.to_device(rng.standard_normal(layer.forward(x).shape).astype(x.dtype))
        require_float64(x)
        if args.layer.startswith(("Slot", "EdgePopup")):
            print(f"{layer!r}: checked straight-through. Its scores choose the weight, and a "
                  "choice does not move under a small nudge (its numerical gradient is 0), so "
                  "the choice is held fixed: the chosen weight's gradient is checked "
                  "numerically, and the score gradient against the rule applied to it.")
            errors = straight_through_errors(layer, x, dout)
        else:
            print(f"{layer!r}: analytic against numerical gradients of sum(y * dout).")
            errors = layer_errors(layer, x, dout)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    worst = max(errors.values())
    for key, value in errors.items():
        print(f"  d/d{key:8s} relative error {value:.2e}")
    verdict = "passes" if worst < 1e-6 else "FAILS"
    print(f"{verdict}: largest relative error {worst:.1e} (a correct float64 backward gives "
          "about 1e-8 or less)")
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
