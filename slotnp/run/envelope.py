"""The options one connection can ever select, from the command line: the upper envelope of its
K lines r -> W[k] r + S0[k] (fast/envelope.py), for a connection of Lenet's fc1.

  python -m slotnp.run.envelope --K 16
"""
import sys

import numpy as np

from .. import fast
from ..core import backend
from ..fast.envelope import envelope_walk
from ..slots.slot import SlotLinear
from .cli import OneLineErrors, non_negative_int, positive_int


CONNECTIONS = 784 * 300   # Lenet's fc1
MAX_K = 256


def main(argv=None):
    """python -m slotnp.run.envelope: the options one connection can ever select."""
    p = OneLineErrors(prog="python -m slotnp.run.envelope",
                      description=main.__doc__.split(": ", 1)[1])
    p.add_argument("--K", type=positive_int, default=16, help=f"at most {MAX_K}")
    p.add_argument("--connection", type=non_negative_int, default=0,
                   help=f"which connection of fc1 (0 to {CONNECTIONS - 1})")
    p.add_argument("--seed", type=non_negative_int, default=0)
    args = p.parse_args(argv)
    if args.K > MAX_K:          # the whole of fc1 is drawn: 235,200 connections of K options
        p.error(f"argument --K: at most {MAX_K} (fc1's options take 3.8 MB per option), got "
                f"{args.K}")
    if args.connection >= CONNECTIONS:
        p.error(f"argument --connection: fc1 has {CONNECTIONS} connections (0 to "
                f"{CONNECTIONS - 1}), got {args.connection}")
    with fast.on():
        layer = SlotLinear(784, 300, K=args.K, rng=args.seed, keep_options=True,
                           dtype=np.float64)
    W = backend.to_host(layer.options).reshape(-1, args.K)[args.connection]
    S0 = backend.to_host(layer.slots.initial_scores).reshape(-1, args.K)[args.connection]
    walk = envelope_walk(W, S0)
    print(f"connection {args.connection} of Lenet's fc1 as {layer!r}: greedy selection takes "
          f"argmax_k r W[k] + S0[k], r = a / b. Lines on top, from r = -inf to +inf:")
    print("     k    option W[k]   initial score S0[k]   on top from r =")
    for k, start in walk:
        print(f"  {k:4d}   {W[k]:+.6f}     {S0[k]:.6f}              {start:+.4g}")
    print(f"{len(walk)} of the {args.K} options can ever be selected; the others never win, "
          "whatever the training does to a (while b > 0).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
