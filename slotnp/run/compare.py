"""Several runs on one figure: a metric of their metrics.jsonl per epoch (validation accuracy by
default), each run's best validation epoch marked, and its result (test accuracy there) in the
legend. Runs of different protocols (the paper's, the authors') or of different lengths side
by side; finished or still training.

  python -m slotnp.run.compare RUN_A RUN_B --label "paper's protocol" --label "authors'" \
      --out compare.png

A RUN is a run folder (train.py --out) or its records (results/<dataset>/runs/<name>/,
results/<dataset>/in-progress/<name>/): any folder with a metrics.jsonl.
"""
import argparse
import json
import os
import sys

from .collate import best_epoch, epochs_so_far
from .plot import Chart, save_figure, series_style

METRICS = {"val_acc": "validation accuracy (%)", "test_acc": "test accuracy (%)",
           "train_acc": "training accuracy (%)", "train_loss": "training loss",
           "selection_changed": "selections changed (%)"}
PERCENT = ("val_acc", "test_acc", "train_acc", "selection_changed")


class CompareError(ValueError):
    """Input the comparison cannot draw, told in one line."""


def read_run(folder):
    """(epochs, N): the run's metrics entries in order and the epochs its config.json trains
    (None without one)."""
    path = os.path.join(folder, "metrics.jsonl")
    if not os.path.isfile(path):
        raise CompareError(f"{folder} has no metrics.jsonl: give a run folder (train.py --out) "
                           "or its records (results/<dataset>/runs/<name>)")
    epochs = []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    epochs.append(json.loads(line))
                except json.JSONDecodeError:
                    raise CompareError(f"{path}, line {number}, is not JSON: the file is "
                                       "damaged; restore it from the run's records") from None
    if not epochs:
        raise CompareError(f"{path} records no epoch yet: compare the run once it has "
                           "trained one")
    so_far = epochs_so_far(folder)
    return epochs, None if so_far is None else so_far[1]


def result_text(epochs, total):
    """'76.96% (epoch 200 of 200)': the test accuracy at the best validation epoch so far."""
    best = best_epoch(epochs)
    test = "no test" if best.get("test_acc") is None else f"{100 * best['test_acc']:.2f}%"
    of = "" if total is None else f" of {total}"
    return f"{test} at epoch {best['epoch']} ({len(epochs)}{of} epochs)"


def series(epochs, metric):
    """(epochs, values) where the metric was recorded; accuracies and shares in %."""
    pairs = [(e["epoch"], e[metric]) for e in epochs if e.get(metric) is not None]
    scale = 100.0 if metric in PERCENT else 1.0
    return [x for x, _ in pairs], [scale * v for _, v in pairs]


def compare_figure(path, runs, metric="val_acc", title=""):
    """Draw `metric` per epoch of runs [(label, epochs, total)], a line each, and a point at
    each run's best validation epoch; the legend gives each run's result."""
    drawn = [(label, epochs, total, *series(epochs, metric)) for label, epochs, total in runs]
    if not any(xs for *_, xs, _ in drawn):
        raise CompareError(f"no run recorded {metric}; choose another --metric")
    last = max(x for *_, xs, _ in drawn for x in xs)
    # the last nine tenths of each run set the y range, so the plateaus are readable
    values = [v for *_, ys in drawn for v in ys[len(ys) // 10:]]
    low, high = min(values), max(values)
    if metric in PERCENT:
        high = min(100.0, high)

    def plot(image):
        chart = Chart(image, (150, 90, 1360, 760), (0, last), (low, high), title, "epoch",
                      METRICS[metric])
        for i, (label, epochs, total, xs, ys) in enumerate(drawn):
            colour, dashed = series_style(i)
            chart.line(xs, ys, colour, f"{label}: {result_text(epochs, total)}", dashed=dashed)
            best = best_epoch(epochs)
            if best["epoch"] in xs:
                chart.points([best["epoch"]], [ys[xs.index(best["epoch"])]], colour)
        return chart
    save_figure(path, plot)


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
    p.add_argument("--out", default="compare.png", help="the figure (PNG) to write")
    args = p.parse_args(argv)
    try:
        if args.label and len(args.label) != len(args.runs):
            raise CompareError(f"{len(args.label)} --label for {len(args.runs)} runs: give one "
                               "per run, in the runs' order, or none")
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
