"""Collation: a grid's recorded runs (results/<dataset>/runs/<run>/) into tables and figures
beside them, results/<dataset>/<name>.md (and <name>-summary.md, <name>.png), mean +- std over
seeds beside the paper's values.

A run counts as recorded when its records' configuration is the run's as this slotnp makes it
(`current`) and it ran all its epochs (`recorded`). sweep.py runs the grids; this file reads
what they recorded.
"""
import collections
import json
import os

import numpy as np

from ..core import init
from . import compat
from .config import AUTHORS_EPOCHS, AUTHORS_PROTOCOL, DEFAULT_SCORE_BOUND, VARIATIONS, \
    authors_lr, bias_lr_default, default_weight_decay, paper_lr, variation_default, \
    variation_text

# The paper's test accuracies (%), read off its K-sweep figures (about +-0.2 on MNIST, +-0.3
# on CIFAR-10; learned weights are drawn there as a band).
PAPER_MNIST = {
    "greedy": {2: 97.15, 4: 98.0, 8: 98.2, 16: 98.18, 32: 98.18, 64: 98.17},
    "sample": {2: 97.07, 4: 97.83, 8: 97.84, 16: 97.87, 32: 98.02, 64: 97.84},
    "learned": 97.95,
}
PAPER = {
    "lenet": PAPER_MNIST,
    "conv2": {"greedy": {2: 75.2, 4: 77.8, 8: 78.1, 16: 78.2, 32: 77.8, 64: 77.5},
              "sample": {2: 70.2, 4: 70.5, 8: 71.6, 16: 71.7, 32: 71.0, 64: 70.9},
              "learned": 79.3},
    "conv4": {"greedy": {2: 81.8, 4: 85.7, 8: 86.0, 16: 86.4, 32: 86.3, 64: 85.1},
              "sample": {2: 78.9, 4: 80.2, 8: 79.5, 16: 79.1, 32: 79.3, 64: 79.4},
              "learned": 86.5},
    "conv6": {"greedy": {2: 85.2, 4: 87.9, 8: 88.4, 16: 88.1, 32: 88.1, 64: 87.7},
              "sample": {2: 81.7, 4: 81.6, 8: 81.2, 16: 80.7, 32: 80.9, 64: 80.5},
              "learned": 88.0},
}
NAMES = {"lenet": "Lenet 300-100", "conv2": "CONV-2", "conv4": "CONV-4", "conv6": "CONV-6",
         "vgg19": "VGG-19"}
DATASETS = {net: "MNIST" if net == "lenet" else "CIFAR-10" for net in NAMES}
TITLES = {net: f"{name} on {DATASETS[net]}" for net, name in NAMES.items()}
FULL_EPOCHS = {"lenet": 200, "conv2": 200, "conv4": 200, "conv6": 200}


def current(folder, run):
    """Whether the run in `folder` (its config.json) is `run` as this slotnp makes it: the same
    configuration, and slot options drawn as this slotnp draws them (a run from before options
    version 2 is trained again rather than counted or resumed)."""
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        return False
    config = read_record(path)
    if config.get("slot") and config.get("options_version") != init.OPTIONS_VERSION:
        return False
    ran = compat.completed(config)     # a key the run predates: as it ran (biases' rate: lr)
    return all(ran.get(key) == value for key, value in run.config().items())


def records_of(results_dir, run):
    """The folder of a run's records: results/<dataset>/runs/<run name>/."""
    return os.path.join(results_dir, run.dataset, "runs", run.name)


def progress_of(results_dir, run):
    """The folder of an unfinished run's records so far: results/<dataset>/in-progress/<name>/."""
    return os.path.join(results_dir, run.dataset, "in-progress", run.name)


class DamagedRecord(ValueError):
    """A run's metrics.jsonl, config.json or result.json that cannot be read, in one line."""


def read_record(path):
    """The JSON object that a run's config.json or result.json holds; DamagedRecord, naming
    the file, where it holds none (cut short by a full disk or a kill while written)."""
    try:
        with open(path) as file:
            value = json.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError):
        value = None
    if not isinstance(value, dict):
        raise DamagedRecord(f"{path} is not a run's JSON record: the file is damaged; restore it "
                            "from the run's records, or delete that run's record (or its "
                            "folder) to run it again")
    return value


def epochs_recorded(folder):
    """The epochs of the metrics.jsonl in `folder`, as dicts in order ([] if none); a line that
    is not a JSON object raises DamagedRecord, which names it."""
    path = os.path.join(folder, "metrics.jsonl")
    if not os.path.isfile(path):
        return []
    epochs = []
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if line.strip():
                try:
                    epochs.append(json.loads(line))
                except json.JSONDecodeError:
                    epochs.append(None)
                if not isinstance(epochs[-1], dict):
                    raise DamagedRecord(f"{path}, line {number}, is not an epoch's JSON "
                                        "object: the file is damaged; restore it from the "
                                        "run's records")
    return epochs


def epochs_planned(folder):
    """The epochs a run's config.json trains, or None where it has none (or says none)."""
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        return None
    epochs = read_record(path).get("epochs")
    return epochs if isinstance(epochs, int) else None


def epochs_so_far(folder):
    """(E, N): the epochs a run's folder has recorded and the epochs its config.json trains;
    None where it has recorded none."""
    epochs, planned = epochs_recorded(folder), epochs_planned(folder)
    if not epochs or planned is None:
        return None
    return len(epochs), planned


def recorded(results_dir, run):
    """The recorded result.json of a finished run, or None."""
    folder = records_of(results_dir, run)
    path = os.path.join(folder, "result.json")
    if not os.path.isfile(path) or not current(folder, run):
        return None
    result = read_record(path)
    return result if result.get("epochs_run") == result.get("epochs") else None


def paper_value(run):
    """The paper's figure for a run's configuration (%), or None (none for other protocols:
    shared options, fine-tuning, edge-popup, fewer epochs, a departure from the paper's text
    other than the authors' code's whole protocol)."""
    if run.net not in PAPER or run.shared or run.finetune_of is not None or \
            run.keep is not None:
        return None
    papers = run.epochs in (None, FULL_EPOCHS.get(run.net)) and not run.variations
    if not papers and not authors_protocol(run):
        return None
    if run.learned:
        return PAPER[run.net]["learned"]
    return PAPER[run.net][run.selection].get(run.K)


def authors_protocol(run):
    """Whether a CONV-2 run is trained as the authors' released code trains it (config.py's
    AUTHORS_PROTOCOL, epochs and rates; slot scores started U(0, the option bound * sigma))."""
    method = "learned" if run.learned else run.selection
    lr = authors_lr(None if run.learned else run.selection, run.K)
    wanted = dict(AUTHORS_PROTOCOL, **({} if lr is None else {"lr": lr}))
    return run.net == "conv2" and run.epochs == AUTHORS_EPOCHS.get(method) and \
        dict(run.variations, weight_decay=run.weight_decay) == wanted and \
        (run.learned or run.score_bound == run.option_bound)    # scores U(0, the options' bound)


def protocol(run):
    """', N epochs' where a run is shorter than the paper's protocol, else ''."""
    if run.epochs is None or run.epochs == FULL_EPOCHS.get(run.net):
        return ""
    return ", untrained (0 epochs)" if run.epochs == 0 else f", {run.epochs} epochs"


def collate(runs, results_dir):
    """One row per group of runs (all but the seed): dicts with the group's first run, the
    recorded seeds' test accuracies (%), their mean and std, minutes, and other evaluations."""
    rows, index = [], {}
    for run in runs:
        if run.group not in index:
            index[run.group] = len(rows)
            rows.append(dict(run=run, tests=[], minutes=[], seeds=[], modes={}, derived=0,
                             training=[]))
        result = recorded(results_dir, run)
        if result is None:
            folder = progress_of(results_dir, run)    # unfinished: its epochs so far, of N
            counts = epochs_so_far(folder) if current(folder, run) else None
            if counts is not None:
                rows[index[run.group]]["training"].append(counts)
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
        row["derived"] += bool(result.get("derived_from"))   # from a longer run's first epochs
    for row in rows:
        tests = np.array(row["tests"])
        row["mean"] = float(tests.mean()) if len(tests) else None
        row["std"] = float(tests.std(ddof=1)) if len(tests) > 1 else 0.0
    return rows


def derived_text(derived, seeds):
    """What a row's configuration says of its seeds recorded from full runs' first epochs."""
    if not derived:
        return ""
    if derived == 1 == seeds:
        return " (the first epochs of the full run)"
    return f" ({'all' if derived == seeds else f'{derived} of {seeds}'} seeds: the first " \
        "epochs of the full runs)"


# A run's variations (run/config.py's VARIATIONS) in words, beside its description.
VARIATION_WORDS = {("padding", "authors"): "leading convolutions unpadded",
                   ("schedule", "constant"): "a constant rate",
                   ("dropout_at", "before"): "dropout before FC1 and FC2",
                   ("bias", "learned"): "learned biases",
                   ("augment", "crop-flip"): "random crops and flips",
                   ("augment", "flip"): "flips only", ("augment", "none"): "no augmentation"}


def decay_text(run):
    """', weight decay 0' where a run's departs from train.py's default (the README's tables,
    which have no column for it), else ''."""
    default = default_weight_decay(None if run.learned else run.selection)
    return "" if run.weight_decay == default else f", weight decay {run.weight_decay:g}"


def scores_text(run):
    """', scores U(0, b sigma)' (or lambda) where a slot run's initial scores depart from
    train.py's default for its selection (the README's tables, which have no column for them),
    else ''."""
    default = run.option_bound if DEFAULT_SCORE_BOUND[run.selection] == "options" else None
    if run.score_bound == default:
        return ""
    return ", scores lambda" if run.score_bound is None else \
        f", scores U(0, {run.score_bound:g} sigma)"


def variations_text(run):
    """', leading convolutions unpadded, lr 0.1', ...: what departs from the paper's protocol."""
    return "".join(f", lr {variation_text(key, value)}" if key == "lr" else
                   f" at lr {variation_text(key, value)}" if key == "bias_lr" else   # (biases)
                   f", {VARIATION_WORDS[key, value]}" for key, value in run.variations.items())


def describe(run):
    if run.finetune_of is not None:
        return f"{describe(run.finetune_of)}, fine-tuned {run.epochs} epochs" \
            if run.epochs is not None else f"{describe(run.finetune_of)}, fine-tuned"
    if run.keep is not None:
        return f"edge-popup, {100 * run.keep:g}% of the weights kept"
    varied = variations_text(run)
    if run.learned:
        return "learned weights" + (", inputs in [0, 1]" if run.normalise == "none" else "") \
            + varied + protocol(run)
    how = {"greedy": "GS", "sample": "PS"}[run.selection]
    shared = ", shared network-wide" if run.shared == "network" else \
        ", shared" if run.shared else ""
    inputs = ", inputs in [0, 1]" if run.normalise == "none" else ""
    scores = "" if run.score_bound is None else f", scores U(0, {run.score_bound:g} sigma)"
    return f"{how}, K = {run.K}{shared}, bound {run.option_bound:g}{scores}{inputs}" + \
        varied + protocol(run)


def accuracy_cell(row, minutes=False):
    """'**mean** +- std (seeds)' of a collated row ('(seeds; minutes min)' with `minutes`: the
    mean wall time of a run), else 'in progress (E of N epochs)' or 'not run yet'."""
    if row["mean"] is None:
        return unfinished_cell(row)
    seeds = len(row["tests"])
    spread = f" +- {row['std']:.2f}" if seeds > 1 else ""
    took = f"; {minutes_cell(row)} min" if minutes else ""
    return f"**{row['mean']:.2f}**{spread} ({seeds}{took})"


def unfinished_cell(row):
    """A row with no finished seed: 'in progress (E of N epochs)', the furthest seed's records
    so far (training or paused), or 'not run yet'."""
    if row.get("training"):
        return "in progress ({} of {} epochs)".format(*max(row["training"]))
    return "not run yet"


def minutes_cell(row):
    """The mean wall time of a collated row's runs in minutes, or '-'."""
    return f"{np.mean(row['minutes']):.1f}" if row["minutes"] else "-"


def by_net(rows):
    """A grid's collated rows by net, the nets in the grid's order: {net: rows}."""
    nets = {}
    for row in rows:
        nets.setdefault(row["run"].net, []).append(row)
    return nets


def titled(run, runs):
    """The net's name before a run's description where `runs` span several nets, else ''."""
    return f"{NAMES[run.net]}, " if len({r.net for r in runs}) > 1 else ""


def nets_title(runs):
    """"CONV-2 on CIFAR-10", or "CONV-4 and CONV-6 on CIFAR-10" for runs of several nets."""
    nets = list(dict.fromkeys(run.net for run in runs))
    if len(nets) == 1:
        return TITLES.get(nets[0], nets[0])
    return " and ".join(NAMES[net] for net in nets) + f" on {DATASETS[nets[0]]}"


def summary_markdown(rows):
    """The README's form of a grid (net_summary_markdown), one table per net under its title
    where the grid has several nets; None where no net's rows have that form."""
    nets = by_net(rows)
    parts = {net: net_summary_markdown(net_rows) for net, net_rows in nets.items()}
    if len(nets) == 1:
        return parts[rows[0]["run"].net]
    return "\n".join(f"**{TITLES[net]}**\n\n{part}" for net, part in parts.items()
                     if part is not None) or None


def net_summary_markdown(rows):
    """The README's form of one net's rows with one configuration per selection and K: K
    against GS and PS beside the paper's values, then every other configuration; None for
    other grids."""
    net = rows[0]["run"].net
    plain = [r for r in rows if r["run"].K is not None and not r["run"].shared
             and r["run"].finetune_of is None and r["run"].epochs != 0]
    by_point = {(r["run"].selection, r["run"].K): r for r in plain}
    if not plain or len(by_point) < len(plain) or net not in PAPER:
        return None
    # the columns of the selections the grid has runs of, each with its protocol
    first = {}
    for row in plain:
        first.setdefault(row["run"].selection, row["run"])
    short = {how: protocol(run) + decay_text(run) + scores_text(run) + variations_text(run)
             for how, run in first.items()}
    selections = [(how, label) for how, label in (("greedy", "GS"), ("sample", "PS"))
                  if how in first]
    header = ["K"] + [f"{label}, {source}" for how, label in selections
                      for source in (f"slotnp{short[how]} (seeds; minutes)", "paper")]
    sampled_any = selections[-1][0] == "sample"
    header += ["PS: expected weight, argmax"] * sampled_any
    lines = [f"| {' | '.join(header)} |", "|---" * len(header) + "|"]
    for K in sorted({k for _, k in by_point}):
        # a point the grid has no run of: "-" (not "not run yet", which the grid would run)
        cells = [(accuracy_cell(by_point[how, K], True) if (how, K) in by_point else "-") +
                 " | " + (f"{PAPER[net][how][K]:.2f}" if K in PAPER[net][how] else "-")
                 for how, _ in selections]
        if sampled_any:
            sampled = by_point.get(("sample", K), {"modes": {}})
            cells.append(", ".join(f"{np.mean(sampled['modes'][m]):.2f}"
                                   for m in ("expected", "argmax") if m in sampled["modes"])
                         or "-")
        lines.append(f"| {K} | {' | '.join(cells)} |")
    others = [r for r in rows if r not in plain]
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
            lines.append(f"| {describe(run)}{decay_text(run)} | {accuracy_cell(row)} | {minutes} "
                         f"| {paper} |")
    gaps = gap_text(plain, [r for r in others if r["run"].learned])
    return "\n".join(lines + ([""] + gaps if gaps else [])) + "\n"


def gap_text(slot_rows, learned_rows):
    """'Slot machine minus learned weights' for each recorded slot point of a grid, in points,
    beside the paper's gap where the protocol is the paper's: a list of one line, or []."""
    learned = next((r for r in learned_rows if r["mean"] is not None), None)
    if learned is None:
        return []
    paper_learned = paper_value(learned["run"])
    gaps = []
    for row in slot_rows:
        if row["mean"] is None:
            continue
        run, label = row["run"], "GS" if row["run"].selection == "greedy" else "PS"
        paper = paper_value(run)
        beside = "" if paper is None or paper_learned is None else \
            f" (the paper: {paper - paper_learned:+.2f})"
        gaps.append(f"{label} K = {run.K} {row['mean'] - learned['mean']:+.2f}{beside}")
    seeds = {len(row["tests"]) for row in slot_rows + [learned] if row["mean"] is not None}
    over = " Each mean is over its own row's seeds." if len(seeds) > 1 else ""
    return ["Slot machine minus learned weights, in points: " + "; ".join(gaps) + "." + over] \
        if gaps else []


def write_collation(runs, results_dir, name="sweep"):
    """results/<dataset>/<name>.md, and for grids of the paper's form <name>-summary.md (the
    README's table) and <name>.png (<name>-<net>.png, one for each net, in a grid of several),
    beside the runs' records, and <name>-progress.md while runs of the grid are still training
    (progress_markdown); the paths of the table and of the figures drawn (a list)."""
    rows = collate(runs, results_dir)
    lines = ["# Sweep results", "",
             "Test accuracy (%) at the best validation epoch, mean +- std over seeds (the "
             "sample std, n - 1; none for one seed), as collated by `sweep.py` from the "
             "records in this folder. Sampled (PS) nets are "
             "evaluated as `eval` says; their other evaluation modes, each at its own best "
             "validation epoch, follow. Minutes: mean wall time per run.", "",
             "| net | configuration | weight decay | epochs | test acc. | seeds | minutes | "
             "paper | other evaluations |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        run = row["run"]
        spread = f" +- {row['std']:.2f}" if len(row["tests"]) > 1 else ""
        accuracy = unfinished_cell(row) if row["mean"] is None else \
            f"**{row['mean']:.2f}**{spread}"
        paper = paper_value(run)
        others = ", ".join(f"{mode} {np.mean(v):.2f}" for mode, v in row["modes"].items()
                           if mode != row.get("eval"))
        evaluation = ""
        if row.get("eval"):
            evaluation = f"eval {row['eval']}" + (f" ({row['draws']} draws)" if row.get("draws")
                                                  else "")
            others = "; ".join(t for t in (evaluation, others) if t)
        minutes = minutes_cell(row)
        derived = derived_text(row["derived"], len(row["tests"]))
        lines.append(f"| {run.net} | {describe(run)}{derived} | {run.weight_decay:g} | "
                     f"{row.get('epochs') or run.epochs or '-'} | {accuracy} | "
                     f"{len(row['tests'])} | {minutes} | "
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
    progress, progress_path = progress_markdown(runs, results_dir), \
        os.path.join(folder, f"{name}-progress.md")
    if progress is not None:
        with open(progress_path, "w") as file:
            file.write(progress)
    elif os.path.isfile(progress_path):                # every run has finished since
        os.remove(progress_path)
    exploration(runs, results_dir, os.path.join(folder, f"{name}.exploration.png"))
    budget(rows, os.path.join(folder, f"{name}.budget.png"))
    nets = by_net(rows)
    figures = {net: os.path.join(folder, f"{name}.png" if len(nets) == 1 else
                                 f"{name}-{net}.png") for net in nets}
    return table, [figures[net] for net, net_rows in nets.items()
                   if draw_figure(net_rows, figures[net])]


def best_epoch(epochs):
    """The metrics entry of the best validation accuracy, the first of equals (the one whose
    test accuracy was evaluated, as a new best)."""
    return max(epochs, key=lambda epoch: epoch["val_acc"])


def tested(epoch):
    """'test accuracy (epoch)' of a metrics entry, or '-' where it has none."""
    if epoch.get("test_acc") is None:
        return "-"
    return f"{100 * epoch['test_acc']:.2f} ({epoch['epoch']})"


def progress_markdown(runs, results_dir):
    """The table of the grid's runs still training, from their records so far (progress_of):
    epochs, the test accuracy at the best validation epoch so far, and among the epochs to the
    first restart once past it, beside the paper's value; None when no run of the grid is in
    progress."""
    lines = []
    for run in runs:
        folder = progress_of(results_dir, run)
        epochs = epochs_recorded(folder)
        if recorded(results_dir, run) is not None or not epochs or not current(folder, run):
            continue
        config = read_record(os.path.join(folder, "config.json"))
        restart = min(config.get("restarts") or [], default=None)
        short = best_epoch(epochs[:restart]) if restart and len(epochs) >= restart else {}
        paper = paper_value(run)
        lines.append(f"| {titled(run, runs)}{describe(run)} | {run.weight_decay:g} | "
                     f"{len(epochs)} of "
                     f"{config['epochs']} | {tested(best_epoch(epochs))} | {tested(short)} | "
                     f"{'-' if paper is None else f'{paper:.2f}'} |")
    if not lines:
        return None
    return "\n".join(["| run | weight decay | epochs | test acc. at the best validation epoch so "
                      "far (epoch) | the same to the first restart: the short protocol | "
                      "paper |",
                      "|---|---|---|---|---|---|", *lines]) + "\n"


def seeds_text(n):
    return f"{n} seed" if n == 1 else f"{n} seeds"


def band(label, rows):
    """(label with the seed count, mean, std) over every seed of `rows`, or None."""
    tests = [t for r in rows for t in r["tests"]]
    if not tests:
        return None
    spread = ", +- std" if len(tests) > 1 else ""
    return (f"{label} ({seeds_text(len(tests))}{spread})", float(np.mean(tests)),
            float(np.std(tests, ddof=1)) if len(tests) > 1 else 0.0)


def draw_figure(rows, path):
    """The figure of the collated rows of one net: one series per slot configuration
    (all but K), the paper's points beside GS and PS, learned weights and edge-popup's best kept
    fraction as bands; a grid of edge-popup alone draws accuracy against the kept fraction.
    False if nothing to draw."""
    net = rows[0]["run"].net
    if net not in PAPER:
        return False
    shown = [r for r in rows if r["mean"] is not None and r["run"].epochs != 0]
    popup = sorted((r for r in shown if r["run"].keep is not None), key=lambda r: r["run"].keep)
    learned = band("slotnp learned weights" + "".join(
        {variations_text(r["run"]) + protocol(r["run"]) for r in shown if r["run"].learned}),
        [r for r in shown if r["run"].learned])
    best = max(popup, key=lambda r: r["mean"], default=None)
    series, paper = {}, []
    for row in shown:
        run = row["run"]
        if run.learned or run.finetune_of is not None or run.keep is not None:
            continue
        how = {"greedy": "GS", "sample": "PS"}[run.selection]
        label = f"slotnp {how}, bound {run.option_bound:g}, wd {run.weight_decay:g}" + \
            ("" if run.score_bound is None else f", scores {run.score_bound:g}") + \
            (", inputs [0, 1]" if run.normalise == "none" else "") + variations_text(run) + \
            protocol(run) + \
            {False: "", True: ", shared per layer", "network": ", shared across the net"}[
                run.shared]
        series.setdefault(label, (run.selection, []))[1].append(
            (run.K, row["mean"], row["std"], len(row["tests"])))
    from .plot import fraction_figure, k_sweep_figure
    if not series and popup:
        fraction_figure(path, [r["run"].keep for r in popup], [r["mean"] for r in popup],
                        [r["std"] for r in popup], [b for b in (learned,) if b],
                        "Edge-popup on Lenet 300-100, MNIST: test accuracy at the best "
                        "validation epoch")
        return True
    # a sweep over K is drawn where there is one: a configuration at a single K (a grid of
    # epoch budgets, say) is left to the table, unless it is its selection rule's only one
    # (PS at K = 8 beside a GS sweep, or beside GS at K = 8: points beside the paper's curves)
    swept = {rule for rule, points in series.values() if len({p[0] for p in points}) > 1}
    rules = [rule for rule, _ in series.values()]               # one per configuration
    if swept:
        series = {label: (rule, points) for label, (rule, points) in series.items()
                  if rule in swept and len({p[0] for p in points}) > 1 or
                  rule not in swept and rules.count(rule) == 1}
    elif len(set(rules)) < len(rules):
        return False
    if not series:
        return False
    drawn = []
    for label, (selection, points) in series.items():
        points.sort()
        fewest, most = min(n for *_, n in points), max(n for *_, n in points)
        seeds = seeds_text(most) if fewest == most else f"{fewest}-{most} seeds"
        drawn.append((f"{label} ({seeds})", [p[0] for p in points],
                      [p[1] for p in points], [p[2] for p in points]))
    # a grid wholly of other lengths than the paper's says so in its title (a short protocol
    # where each is shorter), and the paper's length beside the paper's points
    short = {protocol(r["run"]) for r in shown} if all(protocol(r["run"]) for r in shown) else ()
    shorter = short and all(r["run"].epochs < FULL_EPOCHS[net] for r in shown)
    lengths = ", ".join(length[2:] for length in sorted(short))      # (each ", N epochs")
    theirs = f" ({FULL_EPOCHS[net]} epochs)" if short else ""
    selections = [selection for selection, _ in series.values()]
    for selection in dict.fromkeys(selections):        # once each, in its first series' colour
        values = PAPER[net][selection]
        paper.append((f"paper {'GS' if selection == 'greedy' else 'PS'}{theirs}", sorted(values),
                      [values[k] for k in sorted(values)], selections.index(selection)))
    bands = [learned] if learned else []
    if best is not None:
        bands.append(band(f"edge-popup, {100 * best['run'].keep:g}% kept (its best)", [best]))
    k_sweep_figure(path, drawn, paper, bands,
                   (f"paper, learned weights{theirs}", PAPER[net]["learned"]),
                   f"{TITLES[net]}: test accuracy at the best validation epoch" + (
                       f" ({'short protocol: ' if shorter else ''}{lengths})" if short else ""))
    return True


def exploration(runs, results_dir, path):
    """<name>.exploration.png: the share of connections whose selection changed in each epoch,
    for the grid's recorded unshared slot runs of seed 0: GS, PS's argmax, and (where recorded)
    the share of PS's connections whose two draws differ. False if there is nothing to draw."""
    panels = {}
    for run in runs:
        if run.K is None or run.shared or run.finetune_of is not None or run.seed != 0 or \
                recorded(results_dir, run) is None:
            continue
        rows = epochs_recorded(records_of(results_dir, run))  # [] for a record without one
        for panel, key in ((run.selection, "selection_changed"), ("draws", "draws_differ")):
            changed = [(r["epoch"], 100 * r[key]) for r in rows if r.get(key) is not None]
            if changed:
                panels.setdefault(panel, []).append(
                    (run, [e for e, _ in changed], [c for _, c in changed]))
    if not panels:
        return False
    titles = {"greedy": "GS", "sample": "PS, its argmax", "draws": "PS, two draws differ"}
    drawn = []
    for how, lines in sorted(panels.items(), key=lambda panel: list(titles).index(panel[0])):
        panel_runs = [run for run, *_ in lines]
        labels = [line_label(run, panel_runs) for run in panel_runs]
        # What all of a panel's lines share ("K = 8, 25 epochs", an ablation's) goes in its
        # title, once; the line that departs in nothing else is the baseline.
        heads = {line_label(run, []) for run in panel_runs}
        head = heads.pop() if len(heads) == 1 and len(panel_runs) > 1 else None
        if head:
            labels = [label[len(head) + 2:] or "baseline" for label in labels]
        # draws differ on 80-90% of the connections throughout: a linear axis of their own
        axis = ("draws differ (%)", False) if how == "draws" else \
            ("selections changed (%, log)", True)
        drawn.append((f"{nets_title(panel_runs)}, {titles[how]}" +
                      (f", {head}" if head else ""),
                      [(label, epochs, changed) for label, (_, epochs, changed)
                       in zip(labels, lines)], *axis))
    from .plot import exploration_figure
    exploration_figure(path, drawn)
    return True


def line_label(run, others):
    """'K = 8[, 25 epochs]' (the full protocol's epochs too where another line says its own),
    and where another line has that much in common with it, what sets them apart (an
    ablation's lines: the option bound, the weight decay, ...): where most of them share a
    value, only the lines that depart from it say theirs; last, its net, where theirs differ."""
    epochs = run.epochs if run.epochs is not None or all(r.epochs is None for r in others) \
        else epochs_of(run)
    label = f"K = {run.K}" + ("" if epochs is None else f", {epochs} epochs")
    twins = [r for r in others if (r.K, r.epochs) == (run.K, run.epochs)] or [run]
    apart = (("bound", lambda r: f"{r.option_bound:g}"), ("wd", lambda r: f"{r.weight_decay:g}"),
             ("scores", lambda r: "lambda" if r.score_bound is None else f"{r.score_bound:g}"),
             ("inputs", lambda r: r.normalise)) + tuple(
        ("bias lr" if key == "bias_lr" else key.split("_")[0],
         lambda r, key=key: variation_text(key, variation_of(r, key))) for key in VARIATIONS)
    for name, value in apart:
        counts = collections.Counter(value(r) for r in twins)
        (common, most), *rest = counts.most_common()
        if rest and (most == rest[0][1] or value(run) != common):
            label += f", {name} {value(run)}"
    return label + (f", {NAMES[run.net]}" if len({r.net for r in twins}) > 1 else "")


def variation_of(run, key):
    """A slot run's value of a VARIATIONS key: its own, or train.py's default (lr: the paper's
    rate)."""
    if key in run.variations:
        return run.variations[key]
    if key == "bias_lr":
        return bias_lr_default("slot", None) if "bias" in run.variations else None
    return paper_lr(run.selection, run.K) if key == "lr" else \
        variation_default(key, run.dataset)


def epochs_of(run):
    """The epochs a run trains: its own, or its net's full protocol; None if unknown."""
    return run.epochs if run.epochs is not None else FULL_EPOCHS.get(run.net)


def budget(rows, path):
    """<name>.budget.png: a grid's budget of epochs (sweep.py's `budget`) split between a slot
    machine's E epochs and fine-tuning for the rest: the slot machine alone and fine-tuned,
    against E, with learned weights over the whole budget as a band. The slot machines are
    the fine-tuned ones' configuration at every length (the full one included). False if
    there is nothing to draw."""
    tuned = sorted(((r["run"].finetune_of.epochs, r["mean"], r) for r in rows
                    if getattr(r["run"], "budget", None) is not None and r["mean"] is not None
                    and r["run"].finetune_of.epochs is not None),
                   key=lambda point: point[0])
    totals = {r["run"].budget for _, _, r in tuned}
    if not tuned or len(totals) != 1:
        return False
    total, source = totals.pop(), tuned[0][2]["run"].finetune_of

    def same(run):                    # the source's configuration, at any number of epochs
        return {k: v for k, v in run.config().items() if k not in ("epochs", "seed")} == \
            {k: v for k, v in source.config().items() if k not in ("epochs", "seed")}
    slots = [r for r in rows if r["mean"] is not None and r["run"].finetune_of is None
             and not r["run"].learned and r["run"].keep is None and same(r["run"])
             and epochs_of(r["run"])]                         # (an untrained net is no point)
    learned = band(f"learned weights, {total} epochs", [
        r for r in rows if r["run"].learned and r["mean"] is not None
        and epochs_of(r["run"]) == total and r["run"].normalise == source.normalise])
    from .plot import budget_figure
    alone = sorted((epochs_of(r["run"]), r["mean"]) for r in slots)
    budget_figure(path, ([e for e, _ in alone], [m for _, m in alone]),
                  ([e for e, _, _ in tuned], [m for _, m, _ in tuned]),
                  [learned] if learned else [],
                  f"{TITLES.get(rows[0]['run'].net, rows[0]['run'].net)}: a budget of "
                  f"{total} epochs, {describe(source).split(',')[0]} K = {source.K}")
    return True
