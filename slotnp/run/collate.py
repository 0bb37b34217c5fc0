"""Collation: a grid's recorded runs (results/<dataset>/runs/<run>/) into tables and figures
beside them, results/<dataset>/<name>.md (and <name>-summary.md, <name>.png), mean +- std over
seeds beside the paper's values.

A run counts as recorded when its records' configuration is the run's as this slotnp makes it
(`current`) and it ran all its epochs (`recorded`). sweep.py runs the grids; this file reads
what they recorded.
"""
import json
import os

import numpy as np

from ..core import init

# The paper's Lenet-300-100 MNIST test accuracies (%), read off its K-sweep figures.
PAPER_MNIST = {
    "greedy": {2: 97.15, 4: 98.0, 8: 98.2, 16: 98.18, 32: 98.18, 64: 98.17},
    "sample": {2: 97.07, 4: 97.83, 8: 97.84, 16: 97.87, 32: 98.02, 64: 97.84},
    "learned": 97.95,
}


def current(folder, run):
    """Whether the run in `folder` (its config.json) is `run` as this slotnp makes it: the same
    configuration, and slot options drawn as this slotnp draws them (a run from before options
    version 2 is trained again rather than counted or resumed)."""
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        return False
    with open(path) as file:
        config = json.load(file)
    if config.get("slot") and config.get("options_version") != init.OPTIONS_VERSION:
        return False
    expected = run.config()
    return all(config.get(key) == value for key, value in expected.items())


def records_of(results_dir, run):
    """The folder of a run's records: results/<dataset>/runs/<run name>/."""
    return os.path.join(results_dir, run.dataset, "runs", run.name)


def recorded(results_dir, run):
    """The recorded result.json of a finished run, or None."""
    folder = records_of(results_dir, run)
    path = os.path.join(folder, "result.json")
    if not os.path.isfile(path) or not current(folder, run):
        return None
    with open(path) as file:
        result = json.load(file)
    return result if result.get("epochs_run") == result.get("epochs") else None


def paper_value(run):
    """The paper's MNIST figure for a run's configuration (%), or None."""
    if run.net != "lenet" or run.shared or run.finetune_of is not None or run.keep is not None \
            or run.epochs not in (None, 200):
        return None
    if run.learned:
        return PAPER_MNIST["learned"]
    return PAPER_MNIST[run.selection].get(run.K)


def collate(runs, results_dir):
    """One row per group of runs (all but the seed): dicts with the group's first run, the
    recorded seeds' test accuracies (%), their mean and std, minutes, and other evaluations."""
    rows, index = [], {}
    for run in runs:
        if run.group not in index:
            index[run.group] = len(rows)
            rows.append(dict(run=run, tests=[], minutes=[], seeds=[], modes={}))
        result = recorded(results_dir, run)
        if result is None:
            continue
        row = rows[index[run.group]]
        row["tests"].append(100 * result["test_acc"])
        row["minutes"].append(result["wall_minutes"])
        row["seeds"].append(run.seed)
        for mode, best in (result.get("by_eval_mode") or {}).items():
            row["modes"].setdefault(mode, []).append(100 * best["test_acc"])
        row["eval"] = result.get("eval_mode")
        row["epochs"] = result.get("epochs")
        row["draws"] = result.get("eval_draws")
    for row in rows:
        tests = np.array(row["tests"])
        row["mean"] = float(tests.mean()) if len(tests) else None
        row["std"] = float(tests.std(ddof=1)) if len(tests) > 1 else 0.0
    return rows


def describe(run):
    if run.finetune_of is not None:
        return f"{describe(run.finetune_of)}, fine-tuned"
    if run.keep is not None:
        return f"edge-popup, {100 * run.keep:g}% of the weights kept"
    if run.learned:
        return "learned weights" + (", inputs in [0, 1]" if run.normalise == "none" else "")
    how = {"greedy": "GS", "sample": "PS"}[run.selection]
    shared = ", shared" if run.shared else ""
    inputs = ", inputs in [0, 1]" if run.normalise == "none" else ""
    scores = "" if run.score_bound is None else f", scores U(0, {run.score_bound:g} sigma)"
    return f"{how}, K = {run.K}{shared}, bound {run.option_bound:g}{scores}{inputs}"


def accuracy_cell(row):
    """'**mean** +- std (seeds)' of a collated row, or 'not run yet'."""
    if row["mean"] is None:
        return "not run yet"
    seeds = len(row["tests"])
    spread = f" +- {row['std']:.2f}" if seeds > 1 else ""
    return f"**{row['mean']:.2f}**{spread} ({seeds})"


def minutes_cell(row):
    """The mean wall time of a collated row's runs in minutes, or '-'."""
    return f"{np.mean(row['minutes']):.1f}" if row["minutes"] else "-"


def summary_markdown(rows):
    """The README's form of a Lenet grid with one configuration per selection: K against GS
    and PS beside the paper's values, then every other configuration; None for other grids."""
    lenet = [r for r in rows if r["run"].net == "lenet"]
    plain = [r for r in lenet if r["run"].K is not None and not r["run"].shared
             and r["run"].finetune_of is None]
    by_point = {(r["run"].selection, r["run"].K): r for r in plain}
    if not plain or len(by_point) < len(plain):
        return None
    lines = ["| K | GS, slotnp | GS, paper | PS, slotnp | PS, paper | PS: expected weight, "
             "argmax |", "|---|---|---|---|---|---|"]
    missing = dict(mean=None, tests=[], modes={})
    for K in sorted({k for _, k in by_point}):
        greedy, sampled = (by_point.get((how, K), missing) for how in ("greedy", "sample"))
        modes = ", ".join(f"{np.mean(sampled['modes'][m]):.2f}" for m in ("expected", "argmax")
                          if m in sampled["modes"]) or "-"
        paper = [f"{PAPER_MNIST[how][K]:.2f}" if K in PAPER_MNIST[how] else "-"
                 for how in ("greedy", "sample")]
        lines.append(f"| {K} | {accuracy_cell(greedy)} | {paper[0]} | {accuracy_cell(sampled)} "
                     f"| {paper[1]} | {modes} |")
    others = [r for r in lenet if r not in plain]
    if others:
        lines += ["", "| configuration | test acc. (seeds) | minutes | paper |",
                  "|---|---|---|---|"]
        for row in others:
            run = row["run"]
            minutes = minutes_cell(row)
            if run.finetune_of is not None:
                paper = "above learned weights: fine-tuning 'often improves performance over " \
                        "the trained baselines'"
            else:
                value = paper_value(run)
                paper = "-" if value is None else f"{value:.2f}"
            lines.append(f"| {describe(run)} | {accuracy_cell(row)} | {minutes} | {paper} |")
    return "\n".join(lines) + "\n"


def write_collation(runs, results_dir, name="sweep"):
    """results/<dataset>/<name>.md, and for grids of the paper's form <name>-summary.md (the
    README's table) and <name>.png, beside the runs' records; the paths of the table and the
    figure (None when there is nothing to draw)."""
    rows = collate(runs, results_dir)
    lines = ["# Sweep results", "",
             "Test accuracy (%) at the best validation epoch, mean +- std over seeds, as "
             "collated by `sweep.py` from the records in this folder. Sampled (PS) nets are "
             "evaluated as `eval` says; their other evaluation modes, each at its own best "
             "validation epoch, follow. Minutes: mean wall time per run.", "",
             "| net | configuration | weight decay | epochs | test acc. | seeds | minutes | "
             "paper | other evaluations |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        run = row["run"]
        accuracy = "not run yet" if row["mean"] is None else \
            f"**{row['mean']:.2f}** +- {row['std']:.2f}"
        paper = paper_value(run)
        others = ", ".join(f"{mode} {np.mean(v):.2f}" for mode, v in row["modes"].items()
                           if mode != row.get("eval"))
        evaluation = ""
        if row.get("eval"):
            evaluation = f"eval {row['eval']}" + (f" ({row['draws']} draws)" if row.get("draws")
                                                  else "")
            others = "; ".join(t for t in (evaluation, others) if t)
        minutes = minutes_cell(row)
        lines.append(f"| {run.net} | {describe(run)} | {run.weight_decay:g} | "
                     f"{row.get('epochs') or run.epochs or '-'} | {accuracy} | {len(row['tests'])} | "
                     f"{minutes} | "
                     f"{'-' if paper is None else f'{paper:.2f}'} | {others or '-'} |")
    folder = os.path.join(results_dir, runs[0].dataset)
    os.makedirs(folder, exist_ok=True)
    table = os.path.join(folder, f"{name}.md")
    with open(table, "w") as file:
        file.write("\n".join(lines) + "\n")
    summary = summary_markdown(rows)
    if summary is not None:
        with open(os.path.join(folder, f"{name}-summary.md"), "w") as file:
            file.write(summary)
    figure = os.path.join(folder, f"{name}.png")
    return table, figure if draw_figure(rows, figure) else None


def band(label, rows):
    """(label with the seed count, mean, std) over every seed of `rows`, or None."""
    tests = [t for r in rows for t in r["tests"]]
    if not tests:
        return None
    return (f"{label} ({len(tests)} seeds, +- std)", float(np.mean(tests)),
            float(np.std(tests, ddof=1)) if len(tests) > 1 else 0.0)


def draw_figure(rows, path):
    """sweep.png from the collated Lenet rows: one series per slot configuration (all but K),
    the paper's points beside GS and PS, learned weights and edge-popup's best kept fraction as
    bands; a grid of edge-popup alone draws accuracy against the kept fraction. False if
    nothing to draw."""
    lenet = [r for r in rows if r["run"].net == "lenet" and r["mean"] is not None]
    popup = sorted((r for r in lenet if r["run"].keep is not None), key=lambda r: r["run"].keep)
    learned = band("slotnp learned weights", [r for r in lenet if r["run"].learned])
    best = max(popup, key=lambda r: r["mean"], default=None)
    series, paper = {}, []
    for row in lenet:
        run = row["run"]
        if run.learned or run.finetune_of is not None or run.shared or run.keep is not None:
            continue
        how = {"greedy": "GS", "sample": "PS"}[run.selection]
        label = f"slotnp {how}, bound {run.option_bound:g}, wd {run.weight_decay:g}" + \
            ("" if run.score_bound is None else f", scores {run.score_bound:g}") + \
            (", inputs [0, 1]" if run.normalise == "none" else "")
        series.setdefault(label, (run.selection, []))[1].append(
            (run.K, row["mean"], row["std"], len(row["tests"])))
    from .plot import fraction_figure, k_sweep_figure
    if not series and popup:
        fraction_figure(path, [r["run"].keep for r in popup], [r["mean"] for r in popup],
                        [r["std"] for r in popup], [b for b in (learned,) if b],
                        "Edge-popup on Lenet 300-100, MNIST: test accuracy at the best "
                        "validation epoch")
        return True
    if not series:
        return False
    drawn = []
    for label, (selection, points) in series.items():
        points.sort()
        seeds = min(n for *_, n in points)
        drawn.append((f"{label} ({seeds}+ seeds)", [p[0] for p in points],
                      [p[1] for p in points], [p[2] for p in points]))
        values = PAPER_MNIST[selection]
        paper.append((f"paper {'GS' if selection == 'greedy' else 'PS'}", sorted(values),
                      [values[k] for k in sorted(values)]))
    bands = [learned] if learned else []
    if best is not None:
        bands.append(band(f"edge-popup, {100 * best['run'].keep:g}% kept (its best)", [best]))
    k_sweep_figure(path, drawn, paper, bands, ("paper, learned weights", PAPER_MNIST["learned"]),
                   "Lenet 300-100 on MNIST: test accuracy at the best validation epoch")
    return True


