"""Several runs on one figure: a metric of their metrics.jsonl per epoch (validation accuracy by
default), each run's best validation epoch marked, and its result (the test accuracy there) in
the legend. Runs of different protocols (the paper's, the authors') or of different lengths
side by side; finished or still training.

  python -m slotnp.run.compare RUN_A RUN_B --label "paper's protocol" --label "authors'" \\
      --out compare.png

A RUN is a run folder (train.py --out) or its records (results/<dataset>/runs/<name>/,
results/<dataset>/in-progress/<name>/): any folder with a metrics.jsonl.
"""
import argparse
import numbers
import os
import sys

from .collate import DamagedRecord, best_epoch, epochs_planned, epochs_recorded
from .plot import runs_figure

METRICS = {"val_acc": "validation accuracy (%)", "test_acc": "test accuracy (%)",
           "train_acc": "training accuracy (%)", "train_loss": "training loss",
           "selection_changed": "selections changed (%)"}
PERCENT = ("val_acc", "test_acc", "train_acc", "selection_changed")


class CompareError(ValueError):
    """Input the comparison cannot draw, told in one line."""


def read_run(folder):
    """(epochs, N): the run's metrics entries in order, each with its validation accuracy, and
    the epochs its config.json trains (None without one)."""
    if not os.path.isfile(os.path.join(folder, "metrics.jsonl")):
        raise CompareError(f"{folder} has no metrics.jsonl: give a run folder (train.py --out) "
                           "or its records (results/<dataset>/runs/<name>)")
    try:
        epochs, planned = epochs_recorded(folder), epochs_planned(folder)
    except DamagedRecord as error:
        raise CompareError(str(error)) from None
    if not epochs:
        raise CompareError(f"{folder}/metrics.jsonl records no epoch yet: compare the run once "
                           "it has trained one")
    for number, epoch in enumerate(epochs, 1):
        if not isinstance(epoch.get("epoch"), int) or \
                not isinstance(epoch.get("val_acc"), numbers.Real):
            raise CompareError(f"{folder}/metrics.jsonl, entry {number}, has no epoch number "
                               "or no validation accuracy: compare runs that keep a validation "
                               "split (their best epoch is chosen by it)")
    return epochs, planned


def result_text(epochs, total):
    """'test 76.96% at epoch 200 (200 of 200 epochs)': the test accuracy at the best validation
    epoch so far."""
    best = best_epoch(epochs)
    test = "no test" if best.get("test_acc") is None else f"test {100 * best['test_acc']:.2f}%"
    of = "" if total is None else f" of {total}"
    return f"{test} at epoch {best['epoch']} ({len(epochs)}{of} epoch{'s' * (len(epochs) > 1)})"


def series(epochs, metric):
    """(epochs, values) where the metric was recorded; accuracies and shares in %."""
    pairs = [(e["epoch"], e[metric]) for e in epochs if isinstance(e.get(metric), numbers.Real)]
    scale = 100.0 if metric in PERCENT else 1.0
    return [x for x, _ in pairs], [scale * v for _, v in pairs]


def compare_figure(path, runs, metric="val_acc", title=""):
    """Draw `metric` per epoch of runs [(label, epochs, total)] (plot.runs_figure): a line each
    (runs without the metric are left out), a point at each run's best validation epoch, each
    run's result in the legend."""
    drawn = []
    for label, epochs, total in runs:
        xs, ys = series(epochs, metric)
        best = best_epoch(epochs)["epoch"]
        if xs:
            drawn.append((f"{label}: {result_text(epochs, total)}", xs, ys,
                          best if best in xs else None))
    if not drawn:
        raise CompareError(f"no run recorded {metric}; choose another --metric")
    try:
        runs_figure(path, drawn, METRICS[metric], title)
    except OSError as error:
        raise CompareError(f"could not write {path} ({error.strerror or error}): give --out a "
                           "writable .png path") from None


def main(argv=None):
    """python -m slotnp.run.compare: several runs' curves on one figure."""
    p = argparse.ArgumentParser(prog="python -m slotnp.run.compare",
                                description=main.__doc__.split(": ", 1)[1])
    p.add_argument("runs", nargs="+", metavar="RUN", help="folders with a metrics.jsonl")
    p.add_argument("--label", action="append", default=[],
                   help="a run's name in the legend, once per RUN in order (default: the "
                        "folder's name)")
    p.add_argument("--metric", choices=list(METRICS), default="val_acc")
    p.add_argument("--title", default="")
    p.add_argument("--out", default="compare.png", help="the figure to write (.png)")
    args = p.parse_args(argv)
    try:
        if args.label and len(args.label) != len(args.runs):
            raise CompareError(f"{len(args.label)} --label for {len(args.runs)} runs: give one "
                               "per run, in the runs' order, or none")
        if not args.out.lower().endswith(".png"):
            raise CompareError(f"--out {args.out!r} is not a .png file: name the figure "
                               "something.png")
        folder = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(folder):
            raise CompareError(f"the folder of --out, {folder}, does not exist: create it first")
        labels = args.label or [os.path.basename(os.path.normpath(run)) for run in args.runs]
        runs = [(label, *read_run(run)) for label, run in zip(labels, args.runs)]
        compare_figure(args.out, runs, args.metric, args.title)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for label, epochs, total in runs:
        print(f"{label}: {result_text(epochs, total)}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
