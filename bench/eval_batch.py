#!/usr/bin/env python3
"""The evaluation forward's time per image at several batch sizes (core/training.py's
EVAL_BATCH): `accuracy` over random images, the sizes interleaved, medians of --reps.

  python bench/eval_batch.py                       # CONV-2 K = 8, all threads
  OMP_NUM_THREADS=1 python bench/eval_batch.py conv2 learned
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from slotnp import fast  # noqa: E402
from slotnp.core.training import accuracy  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("net", nargs="?", default="conv2", choices=["conv2", "conv4", "conv6"])
    p.add_argument("variant", nargs="?", default="K8", choices=list(bench.VARIANTS))
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 500, 256, 128])
    p.add_argument("--images", type=int, default=3000)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args()
    net, _, _ = bench.make(args.net, args.variant)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.images, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, args.images)
    times = {size: [] for size in args.sizes}
    with fast.on():
        accuracy(net, x[:max(args.sizes)], y[:max(args.sizes)], max(args.sizes))   # warm-up
        for _ in range(args.reps):
            for size in args.sizes:
                start = time.perf_counter()
                accuracy(net, x, y, size)
                times[size].append(time.perf_counter() - start)
    print(f"{args.net} {args.variant}, {fast.threads.CPU_CORES} threads, ms an image "
          f"(median of {args.reps}):")
    for size, seconds in times.items():
        print(f"  batch {size:5d}: {1000 * statistics.median(seconds) / args.images:.2f}")


if __name__ == "__main__":
    main()
