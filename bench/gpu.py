#!/usr/bin/env python3
"""slotnp on CuPy against the PyTorch twin on CUDA, in one run: a training step and an
inference forward of CONV-2/4/6 at K = 8, 64 and with learned weights.

  python bench/gpu.py                     # on a machine with a GPU, CuPy and PyTorch
  python bench/gpu.py --nets conv2 --variants K8 --reps 20
  python bench/gpu.py --dry               # the same logic on the CPU: the counting backend
                                          # (CuPy's paths on NumPy) and PyTorch's CPU, with
                                          # torch.from_numpy refusing what is not a NumPy
                                          # array, as it refuses CuPy arrays

slotnp is timed with cupyx.profiler.benchmark (GPU time by CUDA events, CPU time beside it);
PyTorch with CUDA events around the same calls. Targets (issue 16): K = 8 step <= 1.5x
PyTorch's, K = 64 <= 1.0x. Prints a markdown table and writes --out (JSON).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]
from slotnp import backend  # noqa: E402
from common import slotnp_case, torch_calls  # noqa: E402

VARIANTS = {"K8": dict(slot=True, K=8), "K64": dict(slot=True, K=64),
            "learned": dict(slot=False)}


def time_slotnp(call, reps, dry):
    """Median milliseconds per call (GPU time; on --dry, wall time)."""
    if dry:
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            call()
            times.append(1000 * (time.perf_counter() - start))
        return float(np.median(times)), float(np.median(times))
    from cupyx.profiler import benchmark
    result = benchmark(call, n_repeat=reps, n_warmup=3)
    return float(np.median(result.gpu_times) * 1000), float(np.median(result.cpu_times) * 1000)


def time_torch(call, reps, device):
    import torch
    for _ in range(3):
        call()
    times = []
    for _ in range(reps):
        if device == "cuda":
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            call()
            stop.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(stop))
        else:
            begin = time.perf_counter()
            call()
            times.append(1000 * (time.perf_counter() - begin))
    return float(np.median(times))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nets", nargs="+", default=["conv2", "conv4", "conv6"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--dry", action="store_true", help="NumPy and PyTorch's CPU: the logic only")
    p.add_argument("--out", default=os.path.join(HERE, "gpu_results.json"))
    args = p.parse_args()
    if args.dry:
        from slotnp.run import counting  # noqa: F401  (registers the backend)
        backend.use("counting")
        strict_from_numpy()
    else:
        backend.use("cupy")
    device = "cpu" if args.dry else "cuda"
    rows, failed = [], 0
    print("| net | variant | step slotnp ms (CPU ms) | PyTorch ms | ratio | inference slotnp ms | "
          "PyTorch ms | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.nets:
        for variant in args.variants:
            net, x, y, step, infer = slotnp_case(name, args.batch, **VARIANTS[variant])
            x, y = backend.to_host(x), backend.to_host(y)
            try:
                t_step, t_infer = torch_calls(net, x, y, device)
            except Exception as error:   # no PyTorch, or its twin failed: slotnp alone
                print(f"the PyTorch twin of {name} {variant} failed ({type(error).__name__}: "
                      f"{error}); slotnp alone", file=sys.stderr)
                failed += 1
                t_step = t_infer = None
            ours = {k: time_slotnp(c, args.reps, args.dry) for k, c in
                    (("step", step), ("infer", infer))}
            theirs = {k: time_torch(c, args.reps, device) if c else None for k, c in
                      (("step", t_step), ("infer", t_infer))}
            row = dict(net=name, variant=variant, batch=args.batch, slotnp=ours, torch=theirs)
            rows.append(row)

            def cell(kind):
                gpu, cpu = ours[kind]
                ratio = f"**{gpu / theirs[kind]:.2f}**" if theirs[kind] else "-"
                torch_ms = f"{theirs[kind]:.1f}" if theirs[kind] else "-"
                return f"{gpu:.1f} ({cpu:.1f}) | {torch_ms} | {ratio}"
            print(f"| {name} | {variant} | {cell('step')} | {cell('infer')} |", flush=True)
            with open(args.out, "w") as file:
                json.dump(dict(device=device, rows=rows), file, indent=1)
            del net, step, infer
    return 1 if failed else 0


def strict_from_numpy():
    """torch.from_numpy as it behaves for CuPy arrays: anything but a plain NumPy array is
    refused (the counting backend's arrays are an ndarray subclass, which torch would take)."""
    import torch
    plain = torch.from_numpy

    def from_numpy(array):
        if type(array) is not np.ndarray:
            raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
        return plain(array)
    torch.from_numpy = from_numpy


if __name__ == "__main__":
    sys.exit(main())
