#!/usr/bin/env python3
"""Time one whole CIFAR-10 epoch as train.py runs it: the real loader (its cached data file),
crop and flip, 45,000 images trained and 15,000 evaluated (validation and test).

  python bench/epoch.py --data-dir data                       # CONV-2 K = 8, this tree
  python bench/epoch.py --data-dir data --base /tmp/base      # against another checkout
  python bench/epoch.py --data-dir data --variants K8 learned --rounds 3

Each epoch is an ordinary `train.py ... --epochs 200 --time-limit 1e-6` in a fresh process (the
paper's protocol, stopped after its first epoch), so what is timed is exactly a run's first
epoch: `seconds` of its metrics.jsonl (training, evaluation and the epoch's bookkeeping; the data
is loaded before). With --base, fresh processes alternate between the two trees, base first,
`--rounds` times, and the ratio is taken round by round, so that the machine's drift hits both
alike. Nothing else should run meanwhile (pause long runs with `kill -TSTP PID`, go on with
`kill -CONT PID`: a run leaves the pause out of its epochs' seconds).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = {"K8": ["--K", "8"], "K64": ["--K", "64"], "K8-sample": ["--K", "8", "--selection",
                                                                    "sample"],
            "learned": ["--learned"]}


def epoch_in(tree, net, variant, data_dir, threads):
    """{"seconds": s, "train_seconds": s (where the tree records it)} of one first epoch."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "train.py", "--net", net, *VARIANTS[variant], "--epochs",
                   "200", "--time-limit", "1e-6", "--data-dir", os.path.abspath(data_dir),
                   "--out", os.path.join(out, "run"), "--no-progress"]
        env = dict(os.environ)
        if threads:
            env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} in {tree} failed:\n{done.stderr[-2000:]}")
        with open(os.path.join(out, "run", "metrics.jsonl")) as file:
            first = json.loads(file.readline())
    return {key: first[key] for key in ("seconds", "train_seconds") if key in first}


def describe(tree):
    return subprocess.run(["git", "-C", tree, "log", "-1", "--format=%h %s"],
                          capture_output=True, text=True).stdout.strip()[:72] or tree


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default="data", help="where CIFAR-10 is (as train.py's)")
    p.add_argument("--base", help="a checkout of another version to time against")
    p.add_argument("--net", default="conv2", choices=["conv2", "conv4", "conv6"])
    p.add_argument("--variants", nargs="+", default=["K8"], choices=sorted(VARIANTS))
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--threads", type=int, help="OMP_NUM_THREADS of each run (default: all)")
    p.add_argument("--out", default=os.path.join(HERE, "bench", "epoch.json"))
    args = p.parse_args()
    trees = [("base", args.base)] if args.base else []
    trees.append(("this", HERE))
    rows = []
    for variant in args.variants:
        row = dict(net=args.net, variant=variant, **{side: [] for side, _ in trees})
        for _ in range(args.rounds):
            for side, tree in trees:
                row[side].append(epoch_in(tree, args.net, variant, args.data_dir, args.threads))
                print(f"{args.net} {variant} {side}: {row[side][-1]}", flush=True)
        rows.append(row)
    with open(args.out, "w") as file:
        json.dump(dict(trees={side: describe(tree) for side, tree in trees},
                       threads=args.threads, rows=rows), file, indent=1)
    print(f"\n{args.threads or os.cpu_count()} threads; " +
          "; ".join(f"{side}: {describe(tree)}" for side, tree in trees) + "\n")
    header = "| net | variant | " + " | ".join(f"{side}: epoch s (training s)"
                                               for side, _ in trees)
    print(header + (" | this / base (range) |" if args.base else " |"))
    print("|---" * (2 + len(trees) + bool(args.base)) + "|")
    for row in rows:
        cells = []
        for side, _ in trees:
            seconds = statistics.median(e["seconds"] for e in row[side])
            training = [e["train_seconds"] for e in row[side] if "train_seconds" in e]
            cells.append(f"{seconds:.1f}" + (f" ({statistics.median(training):.1f})"
                                             if training else ""))
        if args.base:
            ratios = [t["seconds"] / b["seconds"] for b, t in zip(row["base"], row["this"])]
            cells.append(f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}-"
                         f"{max(ratios):.2f})")
        print(f"| {row['net']} | {row['variant']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
