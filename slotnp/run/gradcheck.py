"""The gradient check from the command line: a small, odd-shaped case of one layer, checked in
float64 by core/gradcheck.py (slot and edge-popup layers: slots/straight_through.py).

  python -m slotnp.run.gradcheck Conv2d --stride 2 --padding 1
  python -m slotnp.run.gradcheck SlotLinear --K 8
  python -m slotnp.run.gradcheck MaxPool2d
"""
import sys

import numpy as np

from .. import core
from ..core import backend
from ..core.gradcheck import layer_errors, require_float64
from .cli import OneLineErrors, non_negative_int
from ..slots.straight_through import straight_through_errors
from ..slots import EdgePopupConv2d, EdgePopupLinear, SlotConv2d, SlotLinear


def build(name, args, rng):
    """(layer, x) for the command line: a small, odd-shaped case of layer `name`."""
    dtype = np.dtype(args.dtype).type
    k, s, p = args.kernel, args.stride, args.padding
    image = (2, 3, 7, 6)
    made = {
        "Linear": lambda: (core.Linear(7, 5, rng=rng, dtype=dtype), (3, 7)),
        "Conv2d": lambda: (core.Conv2d(3, 4, k, s, p, rng=rng, dtype=dtype), image),
        "MaxPool2d": lambda: (core.MaxPool2d(k, s), image),
        "AvgPool2d": lambda: (core.AvgPool2d(k, s), image),
        "ReLU": lambda: (core.ReLU(), (3, 7)),
        "BatchNorm2d": lambda: (core.BatchNorm2d(3, dtype=dtype), image),
        "SlotLinear": lambda: (SlotLinear(7, 5, args.K, args.selection, rng=rng,
                                                 dtype=dtype), (3, 7)),
        "SlotConv2d": lambda: (SlotConv2d(3, 4, k, args.K, s, p, args.selection,
                                                 rng=rng, dtype=dtype), image),
        "EdgePopupLinear": lambda: (EdgePopupLinear(7, 5, args.keep, rng=rng,
                                                           dtype=dtype), (3, 7)),
        "EdgePopupConv2d": lambda: (EdgePopupConv2d(3, 4, k, args.keep, s, p, rng=rng,
                                                           dtype=dtype), image),
    }
    layer, shape = made[name]()
    x = rng.standard_normal(shape).astype(dtype)
    if name == "MaxPool2d":      # values far apart: a perturbation never changes a maximum
        x = rng.permutation(x.size).reshape(shape).astype(dtype) * dtype(0.1)
    if name == "ReLU":           # away from the kink at 0
        x = x + np.sign(x) * dtype(0.1)
    return layer, x


LAYERS = ("Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "BatchNorm2d", "SlotLinear",
          "SlotConv2d",
          "EdgePopupLinear", "EdgePopupConv2d")


def main(argv=None):
    p = OneLineErrors(prog="python -m slotnp.run.gradcheck",
                      description="Check a layer's backward against numerical gradients "
                                  "(float64).")
    p.add_argument("layer", choices=LAYERS)
    p.add_argument("--kernel", type=int, default=3, help="kernel or window side (3)")
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--padding", type=int, default=0)
    p.add_argument("--K", type=int, default=4, help="slot layers: options per connection")
    p.add_argument("--selection", choices=("greedy", "sample"), default="greedy")
    p.add_argument("--keep", type=float, default=0.5, help="edge-popup: the kept fraction")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--seed", type=non_negative_int, default=0)
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
                  "numerically, the layer's own dx against that dense twin's (the row x (own)), "
                  "and the score gradient against the rule applied to it.")
            errors = straight_through_errors(layer, x, dout)
        else:
            print(f"{layer!r}: analytic against numerical gradients of sum(y * dout).")
            # Batch normalisation's loss sums every value of a channel: at h = 1e-5 the rounding
            # of that sum reaches 1e-6 of its smallest entries; at 1e-4 both errors stay below.
            errors = layer_errors(layer, x, dout, h=1e-4 if args.layer == "BatchNorm2d"
                                  else 1e-5)
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
