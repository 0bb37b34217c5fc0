#!/usr/bin/env python3
"""Array operations (a proxy of GPU kernel launches) and device-to-host reads per training step
on the path CuPy takes, counted on the CPU by the counting backend (slotnp/run/counting.py).

  python bench/op_count.py                  # CONV-2/4/6 at K = 8, 64, learned and sampled
  python bench/op_count.py --nets conv2 --top 10

A GPU step costs about a launch each (~5-10 us of CPU time) however small the work, so few,
large operations are what makes the GPU path fast. Budget: OP_BUDGET operations and no read
per step (tests/fast/test_gpu_paths.py keeps both).
"""
import argparse
import os
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)),
                os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
from common import slotnp_case  # noqa: E402
from slotnp import backend, fast, training  # noqa: E402
from slotnp.run import counting  # noqa: E402

OP_BUDGET = 800
VARIANTS = {"K8": dict(K=8), "K64": dict(K=64), "learned": dict(slot=False),
            "K8-sample": dict(K=8, selection="sample")}


def count(name, variant, batch):
    """(ops, reads, the most frequent operations) of one training step, and (ops, reads) of
    one evaluation of 10 batches."""
    backend.use("counting")
    try:
        net, x, y, step, _ = slotnp_case(name, batch, lr=0.1, **VARIANTS[variant])
        step()
        counting.counts.reset()
        step()
        ops, reads = counting.counts.total()
        top = counting.counts.ops.most_common()
        counting.counts.reset()
        with fast.on():
            training.accuracy(net, x, y, batch_size=max(1, batch // 10))
        return (ops, reads, top), counting.counts.total()
    finally:
        backend.use("numpy")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nets", nargs="+", default=["conv2", "conv4", "conv6"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--top", type=int, default=6, help="show the most frequent operations")
    args = p.parse_args()
    print(f"Per training step at batch {args.batch} on the CuPy path (budget: {OP_BUDGET} "
          "operations, 0 reads), and per evaluation of 10 batches.\n")
    print("| net | variant | operations / step | reads / step | most frequent | "
          "operations / evaluation | reads / evaluation |")
    print("|---|---|---|---|---|---|---|")
    over = 0
    for name in args.nets:
        for variant in args.variants:
            (ops, reads, top), (eval_ops, eval_reads) = count(name, variant, args.batch)
            over += ops > OP_BUDGET or reads > 0
            common = ", ".join(f"{k} {v}" for k, v in top[:args.top])
            print(f"| {name} | {variant} | {ops} | {reads} | {common} | {eval_ops} | "
                  f"{eval_reads} |", flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
