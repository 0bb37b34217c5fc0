#!/usr/bin/env python3
"""Time each convolution shape of the CONV nets alone: slotnp's Conv2d against PyTorch's conv2d.

The five 3x3 layers (padding 1, batch 128, float32) that make up CONV-2/4/6 after their first
layer. Forward, and backward (dW and dx, as inside a net), alternating slotnp and PyTorch per
repetition after bench.py's warm-up rounds; medians in ms. slotnp runs two of Conv2d's paths:
`--path` (default "winograd", what the nets use) and "batch_inner" (im2col blocks). The same
rounds also time the batch-inner path's GEMMs alone (same block sizes, no im2col, col2im or
padding): what that path would take if everything but the matrix products were free. The
GFLOP/s column counts a direct convolution's 2*N*OH*OW*F*C*9 per pass (one forward, two
backward) over the `--path` median; Winograd does fewer (see slotnp/fast/winograd.py), so
above the GEMM peak it is an effective rate.

  python bench/conv_layers.py               # prints the markdown table kept in bench/RESULTS.md
  python bench/conv_layers.py --path im2col --reps 9
  python bench/conv_layers.py --shapes 16,64,32 32,64,32 64,64,32 --winograd-min-channels 1
                                            # Winograd below its channel threshold too
"""
import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import interleaved  # noqa: E402
from slotnp import fast  # noqa: E402
from slotnp.core import Conv2d  # noqa: E402
from slotnp.fast.elementwise import in_memory_order  # noqa: E402
from slotnp.fast import batch_inner, convolution, winograd  # noqa: E402

PATHS = ("im2col", "winograd", "batch_inner")   # the plain path, and the fast twin's two


def on(path, call, *args):
    """call(*args) on convolution path `path` (im2col: the plain engine, twins off)."""
    with fast.on(path != "im2col"), convolution.using(
            "batch_inner" if path == "batch_inner" else "auto"):
        return call(*args)

SHAPES = [(64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8)]  # C, F, H
BATCH = 128


def gemms_alone(C, F, H, rng):
    """(forward, backward): the batch-inner path's matrix products for one layer, block by block,
    on random block-sized buffers: y = W2d @ stack; dW2d = dy @ stack.T and dstack = W2d.T @ dy."""
    g = batch_inner.Geometry((C, H + 2, H + 2, BATCH), (3, 3), 1)
    widths = [(r1 - r0) * g.row_values for r0, r1 in g.blocks]
    w2d = rng.standard_normal((F, g.stack_rows), dtype=np.float32)
    stack = rng.standard_normal((g.stack_rows, widths[0]), dtype=np.float32)
    dy = rng.standard_normal((F, widths[0]), dtype=np.float32)
    y, dw, dstack = np.empty_like(dy), np.empty_like(w2d), np.empty_like(stack)

    def forward():
        for n in widths:
            np.matmul(w2d, stack[:, :n], out=y[:, :n])

    def backward():
        for n in widths:
            np.matmul(dy[:, :n], stack[:, :n].T, out=dw)
            np.matmul(w2d.T, dy[:, :n], out=dstack[:, :n])

    return forward, backward


def layer_times(C, F, H, path, reps, threads):
    """Medians in ms: slotnp forward, backward on `path` and on batch_inner, the batch-inner
    GEMMs alone forward, backward; PyTorch forward, backward. Also each slotnp path's float32
    forward error: max |y - y_exact| / max |y_exact|, y_exact from float64 im2col."""
    import torch
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    conv = Conv2d(C, F, 3, padding=1, rng=rng)
    blocks = Conv2d(C, F, 3, padding=1)
    blocks.params["W"][...] = conv.params["W"]
    x = rng.standard_normal((BATCH, C, H, H), dtype=np.float32)
    if path != "im2col":                           # as the layer before hands it on in a net
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    y = on(path, conv.forward, x)
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

    exact = Conv2d(C, F, 3, padding=1, dtype=np.float64)
    exact.params["W"][...] = conv.params["W"]
    y_exact = exact.forward(x.astype(np.float64))
    errors = {key: float(np.abs(y_path - y_exact).max() / np.abs(y_exact).max())
              for key, y_path in [("error", y),
                                  ("blocks_error", on("batch_inner", blocks.forward, x))]}
    gemm_f, gemm_b = gemms_alone(C, F, H, rng)
    ours = [("ours_f", lambda: on(path, conv.forward, x)),
            ("ours_b", lambda: on(path, conv.backward, dout)),
            ("blocks_f", lambda: on("batch_inner", blocks.forward, x)),
            ("blocks_b", lambda: on("batch_inner", blocks.backward, dout)),
            ("gemm_f", gemm_f), ("gemm_b", gemm_b)]
    theirs = [("torch_f", torch_forward), ("torch_b", torch_backward)]
    times = interleaved(ours, theirs, reps)
    return {**{k: statistics.median(v) for k, v in times.items()}, **errors}


def shape(text):
    """"C,F,H" -> (C, F, H)."""
    try:
        C, F, H = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a shape is C,F,H (e.g. 64,128,16), got {text!r}")
    return C, F, H


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--path", default="winograd", choices=PATHS)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--shapes", nargs="+", type=shape, default=SHAPES, metavar="C,F,H",
                   help="input channels, output channels, image side (default: the CONV nets')")
    p.add_argument("--winograd-min-channels", type=int, default=winograd.MIN_CHANNELS,
                   help="run Winograd from this many input channels on (default: the twin's)")
    args = p.parse_args()
    winograd.MIN_CHANNELS = args.winograd_min_channels
    print(f"slotnp path {args.path!r}; batch {BATCH}; float32; {args.threads} threads; "
          f"median of {args.reps} interleaved repetitions.\n")
    print(f"| layer (C -> F at size) | slotnp {args.path} forward / backward ms "
          "| slotnp batch_inner forward / backward ms | its GEMMs alone forward / backward ms "
          f"| PyTorch forward / backward ms | slotnp {args.path} GFLOP/s forward / backward "
          f"| float32 forward error, {args.path} / batch_inner |")
    print("|---|---|---|---|---|---|---|")
    for C, F, H in args.shapes:
        t = layer_times(C, F, H, args.path, args.reps, args.threads)
        gflop = 2 * BATCH * H * H * F * C * 9 / 1e9
        print(f"| {C} -> {F} at {H}x{H} | {t['ours_f']:.0f} / {t['ours_b']:.0f} | "
              f"{t['blocks_f']:.0f} / {t['blocks_b']:.0f} | {t['gemm_f']:.0f} / {t['gemm_b']:.0f} | "
              f"{t['torch_f']:.0f} / {t['torch_b']:.0f} | "
              f"{gflop / t['ours_f'] * 1e3:.0f} / {2 * gflop / t['ours_b'] * 1e3:.0f} | "
              f"{t['error']:.0e} / {t['blocks_error']:.0e} |")


if __name__ == "__main__":
    main()
