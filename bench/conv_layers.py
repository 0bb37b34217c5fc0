#!/usr/bin/env python3
"""Time each convolution shape of the CONV nets alone: slotnp's Conv2d against PyTorch's conv2d.

The five 3x3 layers (padding 1, batch 128, float32) that make up CONV-2/4/6 after their first
layer. Forward, and backward (dW and dx, as inside a net), alternating slotnp and PyTorch per
repetition after bench.py's warm-up rounds; medians in ms. The GFLOP/s column counts
2*N*OH*OW*F*C*9 per GEMM pass (one forward, two backward) over slotnp's median.

  python bench/conv_layers.py               # prints the markdown table kept in bench/RESULTS.md
  python bench/conv_layers.py --path im2col --reps 9
"""
import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import interleaved  # noqa: E402
from slotnp.layers import Conv2d  # noqa: E402
from slotnp.layers.base import in_memory_order  # noqa: E402

SHAPES = [(64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8)]  # C, F, H
BATCH = 128


def layer_times(C, F, H, path, reps, threads):
    """Medians in ms: slotnp forward, backward; PyTorch forward, backward."""
    import torch
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    conv = Conv2d(C, F, 3, padding=1, rng=rng)
    conv.path = path
    x = rng.standard_normal((BATCH, C, H, H), dtype=np.float32)
    if path == "batch_inner":                      # as the layer before hands it on in a net
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    y = conv.forward(x)
    dout = in_memory_order(np.empty, y.shape, y.strides, y.dtype)  # as ReLU/pooling hand it back
    dout[...] = rng.standard_normal(y.shape, dtype=np.float32)
    tx = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(True)
    tw = torch.from_numpy(conv.params["W"].copy()).requires_grad_(True)
    tdout = torch.from_numpy(np.ascontiguousarray(dout))
    ty = {}

    def torch_forward():
        ty["y"] = torch.nn.functional.conv2d(tx, tw, padding=1)

    def torch_backward():
        tx.grad = tw.grad = None
        ty["y"].backward(tdout)

    ours = [("ours_f", lambda: conv.forward(x)), ("ours_b", lambda: conv.backward(dout))]
    theirs = [("torch_f", torch_forward), ("torch_b", torch_backward)]
    times = interleaved(ours, theirs, reps)
    return {k: statistics.median(v) for k, v in times.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--path", default="batch_inner", choices=Conv2d.PATHS)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    print(f"slotnp path {args.path!r}; batch {BATCH}; float32; {args.threads} threads; "
          f"median of {args.reps} interleaved repetitions.\n")
    print("| layer (C -> F at size) | slotnp forward / backward ms | PyTorch forward / backward ms "
          "| slotnp GFLOP/s forward / backward |")
    print("|---|---|---|---|")
    for C, F, H in SHAPES:
        t = layer_times(C, F, H, args.path, args.reps, args.threads)
        gflop = 2 * BATCH * H * H * F * C * 9 / 1e9
        print(f"| {C} -> {F} at {H}x{H} | {t['ours_f']:.0f} / {t['ours_b']:.0f} | "
              f"{t['torch_f']:.0f} / {t['torch_b']:.0f} | "
              f"{gflop / t['ours_f'] * 1e3:.0f} / {2 * gflop / t['ours_b'] * 1e3:.0f} |")


if __name__ == "__main__":
    main()
