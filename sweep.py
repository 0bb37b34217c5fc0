#!/usr/bin/env python3
"""Run a grid of train.py runs, resume what was interrupted, and collate the results.

  python sweep.py --net lenet --K 2 4 8 16 32 64 --selection greedy sample --learned \\
                  --seeds 0 1 --jobs 2
  python sweep.py --preset mnist --jobs 2        # the paper's MNIST grid (Lenet 300-100)
  python sweep.py --preset mnist --collate       # only rewrite the tables and the figure
  python sweep.py --preset mnist --print-commands  # one train.py command per line

Each run is an ordinary train.py run in its own folder, runs/sweep/<name>, named by what
defines it (net, K, selection, option bound, weight decay, epochs, seed). When a run finishes,
its small records (config.json, metrics.jsonl, result.json, and its pictures; never
checkpoints) are copied to results/<dataset>/runs/<name>/ (by --collate too, for a run trained
outside the sweep). The sweep skips every run recorded there, resumes a run whose
folder holds last.npz, and starts the others; so a killed sweep, started again, continues where
it stopped, on this machine or (from the committed records) on another. An unfinished run's
records so far (its curves too) go to results/<dataset>/in-progress/<name>/. Then slotnp/run/
collate.py writes results/<dataset>/<preset>.md (mean +- std over seeds beside the paper's
value) and <preset>.png beside the records (--name for another name than the preset's), and
<preset>-progress.md while runs are still training.
"""
import argparse
import copy
import datetime
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time

from datasets import prepare
from slotnp.fast.threads import CPU_CORES
from slotnp.run import cli, config as configs, evaluation, run_folder
from slotnp.slots import nets
from slotnp.run.collate import DamagedRecord, best_epoch, current, epochs_recorded, \
    epochs_so_far, progress_of, read_record, records_of, recorded, write_collation

ROOT = os.path.dirname(os.path.abspath(__file__))
RECORDS = ("config.json", "metrics.jsonl", "result.json")
PICTURES = ("curves.png", "selected.png")          # recorded too, where the run drew them
PROGRESS_RECORDS = ("config.json", "metrics.jsonl")   # of a run still training, and its curves
SQRT3 = 1.73205   # the authors' bound, sqrt 3 to six figures (configs.DEFAULT_OPTION_BOUND)
VARIATIONS = configs.VARIATIONS   # what a run may vary besides its method (padding, schedule, ...)

# The paper's MNIST figure: GS and PS at every K, and learned weights.
MNIST_SLOTS = dict(net=["lenet"], K=[2, 4, 8, 16, 32, 64], selection=["greedy", "sample"],
                   learned=True, seeds=[0, 1, 2])
# K = 8 GS with one set of K values per layer, and fine-tuned into learned weights.
MNIST_EXTRAS = dict(net=["lenet"], K=[8], selection=["greedy"], shared=True, finetune=True,
                    seeds=[0, 1])
# Edge-popup (Ramanujan et al.) on the same Lenet, at kept fractions 10-90%, beside learned
# weights: the paper's pruning comparison.
MNIST_EDGE_POPUP = dict(net=["lenet"], edge_popup=[0.1, 0.3, 0.5, 0.7, 0.9], learned=True,
                        seeds=[0, 1])

# CIFAR-10, CONV-2, seed 0. The full protocol (200 epochs): GS K = 8 and learned weights, the
# paper's central comparison, then GS K = 2 and 64 and PS K = 8.
CIFAR_CONV2 = [dict(net=["conv2"], K=[8], selection=["greedy"], learned=True, seeds=[0]),
               dict(net=["conv2"], K=[2, 64], selection=["greedy"], seeds=[0]),
               dict(net=["conv2"], K=[8], selection=["sample"], seeds=[0])]
# The short protocol: the full one's first SGDR cycle, 25 epochs (--epochs 25 leaves out the
# restarts at 25 and 75, so the rate falls along one cosine to 0): epoch for epoch the same
# run as the full protocol's first 25 epochs. The K sweep, PS K = 8 and learned weights; then
# GS K = 8 and learned weights again from seed 1: how far one seed moves what the rest compare.
CIFAR_CONV2_SHORT = [dict(net=["conv2"], K=[2, 64, 4, 16, 32, 8], selection=["greedy"],
                          seeds=[0], epochs=25),
                     dict(net=["conv2"], K=[8], selection=["sample"], seeds=[0], epochs=25),
                     dict(net=["conv2"], learned=True, seeds=[0], epochs=25),
                     dict(net=["conv2"], K=[8], selection=["greedy"], learned=True, seeds=[1],
                          epochs=25)]
# The deeper nets under the short protocol: CONV-4 and CONV-6, GS K = 8 and learned weights,
# 25 epochs each (on one core, beside another run, a CONV-4 run takes about 2.3 hours, a CONV-6
# one about 3; 200 epochs of CONV-6 would take a day).
CIFAR_DEEPER_SHORT = dict(net=["conv4", "conv6"], K=[8], selection=["greedy"], learned=True,
                          seeds=[0], epochs=25)
# The sign of the selected weights: every convolution after the first selects a negative mean
# option (README). Does a learned bias in every layer take over that role? CONV-2, GS K = 8
# and learned weights, the short protocol, seed 1: against the same runs without biases, whose
# checkpoints at epoch 25 exist (seed 0's are epochs of the full runs, saved at 200 only).
# The slot machine's biases train at its scores' rate, 0.2 (as before --bias-lr), the learned
# weights' at theirs, 0.01.
CIFAR_CONV2_BIAS = [dict(net=["conv2"], K=[8], selection=["greedy"], seeds=[1], bias=["learned"],
                         bias_lr=[0.2], epochs=25),
                    dict(net=["conv2"], learned=True, seeds=[1], bias=["learned"], epochs=25)]
# Why GS K = 8 trails learned weights by more than the paper's 1.2 points after 200 epochs: the
# short protocol's GS K = 8 with one departure at a time between the paper's text and the
# authors' code: the option bound sigma (scores U(0, sigma) likewise), the paper's lambda for
# the initial scores (0.1 sigma in the linear layers), no weight decay, and (learned weights
# each way too) unpadded leading convolutions, dropout on the FC layers' inputs, constant rates.
CIFAR_CONV2_ABLATION = [dict(net=["conv2"], K=[8], selection=["greedy"], option_bound=[1.0, SQRT3],
                             seeds=[0], epochs=25),
                        dict(net=["conv2"], K=[8], selection=["greedy"], score_bound=["paper"],
                             seeds=[0], epochs=25),
                        dict(net=["conv2"], K=[8], selection=["greedy"], weight_decay=[0.0],
                             seeds=[0], epochs=25),
                        dict(net=["conv2"], learned=True, seeds=[0], epochs=25),
                        # the authors' unpadded leading convolutions, both ways
                        dict(net=["conv2"], K=[8], selection=["greedy"], padding=["authors"],
                             learned=True, seeds=[0], epochs=25),
                        # their dropout on the FC layers' inputs, both ways
                        dict(net=["conv2"], K=[8], selection=["greedy"], dropout_at=["before"],
                             learned=True, seeds=[0], epochs=25),
                        # their constant rates, GS 0.1 (K <= 8) and learned weights 0.01
                        dict(net=["conv2"], K=[8], selection=["greedy"], schedule=["constant"],
                             lr=[0.1], seeds=[0], epochs=25),
                        dict(net=["conv2"], learned=True, schedule=["constant"], seeds=[0],
                             epochs=25),
                        # PS K = 8: the paper's SGDR from 25 (the full run's first 25 epochs)
                        # against the authors' constant 50
                        dict(net=["conv2"], K=[8], selection=["sample"], seeds=[0], epochs=25),
                        dict(net=["conv2"], K=[8], selection=["sample"], schedule=["constant"],
                             lr=[50.0], seeds=[0], epochs=25)]
# The authors' released code's whole protocol for CONV-2 (README): GS K = 8 140 epochs at a
# constant 0.1, learned weights 240 at 0.01, PS K = 8 180 at 50, no weight decay, flips only,
# the leading convolutions unpadded, dropout on the FC layers' inputs. Which protocol gives the
# paper's numbers, measured rather than assumed.
AUTHORS = dict({key: [value] for key, value in configs.AUTHORS_PROTOCOL.items()}, seeds=[0])
CIFAR_CONV2_AUTHORS = [dict(net=["conv2"], K=[8], selection=["greedy"],
                            lr=[configs.authors_lr("greedy", 8)],
                            epochs=configs.AUTHORS_EPOCHS["greedy"], **AUTHORS),
                       dict(net=["conv2"], learned=True, epochs=configs.AUTHORS_EPOCHS["learned"],
                            **AUTHORS),
                       # PS, its scores started as the authors' code starts every score: U(0,
                       # the option bound * sigma), where slotnp's PS keeps the paper's lambda
                       dict(net=["conv2"], K=[8], selection=["sample"], score_bound=["options"],
                            lr=[configs.authors_lr("sample")],
                            epochs=configs.AUTHORS_EPOCHS["sample"], **AUTHORS)]

# Fine-tuning on CIFAR-10 (the paper: "finetuning these combinations often improves performance
# over the trained baselines"): the finished GS K = 2 and 64 nets frozen into learned weights,
# each trained 25 epochs more (one cosine from the learned weights' 0.01), against learned
# weights' 200 epochs.
CIFAR_CONV2_FINETUNE = dict(net=["conv2"], K=[2, 64], selection=["greedy"], seeds=[0],
                            finetune=True, finetune_epochs=25)

# The paper's analyses on Lenet (seed 0 unless said): Fig. 2's random baseline, the net as drawn
# (--epochs 0) beside K = 2, two seeds; sharing one set of K values per layer against one for
# the whole net, K = 2, 8, 64; exploration, GS against PS, K = 2, 8, 64 (the MNIST runs' own
# records); and a budget of 200 epochs split between slot-machine training and fine-tuning.
MNIST_RANDOM = [dict(net=["lenet"], K=[2], selection=["greedy"], seeds=[0, 1], epochs=0),
                dict(net=["lenet"], learned=True, seeds=[0, 1], epochs=0)]
MNIST_SHARING = dict(net=["lenet"], K=[2, 8, 64], selection=["greedy"], shared=["layer", "network"],
                     seeds=[0])
MNIST_EXPLORATION = dict(net=["lenet"], K=[2, 8, 64], selection=["greedy", "sample"], seeds=[0])
MNIST_BUDGET = [dict(net=["lenet"], K=[8], selection=["greedy"], seeds=[0], epochs=epochs,
                     finetune=True, budget=200) for epochs in (50, 100, 150)] + \
    [dict(net=["lenet"], K=[8], selection=["greedy"], learned=True, seeds=[0])]

PRESETS = {
    "mnist-random": MNIST_RANDOM,
    "mnist-sharing": MNIST_SHARING,
    "mnist-exploration": MNIST_EXPLORATION,
    "mnist-budget": MNIST_BUDGET,
    "mnist-analyses": MNIST_RANDOM + [MNIST_SHARING, MNIST_EXPLORATION] + MNIST_BUDGET,
    "cifar-conv2": CIFAR_CONV2,
    "cifar-conv2-short": CIFAR_CONV2_SHORT,
    "cifar-conv2-ablation": CIFAR_CONV2_ABLATION,
    "cifar-conv2-authors": CIFAR_CONV2_AUTHORS,
    "cifar-conv2-finetune": CIFAR_CONV2_FINETUNE,
    "cifar-deeper-short": CIFAR_DEEPER_SHORT,
    "cifar-conv2-bias": CIFAR_CONV2_BIAS,
    # Everything in the README's MNIST table and figure.
    "mnist": [MNIST_SLOTS, MNIST_EXTRAS, MNIST_EDGE_POPUP],
    "mnist-slots": MNIST_SLOTS,
    "mnist-extras": MNIST_EXTRAS,
    "mnist-edge-popup": MNIST_EDGE_POPUP,
    # The runs that chose the defaults, K = 2 and 8, seed 0 (sampled runs record every
    # evaluation mode): a union of grids, from the paper's text to the authors' code.
    "mnist-ablation": [
        # option bound x weight decay, inputs standardised, the paper's score bound
        dict(net=["lenet"], K=[2, 8], selection=["greedy"], option_bound=[1.0, SQRT3],
             weight_decay=[1e-4, 0.0], normalise=["channels"], score_bound=["paper"], seeds=[0]),
        # inputs in [0, 1], as the authors' MNIST loader
        dict(net=["lenet"], K=[2, 8], selection=["greedy"], option_bound=[1.0, SQRT3],
             weight_decay=[1e-4], normalise=["none"], score_bound=["paper"], seeds=[0]),
        dict(net=["lenet"], K=[2, 8], selection=["greedy"], option_bound=[SQRT3],
             weight_decay=[0.0], normalise=["none"], score_bound=["paper"], seeds=[0]),
        # ... and initial scores of the option bound, as the authors' code
        dict(net=["lenet"], K=[2, 8], selection=["greedy"], option_bound=[SQRT3],
             weight_decay=[1e-4], normalise=["none"], score_bound=["options"], seeds=[0]),
        # sampling: weight decay at lr 25, from the paper's text to the authors' settings
        dict(net=["lenet"], K=[2], selection=["sample"], option_bound=[1.0],
             weight_decay=[1e-4, 0.0], normalise=["channels"], score_bound=["paper"], seeds=[0]),
        dict(net=["lenet"], K=[8], selection=["sample"], option_bound=[1.0],
             weight_decay=[0.0], normalise=["channels"], score_bound=["paper"], seeds=[0]),
        dict(net=["lenet"], K=[2, 8], selection=["sample"], option_bound=[SQRT3],
             weight_decay=[1e-4, 0.0], normalise=["none"], score_bound=["paper"], seeds=[0]),
    ],
}


class Run:
    """One train.py run of the grid: its name, its train.py flags, and what it depends on."""

    def __init__(self, net, seed, epochs, weight_decay, learned=False, K=None, selection=None,
                 option_bound=None, shared=False, finetune_of=None, normalise="channels",
                 keep=None, score_bound=None, budget=None, variations=None):
        self.net, self.seed, self.epochs, self.weight_decay = net, seed, epochs, weight_decay
        # what departs from train.py's defaults, of VARIATIONS (none for a fine-tuning run:
        # train.py takes padding, dropout and augmentation from its slot machine, and trains
        # with SGDR at the learned weights' rate)
        variations = variations or {}
        dataset = configs.DEFAULT_DATASET[net]
        self.variations = {key: variations[key] for key in VARIATIONS if finetune_of is None and
                           variations.get(key) not in (None, configs.variation_default(key,
                                                                                       dataset))}
        self.budget = budget        # a fine-tuning run's: its slot machine's epochs + its own
        self.normalise, self.keep = normalise, keep          # keep: an edge-popup run's
        self.score_bound = score_bound                       # None: the paper's lambda
        self.learned, self.K, self.selection = learned, K, selection
        self.option_bound, self.shared, self.finetune_of = option_bound, shared, finetune_of
        self.extra = ()         # the train.py flags a sweep passes every run (after its --)
        self.name = self._name()

    def _name(self):
        if self.finetune_of is not None:
            parts = [self.finetune_of.group, "finetune"]
        elif self.keep is not None:
            parts = [self.net, "edgepopup", f"keep{self.keep:g}"]
        elif self.learned:
            parts = [self.net, "learned"]
        else:
            parts = [self.net, f"K{self.K}", self.selection] + (
                ["sharednet"] if self.shared == "network" else ["shared"] if self.shared else [])
            parts.append(f"bound{self.option_bound:g}")
            if self.score_bound is not None:
                parts.append(f"scores{self.score_bound:g}")
        parts.append(f"wd{self.weight_decay:g}")
        if self.normalise != "channels" and self.finetune_of is None:
            parts.append(f"norm{self.normalise}")
        parts += [configs.variation_name(key, value) for key, value in self.variations.items()]
        if self.epochs is not None:
            parts.append(f"e{self.epochs}")
        return "-".join(parts + [f"seed{self.seed}"])

    @property
    def dataset(self):
        """The data set it trains on (the net's default): where its records go."""
        return configs.DEFAULT_DATASET[self.net]

    @property
    def group(self):
        """The name without its seed: the runs that collate into one row."""
        return self.name.rsplit("-seed", 1)[0]

    def config(self):
        """The entries of train.py's config.json that this run fixes."""
        config = dict(net=self.net, seed=self.seed, weight_decay=self.weight_decay)
        # the data and the batch, which flags after the sweep's -- may change
        given = cli.parse_args(list(self.extra))
        config.update(dataset=given.dataset or self.dataset, batch_size=given.batch_size)
        if self.epochs is not None:
            config["epochs"] = self.epochs
        if self.finetune_of is None:
            config["normalise"] = self.normalise
        config.update(self.variations)
        if self.variations.get("bias") == "learned" and "bias_lr" not in self.variations:
            own_lr = self.variations.get("lr", configs.LEARNED_LR)    # (of learned weights)
            config["bias_lr"] = configs.bias_lr_default("learned" if self.learned else "slot",
                                                        own_lr)
        if self.keep is not None:
            config.update(method="edge-popup", edge_popup=self.keep)
        elif self.finetune_of is None and not self.learned:
            config.update(K=self.K, selection=self.selection, shared=self.shared,
                          option_bound=float(f"{self.option_bound:g}"),
                          score_bound=None if self.score_bound is None
                          else float(f"{self.score_bound:g}"))
        return config

    def finetune_source(self, runs_dir):
        """The checkpoint a fine-tuning run starts from (None for other runs)."""
        if self.finetune_of is None:
            return None
        return os.path.join(runs_dir, self.finetune_of.name, "best.npz")

    def invocation_flags(self):
        """train.py flags of every invocation of the run, resumes included: CIFAR-10 runs test
        only at epochs of a new best validation accuracy (the same result, a third of the
        evaluation; --test-at)."""
        return ["--test-at", "new-best"] if self.dataset == "cifar10" else []

    def train_flags(self, runs_dir):
        """The train.py flags of this run (without --data-dir, --resume or --no-progress)."""
        flags = ["--net", self.net, "--seed", str(self.seed),
                 "--weight-decay", f"{self.weight_decay:g}"]
        if self.epochs is not None:
            flags += ["--epochs", str(self.epochs)]
        if self.finetune_of is None:
            flags += ["--normalise", self.normalise]
            for key, value in self.variations.items():
                flags += ["--" + key.replace("_", "-"), configs.variation_text(key, value)]
        if self.finetune_of is not None:
            flags += ["--finetune", self.finetune_source(runs_dir)]
        elif self.keep is not None:
            flags += ["--method", "edge-popup", "--keep", f"{self.keep:g}"]
        elif self.learned:
            flags.append("--learned")
        else:
            flags += ["--K", str(self.K), "--selection", self.selection,
                      "--option-bound", f"{self.option_bound:g}", "--score-bound",
                      "paper" if self.score_bound is None else f"{self.score_bound:g}"]
            if self.shared:
                flags += ["--shared", "network"] if self.shared == "network" else ["--shared"]
            if self.selection == "sample":
                flags.append("--compare-eval-modes")
        return flags + ["--out", os.path.join(runs_dir, self.name)]


def grid(net, K=(), selection=(), learned=False, seeds=(0,), option_bound=None,
         weight_decay=None, shared=False, finetune=False, epochs=None, normalise=None,
         edge_popup=(), score_bound=None, budget=None, finetune_epochs=None, **variations):
    """The runs of a grid, in order: slot runs (net x K x selection x bound x decay x seed),
    then their shared-option twins, then fine-tuning runs of the greedy ones (as many epochs
    as their slot machine, the rest of `budget` epochs, or `finetune_epochs`), then learned,
    then edge-popup at each kept fraction of `edge_popup` (with edge-popup's own protocol).
    None for `option_bound`, `weight_decay`, `normalise` or `score_bound` takes train.py's
    default; a score bound is a number, "paper" or "options" (train.py's --score-bound).
    `variations`: lists of values of VARIATIONS' keys (e.g. padding=["same", "authors"], as
    train.py's --padding); slot and learned runs go through every combination."""
    option_bound = option_bound or [configs.DEFAULT_OPTION_BOUND]
    unknown = set(variations) - set(VARIATIONS)
    if unknown:
        raise ValueError(f"unknown variations {sorted(unknown)}; choose from {list(VARIATIONS)}")
    combinations = [dict(zip(variations, values)) for values in
                    itertools.product(*[values or [None] for values in variations.values()])]

    def scores(how, bound):
        chosen = [configs.DEFAULT_SCORE_BOUND[how]] if score_bound is None else score_bound
        return [None if c == "paper" else bound if c == "options" else float(c)
                for c in chosen]
    runs, slot_runs = [], []
    for name in net:
        for k in K:
            for how in selection:
                for bound in option_bound:
                    for decay in weight_decay or [configs.default_weight_decay(how)]:
                        for inputs in normalise or [default_normalise(name)]:
                            for start in scores(how, bound):
                                for varied in combinations:
                                    slot_runs += [Run(name, seed, epochs, decay, K=k,
                                                      selection=how, option_bound=bound,
                                                      normalise=inputs, score_bound=start,
                                                      variations=varied) for seed in seeds]
    runs += slot_runs
    # shared: True (each layer its own K values), "network" (one set for the net), or a list
    for sharing in (shared if isinstance(shared, list) else [shared] if shared else []):
        runs += [Run(r.net, r.seed, r.epochs, r.weight_decay, K=r.K, selection=r.selection,
                     option_bound=r.option_bound, normalise=r.normalise,
                     shared="network" if sharing == "network" else True,
                     score_bound=r.score_bound, variations=r.variations) for r in slot_runs]
    if finetune:
        runs += [Run(r.net, r.seed, finetune_epochs or (r.epochs if budget is None
                                                         else budget - r.epochs),
                     configs.default_weight_decay(None), finetune_of=r, budget=budget)
                 for r in slot_runs if r.selection == "greedy"]
    if learned:
        for name in net:
            for decay in (weight_decay or [configs.default_weight_decay(None)]):
                for inputs in normalise or [default_normalise(name)]:
                    runs += [Run(name, seed, epochs, decay, learned=True, normalise=inputs,
                                 variations=varied) for varied in combinations for seed in seeds]
    own = configs.EDGE_POPUP
    for name in net:
        for keep in edge_popup:
            for decay in weight_decay or [own["weight_decay"]]:
                runs += [Run(name, seed, epochs, decay, normalise=own["normalise"], keep=keep)
                         for seed in seeds]
    return runs


def default_normalise(net):
    return configs.DEFAULT_NORMALISE[configs.DEFAULT_DATASET[net]]


def status(run, runs_dir, results_dir):
    """"done" (recorded), "resume" (its folder holds last.npz), or "new"."""
    if recorded(results_dir, run) is not None:
        return "done"
    folder = os.path.join(runs_dir, run.name)
    if os.path.isfile(os.path.join(folder, "last.npz")) and current(folder, run):
        return "resume"
    return "new"


def saved_text(folder):
    """' (E of N epochs saved)' for a run folder with epochs to resume from, else ''."""
    counts = epochs_so_far(folder)
    return "" if counts is None else " ({} of {} epochs saved)".format(*counts)


def command(run, runs_dir, results_dir, data_dir, extra=()):
    """The train.py command line of a run in its current state."""
    prefix = ["python", "train.py"]
    common = ["--data-dir", data_dir, "--no-progress", *run.invocation_flags(), *extra]
    folder = os.path.join(runs_dir, run.name)
    if status(run, runs_dir, results_dir) == "resume":
        return prefix + ["--resume", "--out", folder] + common
    # a run killed before its first epoch ended left a config but nothing to resume from; a
    # trained one (last.npz of another configuration, or best.npz or result.json without it)
    # is never overwritten (train.py refuses, naming it)
    restart = ["--overwrite"] if run_folder.existing_run_files(folder) and \
        not run_folder.trained_files(folder) and \
        not os.path.exists(os.path.join(folder, "last.npz")) else []
    return prefix + run.train_flags(runs_dir) + restart + common


def record(run, runs_dir, results_dir):
    """Copy a finished run's small records (and its pictures) into
    results/<dataset>/runs/<name>/; True if it finished."""
    folder = os.path.join(runs_dir, run.name)
    path = os.path.join(folder, "result.json")
    if not os.path.isfile(path) or not current(folder, run):
        return False
    result = read_record(path)
    if result.get("epochs_run") != result.get("epochs"):
        return False
    target = records_of(results_dir, run)
    os.makedirs(target, exist_ok=True)
    for name in RECORDS + tuple(p for p in PICTURES if os.path.isfile(os.path.join(folder, p))):
        shutil.copyfile(os.path.join(folder, name), os.path.join(target, name))
    shutil.rmtree(progress_of(results_dir, run), ignore_errors=True)   # its records so far
    return True


def record_progress(run, runs_dir, results_dir):
    """Copy an unfinished run's records so far (config.json, metrics.jsonl; curves.png drawn
    from them) into results/<dataset>/in-progress/<name>/, never over a record of more
    epochs: a run started again from epoch 0 (its folder lost with a machine) is the lost run
    epoch for epoch, and replaces the record once past it. True if copied."""
    folder, target = os.path.join(runs_dir, run.name), progress_of(results_dir, run)
    kept = len(epochs_recorded(target)) if current(target, run) else 0   # (not an older run's)
    epochs = epochs_recorded(folder)
    if status(run, runs_dir, results_dir) == "done" or not current(folder, run) or \
            len(epochs) <= kept:
        return False
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    for name in PROGRESS_RECORDS:
        shutil.copyfile(os.path.join(folder, name), os.path.join(target, name))
    # (train.py draws curves.png when a run stops: drawn here from the epochs so far)
    run_folder.learning_curves(epochs, os.path.join(target, "curves.png"))
    return True


def record_as_first_epochs(run, runs_dir, results_dir, extra=None):
    """Record a shorter run of E epochs as the first E epochs of its full-protocol twin (the
    same run but for --epochs: every entry of its config.json but the epochs and the later
    restarts, as train.py with `extra` flags would write the run's) where the twin has run them
    and E is its first SGDR restart: over those epochs the rate follows the same cosine to 0,
    the data and the draws the same seeds, so the twin's first E epochs are the run
    (tests/test_sweep.py shows it). The records are those the run would write, with
    `derived_from` naming the twin, less result.json's `selected_options` (read from a
    best.npz of the run's own); True if recorded. The twin is read from its run folder,
    else from its records (results/, a finished twin on a fresh clone). `extra`: the run's own
    (run.extra) by default."""
    if not run.epochs or run.finetune_of is not None:
        return False
    extra = run.extra if extra is None else tuple(extra)
    twin = copy.copy(run)
    twin.epochs, twin.extra = None, extra
    twin.name = twin._name()
    folders = [f for f in (os.path.join(runs_dir, twin.name), records_of(results_dir, twin))
               if current(f, twin) and os.path.isfile(os.path.join(f, "metrics.jsonl"))]
    if not folders:
        return False
    folder = folders[0]
    config = read_record(os.path.join(folder, "config.json"))
    own = configs.resolve_config(cli.parse_args(run.train_flags(runs_dir) +
                                                run.invocation_flags() + list(extra)))
    # (an entry newer than the twin's config.json is at its default there, as train.py reads
    # it; an older one may spell the augmentation True or False)
    theirs = dict(config, augment=prepare.augment_name(config["augment"]))
    if any(theirs[key] != value for key, value in own.items()
           if key in theirs and key not in ("epochs", "restarts", "out")):
        return False
    rows = epochs_recorded(folder)[:run.epochs]
    # E must be the twin's first restart: a run of E epochs alone has no restart below E
    if min(config["restarts"], default=None) != run.epochs or len(rows) < run.epochs:
        return False
    config = dict(config, epochs=run.epochs, out=os.path.join(runs_dir, run.name),
                  derived_from=twin.name)
    best = best_epoch(rows)
    result = dict(best_epoch=best["epoch"], val_acc=best["val_acc"], test_acc=best["test_acc"],
                  epochs_run=run.epochs, epochs=run.epochs,
                  wall_minutes=round(sum(row["seconds"] for row in rows) / 60, 2),
                  derived_from=twin.name)
    result.update(evaluation.evaluation_result(config, rows))
    finished = os.path.join(folder, "result.json")     # a finished twin names its backend
    if os.path.isfile(finished):
        result.update({k: v for k, v in read_record(finished).items() if k == "backend"})
    target = records_of(results_dir, run)
    os.makedirs(target, exist_ok=True)
    run_folder.write_json(os.path.join(target, "config.json"), config)
    run_folder.write_json(os.path.join(target, "metrics.jsonl"), rows, lines=True)
    run_folder.write_json(os.path.join(target, "result.json"), result)
    return True


def deadline(text, now=None):
    """--until's value as a time.time(): "HH:MM" (the next such time of day, local) or
    "+MINUTES" from `now`."""
    now = time.time() if now is None else now
    try:
        if text.startswith("+"):
            minutes = float(text[1:])
            if not 0 <= minutes < float("inf"):
                raise ValueError
            return now + 60 * minutes
        hours, minutes = (int(part) for part in text.split(":"))
        at = datetime.datetime.fromtimestamp(now).replace(hour=hours, minute=minutes, second=0,
                                                          microsecond=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be HH:MM or +MINUTES, got {text!r}") from None
    return (at + datetime.timedelta(days=1 if at.timestamp() <= now else 0)).timestamp()


def time_limit_flags(args, now):
    """train.py's --time-limit for a run started at `now`: the sweep's --time-limit, or the
    minutes left to --until where fewer ([] for neither)."""
    limits = [m for m in (args.time_limit, args.until and (args.until - now) / 60) if m]
    return ["--time-limit", f"{min(limits):.6g}"] if limits else []


# train.py's exit status when a signal stopped it after saving its last finished epoch
STOPPED_BY_SIGNAL = {130: "interrupted by SIGINT", 143: "terminated by SIGTERM"}


def run_all(runs, args):
    """Run the unfinished runs, `args.jobs` at a time, each with its share of the cores."""
    todo = [r for r in runs if status(r, args.runs, args.results) != "done"]
    until = "" if not args.until else \
        f", none started after {time.strftime('%a %H:%M', time.localtime(args.until))}"
    print(f"sweep: {len(runs)} runs, {len(runs) - len(todo)} recorded, {len(todo)} to run "
          f"({args.jobs} at a time{until})", flush=True)
    threads = max(1, CPU_CORES // args.jobs)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    running, failed, paused = {}, [], []
    started = time.time()

    def finish(run, process, log):
        log.close()
        if process.returncode == 0 and record(run, args.runs, args.results):
            print(f"  done    {run.name}", flush=True)
        elif process.returncode in (0, *STOPPED_BY_SIGNAL):
            paused.append(run)
            record_progress(run, args.runs, args.results)
            why = STOPPED_BY_SIGNAL.get(process.returncode,
                                        "--time-limit, --until or --stop-after")
            print(f"  paused  {run.name} ({why}; run the sweep again to resume)", flush=True)
        else:
            failed.append(run)
            print(f"  FAILED  {run.name} (exit {process.returncode}; see "
                  f"{os.path.join(args.runs, run.name, 'train.log')})", flush=True)

    try:
        while todo or running:
            busy = [r for r, _, _ in running.values()]
            while len(running) < args.jobs:
                now = time.time()
                if args.until and now >= args.until:
                    break
                # the next run whose slot machine (if it fine-tunes one) is not still to train
                ready = [r for r in todo if r.finetune_of not in todo + busy]
                if not ready:
                    break
                run = ready[0]
                todo.remove(run)
                source = run.finetune_source(args.runs)
                if source is not None and not os.path.isfile(source):
                    failed.append(run)
                    print(f"  SKIPPED {run.name}: fine-tuning needs {source}; train "
                          f"{run.finetune_of.name} again (delete it from {args.results})",
                          flush=True)
                    continue
                argv = command(run, args.runs, args.results, args.data_dir,
                               time_limit_flags(args, now) + args.extra)
                os.makedirs(os.path.join(args.runs, run.name), exist_ok=True)
                log = open(os.path.join(args.runs, run.name, "train.log"), "a")
                log.write("$ " + " ".join(argv) + "\n")
                log.flush()
                print(f"  {'resume' if '--resume' in argv else 'start '}  {run.name}"
                      f"{saved_text(os.path.join(args.runs, run.name))}", flush=True)
                process = subprocess.Popen([sys.executable] + argv[1:], stdout=log,
                                           stderr=subprocess.STDOUT, env=env, cwd=ROOT)
                running[process.pid] = (run, process, log)
                busy.append(run)
            if not running:
                break
            pid, wait_status = os.wait()   # reaps the process: its status is only here
            if pid in running:
                run, process, log = running.pop(pid)
                process.returncode = os.waitstatus_to_exitcode(wait_status)
                finish(run, process, log)
    except BaseException as error:     # an interrupt, or an error: no run is left behind
        # SIGTERM, not SIGINT: a run started in the background may ignore SIGINT
        for run, process, log in running.values():
            process.send_signal(signal.SIGTERM)
        for run, process, log in running.values():
            process.wait()
            log.close()
        if not isinstance(error, KeyboardInterrupt):
            raise
        print("\nsweep interrupted: each run keeps its last finished epoch; run the same "
              "command again to resume", file=sys.stderr)
        return 130
    minutes = (time.time() - started) / 60
    late = f", {len(todo)} not started (--until had passed)" if todo else ""
    print(f"sweep: finished in {minutes:.1f} min; {len(paused)} paused, {len(failed)} failed"
          f"{late}", flush=True)
    return 1 if failed else 0


def parse_args(argv=None):
    p = cli.OneLineErrors(description=__doc__.split("\n\n")[0],
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog="Any flags after -- are passed to every train.py run.")
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named grid, or union of grids "
                   "(flags below add to or override each)")
    p.add_argument("--net", nargs="+", choices=nets.NETS)
    p.add_argument("--K", nargs="+", type=cli.positive_int)
    p.add_argument("--selection", nargs="+", choices=("greedy", "sample"))
    p.add_argument("--learned", action="store_true", default=None,
                   help="also learned-weights runs")
    p.add_argument("--seeds", nargs="+", type=cli.non_negative_int)
    p.add_argument("--option-bound", nargs="+", type=cli.positive_float)
    p.add_argument("--score-bound", nargs="+", type=cli.score_bound,
                   help="initial-score bounds: numbers, 'paper' or 'options' (train.py's)")
    p.add_argument("--weight-decay", nargs="+", type=cli.non_negative_float,
                   help="default: train.py's default for each run")
    p.add_argument("--shared", nargs="*", choices=("layer", "network"), default=None,
                   help="also each slot run with one set of K values per layer (--shared, or "
                        "--shared layer), for the whole net (network), or both")
    p.add_argument("--finetune", action="store_true", default=None,
                   help="also fine-tune each greedy slot run's best checkpoint")
    p.add_argument("--normalise", nargs="+", choices=("channels", "none"),
                   help="input normalisation(s), as train.py's --normalise (default: "
                        "train.py's: none on MNIST, channels on CIFAR-10 and for edge-popup)")
    p.add_argument("--padding", nargs="+", choices=nets.PADDINGS,
                   help="the convolutions' padding(s), as train.py's --padding (default same; "
                        "authors: the leading ones unpadded, as the authors' code)")
    p.add_argument("--schedule", nargs="+", choices=configs.SCHEDULES,
                   help="learning-rate schedule(s), as train.py's --schedule (default sgdr)")
    p.add_argument("--dropout-at", nargs="+", choices=nets.DROPOUT_PLACES,
                   help="where the FC layers' dropout goes, as train.py's --dropout-at "
                        "(default after)")
    p.add_argument("--bias", nargs="+", choices=configs.BIASES,
                   help="biases, as train.py's --bias (default none, as the paper's nets)")
    p.add_argument("--bias-lr", nargs="+", type=cli.positive_float, metavar="RATE",
                   help="the rate(s) of learned biases, as train.py's --bias-lr (default: "
                        "train.py's)")
    p.add_argument("--augment", nargs="+", choices=tuple(prepare.AUGMENTATIONS),
                   help="training-image augmentation(s), as train.py's --augment (default: "
                        "train.py's, crop-flip on CIFAR-10, none on MNIST)")
    p.add_argument("--lr", nargs="+", type=cli.positive_float,
                   help="learning rate(s) of every slot and learned run of the grid (default: "
                        "train.py's, the paper's for each run; a rate named is in the run's "
                        "name, the paper's too)")
    p.add_argument("--edge-popup", nargs="+", type=float, metavar="KEEP",
                   help="also edge-popup runs at these kept fractions (e.g. 0.1 0.3 0.5 0.7 0.9)")
    p.add_argument("--epochs", type=cli.non_negative_int,
                   help="default: train.py's (200; 330 for learned conv4/conv6, 100 for "
                        "edge-popup); 0: the nets as drawn")
    p.add_argument("--jobs", type=int, default=1, help="runs at once; the cores are divided")
    p.add_argument("--time-limit", type=cli.positive_float, metavar="MIN",
                   help="each run stops after the epoch that passes MIN minutes (resume later)")
    p.add_argument("--until", type=deadline, metavar="HH:MM|+MIN",
                   help="start no run after this time (of day, or minutes from now); a run "
                        "still training then stops after the epoch that passes it (resume "
                        "later): for a machine lent until a given time")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--runs", default="runs/sweep", help="where the runs' folders go")
    p.add_argument("--results", default="results", help="where finished runs are recorded")
    p.add_argument("--name", help="the collation goes to RESULTS/<dataset>/NAME.md and NAME.png "
                   "(default: the preset's name, or 'sweep')")
    p.add_argument("--print-commands", action="store_true",
                   help="print one train.py command per unfinished run (with --resume-or-start, "
                        "so that a scheduler can start it again), and exit")
    p.add_argument("--collate", action="store_true",
                   help="run nothing: record the runs' records (finished or so far) and write "
                        "the tables and the figure")
    p.add_argument("--no-derive", action="store_true",
                   help="train a run of E epochs on its own even where its full-protocol run's "
                        "first E epochs would record it")
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1:]
    args = p.parse_args(argv)
    if args.shared is not None:                    # --shared alone: each layer its own
        args.shared = args.shared or ["layer"]
    args.extra = extra
    preset = PRESETS[args.preset] if args.preset else [{}]
    args.specs = [dict(spec) for spec in (preset if isinstance(preset, list) else [preset])]
    for spec in args.specs:
        for key in ("net", "K", "selection", "learned", "seeds", "option_bound",
                    "weight_decay", "shared", "finetune", "epochs", "normalise", "edge_popup",
                    "score_bound", *VARIATIONS):
            if getattr(args, key) is not None:
                spec[key] = getattr(args, key)
        if not spec.get("net"):
            p.error("name the nets (--net lenet ...) or a --preset")
        if not spec.get("learned") and not spec.get("edge_popup") and \
                not (spec.get("K") and spec.get("selection")):
            p.error("a slot grid needs --K and --selection (or pass --learned or --edge-popup)")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    args.name = args.name or args.preset or "sweep"
    return args


def interrupt(signum, frame):
    raise KeyboardInterrupt()


def say_what_is_skipped(runs, args):
    """On stderr: the runs skipped because they are recorded, and where (every mode)."""
    done = [run for run in runs if status(run, args.runs, args.results) == "done"]
    if not done:
        return
    where = sorted({os.path.dirname(records_of(args.results, run)) for run in done})
    names = ", ".join(run.name for run in done[:3]) + (", ..." if len(done) > 3 else "")
    print(f"sweep: skipping {len(done)} of {len(runs)} runs, recorded as finished in "
          f"{', '.join(where)} ({names}); delete a run's record to run it again (one recorded "
          "from its full run's first epochs: with --no-derive too)", file=sys.stderr)
    if len(done) == len(runs):
        print("sweep: every run of this grid is recorded: nothing to " +
              ("print" if args.print_commands else "run"), file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):   # also when started in the background
        signal.signal(signum, interrupt)
    try:
        return sweep_grid(args)
    except (DamagedRecord, run_folder.RunFolderError) as error:
        print(f"sweep: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:                   # --runs or --results a file, a full disk, ...
        print(f"sweep: error: {error.strerror or error}"
              f"{f': {error.filename}' if error.filename else ''}", file=sys.stderr)
        return 2


def sweep_grid(args):
    """Record what other runs have, run the rest (or print their commands), then collate."""
    runs = list({run.name: run for spec in args.specs for run in grid(**spec)}.values())
    for run in runs + [r.finetune_of for r in runs if r.finetune_of is not None]:
        run.extra = tuple(args.extra)
    tuned = {r.finetune_of.name for r in runs if r.finetune_of is not None}
    for run in runs:     # (not a run to fine-tune: that needs its own best.npz)
        if run.name not in tuned and not args.no_derive and \
                status(run, args.runs, args.results) != "done" and \
                record_as_first_epochs(run, args.runs, args.results, args.extra):
            print(f"sweep: {run.name} recorded as the first {run.epochs} epochs of its "
                  "full-protocol run", file=sys.stderr)
    if not args.collate:
        say_what_is_skipped(runs, args)
    if args.print_commands:
        for run in runs:
            if status(run, args.runs, args.results) != "done":
                print(" ".join(["python", "train.py"] + run.train_flags(args.runs) +
                               ["--resume-or-start", "--data-dir", args.data_dir,
                                "--no-progress", *run.invocation_flags(), *args.extra]))
        return 0
    if args.collate:
        print(f"sweep: --collate runs nothing; collating the {len(runs)} runs' records",
              file=sys.stderr)
    code = 0 if args.collate else run_all(runs, args)
    for run in runs:     # runs trained outside this sweep (by hand, another sweep) as well
        if status(run, args.runs, args.results) != "done":
            record(run, args.runs, args.results) or record_progress(run, args.runs, args.results)
    table, figures = write_collation(runs, args.results, args.name)
    print(f"sweep: wrote {', '.join([table] + figures)}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
