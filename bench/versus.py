#!/usr/bin/env python3
"""Time this slotnp against another version of it, interleaved: did a change make anything slower?

  git worktree add /tmp/base 62dfc67          # the version to compare with
  python bench/versus.py /tmp/base            # writes bench/versus.json, prints a markdown table

For each configuration of bench.py (net, variant), fresh processes alternate between the two
trees, base then this one, `--rounds` times. Each imports its own tree's bench.make and
bench.slotnp_step and times slotnp alone: bench.WARM_UP calls, then `--reps` training steps and
as many inference forwards (medians). The ratio this / base is taken round by round, so that the
machine's drift over minutes hits both alike; the table gives the median over rounds and the
range. PyTorch is not involved: bench.py compares with it.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = [(net, variant) for net in ("lenet", "conv2", "conv4", "conv6", "vgg19")
        for variant in ("K2", "K8", "K64", "learned")
        if not (variant == "K64" and net in ("lenet", "vgg19"))]

CHILD = """
import json, statistics, sys, time
sys.path[:0] = [{tree!r} + '/bench', {tree!r}]
import bench
from slotnp import optim
net, x, y = bench.make({net!r}, {variant!r})
sgd = optim.SGD(net.params, 0.01)
infer = getattr(bench, "slotnp_infer", lambda net, x: net.forward(x, train=False))
calls = {{"step": lambda: bench.slotnp_step(net, sgd, x, y), "infer": lambda: infer(net, x)}}
times = {{}}
for kind, call in calls.items():
    for _ in range(bench.WARM_UP):
        call()
    laps = []
    for _ in range({reps}):
        start = time.perf_counter()
        call()
        laps.append(1000 * (time.perf_counter() - start))
    times[kind] = statistics.median(laps)
print(json.dumps(times))
"""


def timed_in(tree, net, variant, reps):
    """{"step": ms, "infer": ms}: medians of `reps` calls in a fresh process on `tree`."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(tree=os.path.abspath(tree),
                                                             net=net, variant=variant,
                                                             reps=reps)],
                         capture_output=True, text=True, cwd=tree)
    if out.returncode != 0:
        raise RuntimeError(f"{net} {variant} in {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(base, rows, reps, rounds):
    """[{net, variant, base: {kind: [ms per round]}, this: {...}}]."""
    results = []
    for net, variant in rows:
        row = dict(net=net, variant=variant, base={"step": [], "infer": []},
                   this={"step": [], "infer": []})
        for _ in range(rounds):
            for side, tree in (("base", base), ("this", HERE)):
                for kind, ms in timed_in(tree, net, variant, reps).items():
                    row[side][kind].append(ms)
        results.append(row)
        print(f"{net:6s} {variant:8s} " + "   ".join(
            f"{kind} {statistics.median(row['base'][kind]):7.1f} -> "
            f"{statistics.median(row['this'][kind]):7.1f} ms" for kind in ("step", "infer")),
            flush=True)
    return results


def ratios(row, kind):
    """this / base, round by round."""
    return [b / a for a, b in zip(row["base"][kind], row["this"][kind])]


def milliseconds(ms):
    return f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


def markdown(results, base_name):
    lines = ["| net | variant | step: base ms | this ms | this / base (range) | inference: "
             "base ms | this ms | this / base (range) |", "|---|---|---|---|---|---|---|---|"]
    for row in results:
        cells = []
        for kind in ("step", "infer"):
            r = ratios(row, kind)
            cells += [milliseconds(statistics.median(row['base'][kind])),
                      milliseconds(statistics.median(row['this'][kind])),
                      f"**{statistics.median(r):.2f}** ({min(r):.2f}-{max(r):.2f})"]
        lines.append(f"| {row['net']} | {row['variant']} | " + " | ".join(cells) + " |")
    return f"Base: {base_name}.\n\n" + "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("base", help="a checkout of the version to compare with")
    p.add_argument("--nets", nargs="+", help="only these nets")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", default=os.path.join(HERE, "bench", "versus.json"))
    args = p.parse_args()
    if not os.path.isfile(os.path.join(args.base, "bench", "bench.py")):
        sys.exit(f"versus.py: {args.base} is not a slotnp checkout (no bench/bench.py); "
                 "make one with: git worktree add /tmp/base COMMIT")
    rows = [row for row in ROWS if not args.nets or row[0] in args.nets]
    results = compare(args.base, rows, args.reps, args.rounds)
    described = subprocess.run(["git", "-C", args.base, "log", "-1", "--format=%h %s"],
                               capture_output=True, text=True).stdout.strip() or args.base
    with open(args.out, "w") as f:
        json.dump(dict(base=described, reps=args.reps, rounds=args.rounds, rows=results), f,
                  indent=1)
    print(markdown(results, described))


if __name__ == "__main__":
    main()
