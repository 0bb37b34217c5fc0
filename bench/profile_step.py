#!/usr/bin/env python3
"""Where one slotnp training step spends its time: each layer's forward and backward, and the
SGD update, in ms (median over repetitions), largest first. With --eval, the evaluation forward
(train=False) alone.

  python bench/profile_step.py conv6 K8
  python bench/profile_step.py conv6 K64 --reps 7 --top 15
  python bench/profile_step.py conv4 K2 --eval
  python bench/profile_step.py conv2 K8 --selection sample   # probabilistic selection (PS)
  python bench/profile_step.py conv2 K8 --glibc-default   # freed memory handed back (page faults)

It also prints the page faults a step makes (minor faults) and the process's peak resident
memory (both from getrusage).
"""
import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from slotnp import losses, optim  # noqa: E402


def profiled_step(net, sgd, x, y, train=True):
    """One training step; returns {"<layer>.forward" / "<layer>.backward" / "sgd": seconds}.
    With train=False, one evaluation forward: {"<layer>.forward": seconds}."""
    times, out = {}, x
    layers = net.named_layers()
    for name, layer in layers:
        start = time.perf_counter()
        out = layer.forward(out, train)
        times[name + ".forward"] = time.perf_counter() - start
    if not train:
        return times
    _, grad = losses.softmax_cross_entropy(out, y)
    for name, layer, flags in net.backward_steps(input_grad=False):   # as training: no dx
        start = time.perf_counter()                                     # for the images
        grad = layer.backward(grad, **flags)
        times[name + ".backward"] = time.perf_counter() - start
    start = time.perf_counter()
    sgd.step(net.grads)
    times["sgd"] = time.perf_counter() - start
    return times


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("net", choices=list(bench.BATCH))
    p.add_argument("variant", choices=list(bench.VARIANTS))
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--eval", action="store_true", help="profile the evaluation forward only")
    p.add_argument("--selection", choices=("greedy", "sample"), default="greedy",
                   help="slot variants: greedy (GS) or sampled (PS) selection")
    p.add_argument("--glibc-default", action="store_true",
                   help="leave glibc's allocator as it is (fast/allocator.py not applied)")
    args = p.parse_args()
    if args.glibc_default:
        bench.leave_glibc_default()
    with bench.fast.on():          # the fast twins, as train.py runs them
        profile(args)


def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def profile(args):
    changes = {"selection": args.selection} if bench.VARIANTS[args.variant]["slot"] else {}
    net, x, y = bench.make(args.net, args.variant, **changes)
    sgd = optim.SGD(net.params, 0.01)
    for _ in range(bench.WARM_UP):
        profiled_step(net, sgd, x, y, not args.eval)
    before = faults()
    runs = [profiled_step(net, sgd, x, y, not args.eval) for _ in range(args.reps)]
    per_step = (faults() - before) / args.reps
    medians = {key: 1000 * statistics.median(run[key] for run in runs) for key in runs[0]}
    what = "evaluation forward" if args.eval else "training step"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024       # KiB on Linux
    selection = f" {args.selection}" if "selection" in changes else ""
    print(f"{args.net} {args.variant}{selection} {what}: "
          f"sum of medians {sum(medians.values()):.0f} ms, "
          f"{per_step:.0f} page faults a step, peak resident {peak:.0f} MiB")
    for key, ms in sorted(medians.items(), key=lambda item: -item[1])[:args.top]:
        print(f"  {key:20s} {ms:7.1f}")


if __name__ == "__main__":
    main()
