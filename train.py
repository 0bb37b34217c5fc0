#!/usr/bin/env python3
"""Train a Slot Machine (or the same net with learned weights) with the paper's protocol.

  python train.py --net lenet --K 2 --data-dir ../shared/datasets
  python train.py --backend cupy --net conv2 --K 8
Writes config.json, metrics.jsonl, result.json, curves.png, last.npz and best.npz to --out.
"""
import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np

import datasets
from datasets import prepare
from slotnp import (backend, checkpoint, export, init, memory, nets, optim, plain, run_folder,
                    training)
from slotnp.checkpoint import CheckpointError
from slotnp.run_folder import RunFolderError
from slotnp.layers.slot import EVALUATIONS

DEFAULT_DATASET = {"lenet": "mnist", "conv2": "cifar10", "conv4": "cifar10",
                   "conv6": "cifar10", "vgg19": "cifar10"}
LEARNED_LR = 0.01  # learned weights and fine-tuning
DEFAULT_OPTION_BOUND = 1.73205  # sqrt 3 (to six figures), as the authors' code (README ablation)
# Initial scores: U(0, option bound * sigma) in every layer for GS, as the authors' code; the
# paper's lambda (1 conv, 0.1 linear) for PS. Each reproduced the paper best (README ablation).
DEFAULT_SCORE_BOUND = {"greedy": "options", "sample": "paper"}
# Inputs as the authors' loaders give them: MNIST pixels / 255 in [0, 1]; CIFAR-10 normalised
# per channel. On MNIST this (with the bound above) is what reproduces the paper (README).
DEFAULT_NORMALISE = {"mnist": "none", "cifar10": "channels", "synthetic": "channels"}
METHODS = ("slot", "learned", "edge-popup")
# Edge-popup's own protocol (its paper and code): SGD lr 0.1 with one cosine, weight decay 1e-4
# on the scores, 100 epochs, no dropout; its MNIST loader normalises the inputs.
EDGE_POPUP = dict(lr=0.1, restarts=[], weight_decay=1e-4, epochs=100, dropout=0.0,
                  normalise="channels")
DEFAULT_EVAL_DRAWS = 5  # sampled nets: networks drawn per evaluation (see the README's ablation)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text):
    value = float(text)
    if not value >= 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def score_bound(text):
    if text in ("paper", "options"):
        return text
    try:
        return positive_float(text)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"must be a positive number, 'paper' or 'options', "
                                         f"got {text}") from None


def fraction_above_zero(text):
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text}")
    return value


def fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1), got {text}")
    return value


def epoch_list(text):
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected epochs like 25,75, got {text!r}") from None


class OneLineErrors(argparse.ArgumentParser):
    """Report a bad flag in one line (not the whole usage block) and exit with status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parse_args(argv=None):
    p = OneLineErrors(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--net", choices=nets.NETS, default="lenet")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    p.add_argument("--method", choices=METHODS, default="slot",
                   help="slot machines; ordinary learned weights; or edge-popup (Ramanujan et "
                        "al.: fixed weights, the --keep fraction with the largest scores used)")
    p.add_argument("--learned", action="store_true", help="the same as --method learned")
    p.add_argument("--keep", type=fraction_above_zero, default=0.5,
                   help="edge-popup: the fraction of each layer's connections kept")
    p.add_argument("--weight-init", choices=("signed_constant", "kaiming_normal"),
                   default="signed_constant",
                   help="edge-popup: its fixed weights, +-sqrt(2/fan_in) or N(0, 2/fan_in)")
    p.add_argument("--K", type=positive_int, default=8, help="options per connection")
    p.add_argument("--selection", choices=("greedy", "sample"), default="greedy")
    p.add_argument("--shared", action="store_true", help="one set of K values per layer")
    p.add_argument("--option-bound", type=positive_float, default=DEFAULT_OPTION_BOUND,
                   metavar="B",
                   help="slot options ~ U(-B*sigma, B*sigma): 1 is the paper's text, 1.73205 "
                        "(sqrt 3, the Glorot-uniform bound) the authors' released code, which "
                        "reproduces the paper's MNIST figures (README)")
    p.add_argument("--score-form", choices=("factored", "explicit"), default="factored",
                   help="how slot scores are stored and updated: the same SGD either way; "
                        "explicit keeps all K scores (slower, see slotnp/layers/slot.py)")
    p.add_argument("--dropout", type=float, default=None,
                   help="drop probability after FC1/FC2 (default 0.5 for conv nets, 0 for lenet)")
    p.add_argument("--epochs", type=positive_int, default=None,
                   help="default 200 (330 for learned conv4/conv6)")
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=None,
                   help="default: 0.2 greedy K<=8, 0.1 greedy K>8, 25 sample, 0.01 learned")
    p.add_argument("--momentum", type=fraction, default=None,
                   help=f"SGD momentum (default {optim.DEFAULT_MOMENTUM})")
    p.add_argument("--weight-decay", type=non_negative_float, default=None,
                   help="SGD weight decay on every trainable array (default: see "
                        "optim.default_weight_decay and the README)")
    p.add_argument("--eval-mode", choices=EVALUATIONS, default=None,
                   help="how a sampled slot net is evaluated: sample (draw weights from "
                        "softmax(scores), as the authors' code does), expected (the mean option) "
                        "or argmax (default sample; greedy and learned nets always use argmax)")
    p.add_argument("--eval-draws", type=positive_int, default=None,
                   help=f"with --eval-mode sample: networks drawn per evaluation, accuracies "
                        f"averaged (default {DEFAULT_EVAL_DRAWS})")
    p.add_argument("--eval-seed", type=int, default=None,
                   help="seed of the evaluation draws, the same every epoch (default 0)")
    p.add_argument("--compare-eval-modes", action="store_true",
                   help="a sampled slot net also records every other evaluation mode per epoch")
    p.add_argument("--restarts", type=epoch_list, default=None,
                   help="epochs where the cosine schedule restarts (default 25,75; none for "
                        "edge-popup, whose paper uses one cosine)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--score-bound", type=score_bound, default=None, metavar="S",
                   help="initial scores ~ U(0, S*sigma) in every slot layer; 'options' is S = "
                        "the option bound (the authors' code), 'paper' the paper's lambda: 1 "
                        "for convolutions, 0.1 for linear layers (default: options for GS, "
                        "paper for PS, as the README's ablation chose)")
    p.add_argument("--normalise", choices=("channels", "none"), default=None,
                   help="inputs: channels = (pixel/255 - mean) / std per channel, with the "
                        "training split's statistics; none = pixel/255 in [0, 1] (default: "
                        "none for MNIST, channels otherwise, as the authors' loaders)")
    p.add_argument("--dataset", choices=datasets.DATASETS, default=None,
                   help="default: mnist for lenet, cifar10 otherwise")
    p.add_argument("--data-dir", default=None,
                   help="folder with (or for) the data sets (default: data; for --resume, "
                        "--eval and --finetune, the folder the run was trained from)")
    p.add_argument("--out", default=None, help="output folder (default runs/<net>-<variant>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from last.npz")
    p.add_argument("--resume-or-start", action="store_true",
                   help="--resume when --out holds last.npz, else a new run: one command for a "
                        "scheduler to start again after a time limit (sweep.py prints these)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run that --out already holds (otherwise refused)")
    p.add_argument("--finetune", metavar="CHECKPOINT",
                   help="freeze a trained slot machine into learned weights and fine-tune them")
    p.add_argument("--eval", metavar="FILE",
                   help="only evaluate a checkpoint, or a slot machine exported by --export")
    p.add_argument("--export", nargs=2, metavar=("CHECKPOINT", "FILE"),
                   help="write a greedy slot machine as its config and seed plus the index of "
                        "every connection's option in ceil(log2 K) bits")
    p.add_argument("--time-limit", type=positive_float, metavar="MINUTES",
                   help="stop cleanly after the epoch that passes this time (resume later)")
    p.add_argument("--plain", action="store_true",
                   help="the textbook paths everywhere (im2col convolution, explicit scores, no "
                        "threads; slotnp/plain.py): the same results up to rounding, slower")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.dropout is not None and not 0 <= args.dropout < 1:
        p.error(f"argument --dropout: must be in [0, 1), got {args.dropout}")
    if args.resume and args.out is None:
        p.error("--resume needs --out, the folder of the run to continue")
    if args.resume and args.overwrite:
        p.error("--resume continues the run in --out and --overwrite replaces it; pick one")
    if args.learned:
        args.method = "learned"
    if args.resume_or_start:
        if args.out is None:
            p.error("--resume-or-start needs --out, the run's folder")
        if args.resume or args.overwrite:
            p.error("--resume-or-start decides between --resume and a new run itself")
        args.resume = os.path.isfile(os.path.join(args.out, "last.npz"))
        # no last.npz: no epoch ever finished there, so nothing trained can be lost
        args.overwrite = not args.resume
    return args


def resolve_config(args):
    """The full, explicit configuration of a new run (printed and saved as config.json)."""
    method = "learned" if args.finetune else args.method
    slot, popup = method == "slot", method == "edge-popup"
    own = EDGE_POPUP if popup else {}
    dataset = args.dataset or DEFAULT_DATASET[args.net]
    long_run = method == "learned" and args.net in ("conv4", "conv6")
    sampled = slot and args.selection == "sample"
    dropout = own.get("dropout", nets.DEFAULT_DROPOUT[args.net])
    lr = own.get("lr", optim.paper_lr(args.selection, args.K) if slot else LEARNED_LR)
    config = dict(net=args.net, method=method, slot=slot, K=args.K if slot else None,
                  selection=args.selection if slot else None, shared=args.shared and slot,
                  option_bound=args.option_bound if slot else None,
                  score_form=("explicit" if args.plain else args.score_form) if slot else None,
                  plain=args.plain,
                  options_version=init.OPTIONS_VERSION if slot else None,
                  score_bound=resolve_score_bound(args) if slot else None,
                  edge_popup=args.keep if popup else None,
                  weight_init=args.weight_init if popup else None,
                  dropout=dropout if args.dropout is None else args.dropout,
                  epochs=args.epochs or own.get("epochs", 330 if long_run else 200),
                  batch_size=args.batch_size, lr=args.lr or lr,
                  momentum=optim.DEFAULT_MOMENTUM if args.momentum is None else args.momentum,
                  weight_decay=own.get("weight_decay", optim.default_weight_decay(
                      args.selection if slot else None, args.option_bound))
                  if args.weight_decay is None else args.weight_decay,
                  restarts=own.get("restarts", [25, 75]) if args.restarts is None
                  else args.restarts, seed=args.seed,
                  dataset=dataset, val_fraction=datasets.VALIDATION_FRACTION[dataset],
                  augment=dataset == "cifar10",
                  normalise=args.normalise or own.get("normalise", DEFAULT_NORMALISE[dataset]),
                  finetune=args.finetune,
                  eval_mode=(args.eval_mode or "sample") if sampled else "argmax",
                  eval_draws=(args.eval_draws or DEFAULT_EVAL_DRAWS) if sampled else 1,
                  eval_seed=(args.eval_seed or 0) if sampled else None,
                  compare_eval_modes=args.compare_eval_modes and sampled)
    variant = f"slot-K{args.K}-{args.selection}" if slot else \
        f"edgepopup-keep{args.keep:g}" if popup else ("finetune" if args.finetune else "learned")
    if slot and args.option_bound != DEFAULT_OPTION_BOUND:
        variant += f"-bound{args.option_bound:g}"
    if args.weight_decay is not None:
        variant += f"-wd{args.weight_decay:g}"
    if args.normalise not in (None, own.get("normalise", DEFAULT_NORMALISE[dataset])):
        variant += f"-normalise{args.normalise}"
    if args.momentum is not None:
        variant += f"-momentum{args.momentum:g}"
    if args.score_bound is not None:
        variant += f"-scores{args.score_bound}"
    config["out"] = args.out or os.path.join("runs", f"{args.net}-{variant}-seed{args.seed}")
    return config


def resolve_score_bound(args):
    """The initial scores' bound S of a slot run as a number, or None for the paper's lambda."""
    chosen = args.score_bound or DEFAULT_SCORE_BOUND[args.selection]
    if chosen == "paper":
        return None
    return args.option_bound if chosen == "options" else chosen


def build_net(config):
    image_size = None
    if config["net"] != "lenet" and config.get("image_shape"):
        image_size = config["image_shape"][-1]
    return nets.build(config["net"], slot=config["slot"], K=config["K"] or 1,
                      edge_popup=config.get("edge_popup"),
                      weight_init=config.get("weight_init") or "signed_constant",
                      selection=config["selection"] or "greedy", seed=config["seed"],
                      shared=config["shared"], image_size=image_size,
                      dropout=config["dropout"], option_bound=config.get("option_bound") or 1.0,
                      # runs saved before the factored form existed stored explicit scores
                      score_form=config.get("score_form") or "explicit",
                      # and runs saved before version 2 drew their options by version 1
                      options_version=config.get("options_version") or 1,
                      score_bound=config.get("score_bound"))


def data_dir_of(args, config):
    """Where a run's data is: --data-dir, else the folder the run was trained from, else data."""
    return args.data_dir or config.get("data_dir") or "data"


def load_data(config, data_dir):
    """Train/val/test arrays on the device, normalised with the training split's statistics."""
    shape = nets.INPUT_SHAPES[config["net"]]
    raw = datasets.load(config["dataset"], data_dir, shape=shape)
    images = raw["x_train"].shape[1:]
    if images[0] != shape[0] or (config["net"] == "lenet" and images != shape):
        raise datasets.DataError(f"{config['dataset']} images are {images}, but {config['net']} "
                                 f"takes {shape}; pick a matching --net or --dataset")
    check_labels(raw, config["dataset"], data_dir)
    (x_train, y_train), (x_val, y_val) = prepare.split(raw["x_train"], raw["y_train"],
                                                       config["val_fraction"], config["seed"])
    mean, std = prepare.channel_stats(x_train)
    if config.get("normalise", "channels") == "none":       # pixels / 255, in [0, 1]
        mean, std = np.zeros_like(mean), np.ones_like(std)
    to_device = lambda x: prepare.normalise_to_device(x, mean, std)  # noqa: E731
    config["image_shape"] = list(raw["x_train"].shape[1:])
    return dict(train=(to_device(x_train), backend.to_device(y_train)),
                val=(to_device(x_val), backend.to_device(y_val)),
                test=(to_device(raw["x_test"]), backend.to_device(raw["y_test"])))


def check_labels(raw, dataset, data_dir):
    """Every net has 10 outputs: more classes, or labels outside 0-9, get one clear line (on
    CuPy an out-of-range label would otherwise index silently out of bounds)."""
    classes = raw.get("classes") or []
    if len(classes) > nets.OUTPUTS:
        raise datasets.DataError(
            f"{dataset} under {data_dir} has {len(classes)} classes ({', '.join(classes[:12])}"
            f"{', ...' if len(classes) > 12 else ''}), but the nets have {nets.OUTPUTS} outputs; "
            f"use a folder with at most {nets.OUTPUTS} class folders")
    for split in ("y_train", "y_test"):
        labels = raw[split]
        if len(labels) and (labels.min() < 0 or labels.max() >= nets.OUTPUTS):
            raise datasets.DataError(
                f"{dataset} under {data_dir} has {split[2:]} labels from {labels.min()} to "
                f"{labels.max()}, but the nets have {nets.OUTPUTS} outputs (labels 0-"
                f"{nets.OUTPUTS - 1}); fix or replace the data files")


def write_json(path, obj, lines=False):
    """Write JSON (or JSON lines) atomically; a failed write leaves the old file intact."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w") as file:
            if lines:
                file.writelines(json.dumps(o) + "\n" for o in obj)
            else:
                json.dump(obj, file, indent=2)
                file.write("\n")
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise RunFolderError(f"could not write {path} ({error.strerror or error}); the files "
                             "written before are intact: free some space (or fix the folder's "
                             "permissions) and continue with --resume") from None


def evaluation_settings(config, args=None):
    """(mode, draws, seed) of the evaluation: the run's own, or the flags' where given."""
    sampled = config["slot"] and config["selection"] == "sample"
    mode = config.get("eval_mode") or ("sample" if sampled else "argmax")
    draws, seed = config.get("eval_draws") or DEFAULT_EVAL_DRAWS, config.get("eval_seed") or 0
    if args is not None and sampled:
        mode = args.eval_mode or mode
        draws = args.eval_draws or draws
        seed = seed if args.eval_seed is None else args.eval_seed
    return mode, draws, seed


def holds(config):
    """What a run's checkpoint holds, in words: for messages."""
    if config["slot"]:
        return "a slot machine"
    return "an edge-popup net" if config.get("edge_popup") else "learned weights"


def load_slot_machine(path):
    """(config, meta, net) of a greedy slot-machine checkpoint, for --export."""
    meta, params, _ = checkpoint.load(path)
    config = meta["config"]
    if not config["slot"]:
        raise CheckpointError(f"{path} holds {holds(config)}; --export writes slot machines")
    if config["selection"] != "greedy":
        raise CheckpointError(f"{path} holds a sampled slot machine, a distribution over "
                              "networks rather than one; --export takes greedy ones")
    net = build_net(config)
    checkpoint.load_params(net, params, path)
    return config, meta, net


def export_slot_machine(args):
    source, target = args.export
    config, meta, net = load_slot_machine(source)
    digest = checkpoint.options_digest(net)
    stored = meta.get("options_digest")
    if stored is not None and not checkpoint.digest_matches(net, digest, stored):
        raise CheckpointError(f"{source}: the slot options rebuilt from its seed differ from "
                              "the ones it was trained with (another slotnp version?)")
    layers = [(name, backend.to_host(layer.selected()), layer.K)
              for name, layer in nets.slot_layers(net)]
    try:
        export.write(target, config, digest, layers)
    except OSError as error:
        raise RunFolderError(f"could not write {target} ({error.strerror or error})") from None
    size = os.path.getsize(target)
    dense = 4 * sum(index.size for _, index, _ in layers)
    print(f"wrote {target}: {size:,} bytes; the same net's float32 weights: {dense:,} bytes "
          f"({size / dense:.4f} of them, {export.bits_for(config['K'])} bits a connection)")
    return 0


def evaluate_export(args):
    """--eval of an export: the options drawn again from the seed, picked by the indices."""
    try:
        header, indices = export.read(args.eval)
    except export.ExportError as error:
        raise CheckpointError(str(error)) from None
    config = header["config"]
    net = build_net(config)
    if not checkpoint.digest_matches(net, checkpoint.options_digest(net),
                                     header["options_digest"]):
        raise CheckpointError(f"{args.eval}: the options drawn again from its seed differ from "
                              "the ones it was exported with (another slotnp version?)")
    layers = dict(nets.slot_layers(net))
    if set(indices) != set(layers) or any(indices[n].shape != layers[n].weight_shape
                                          for n in layers):
        raise CheckpointError(f"{args.eval} does not match the network its config describes")
    frozen = nets.freeze(net, {n: backend.to_device(i) for n, i in indices.items()})
    data = load_data(config, data_dir_of(args, config))
    for split in ("val", "test"):
        print(f"{split} accuracy: {100 * training.accuracy(frozen, *data[split]):.2f}%")
    return 0


def evaluate_checkpoint(args):
    if export.is_export(args.eval):
        return evaluate_export(args)
    meta, params, _ = checkpoint.load(args.eval)
    config = meta["config"]
    net = build_net(config)
    checkpoint.load_params(net, params, args.eval)
    data = load_data(config, data_dir_of(args, config))
    mode, draws, seed = evaluation_settings(config, args)
    accuracies = training.evaluate(net, {"val": data["val"], "test": data["test"]},
                                   mode, draws, seed)
    if training.sampled_layers(net):
        print(f"evaluation: {mode}" + (f", mean of {draws} draws (seed {seed})"
                                       if mode == "sample" else ""))
    for split, value in accuracies.items():
        print(f"{split} accuracy: {100 * value:.2f}%")
    return 0


def start_run(args):
    """Everything a run needs: (config, data, net, optimizer, state, options digest).

    A new run builds its net from the config; --resume rebuilds it and loads last.npz (weights,
    velocities, epoch, history); --finetune freezes a trained slot machine into learned weights.
    """
    state = dict(epoch=0, history=[], best=None, seconds=0.0)
    if args.resume:
        path = os.path.join(args.out, "last.npz")
        meta, params, velocities = checkpoint.load(path)
        config, state = meta["config"], meta["state"]
    else:
        config, velocities = resolve_config(args), None
    if config["finetune"] and not args.resume:
        meta, params, _ = checkpoint.load(config["finetune"])
        source = meta["config"]
        if not source["slot"]:
            raise CheckpointError(f"{config['finetune']} holds {holds(source)}, not a slot "
                                  "machine; --finetune takes a slot-machine checkpoint")
        config.update(net=source["net"], dataset=source["dataset"], seed=source["seed"],
                      val_fraction=source["val_fraction"], augment=source["augment"],
                      normalise=source.get("normalise", "channels"),
                      data_dir=source.get("data_dir"))
    data_dir = data_dir_of(args, config)
    config["data_dir"] = os.path.abspath(data_dir)
    data = load_data(config, data_dir)          # also records the image shape the net needs
    memory.check(source if config["finetune"] and not args.resume else config,
                 sum(len(x) for x, _ in data.values()))
    if config["finetune"] and not args.resume:
        slot_net = build_net(source)
        checkpoint.load_params(slot_net, params, config["finetune"])
        net = nets.freeze(slot_net)
    else:
        net = build_net(config)
    digest = checkpoint.options_digest(net)
    if args.resume:
        if not checkpoint.digest_matches(net, digest, meta.get("options_digest", "")):
            raise CheckpointError(f"{path}: the slot options rebuilt from its seed differ from "
                                  "the ones it was trained with (another slotnp version?)")
        checkpoint.load_params(net, params, path)
    optimizer = optim.SGD(net.params, config["lr"], config["momentum"], config["weight_decay"])
    if velocities is not None:
        optimizer.load_state_dict(velocities)
    return config, data, net, optimizer, state, digest


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler's time limit, `kill`), handled as Ctrl-C is."""


def terminate(signum, frame):
    raise Terminated()


def main(argv=None):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with `&`
    try:
        backend.use(args.backend)
        if args.eval:
            return evaluate_checkpoint(args)
        if args.export:
            return export_slot_machine(args)
        return train(args)
    except (datasets.DataError, CheckpointError, backend.BackendError, RunFolderError,
            TrainingDiverged, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:  # NumPy's and CuPy's out-of-memory errors are MemoryErrors
        text = str(error).strip().splitlines()[0] if str(error).strip() else "an allocation failed"
        if not isinstance(error, memory.EstimateError):
            text = f"out of memory ({text}); lower --K or --batch-size"
        print(f"error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        what = "terminated" if isinstance(interrupt, Terminated) else "interrupted"
        print(f"\n{what}: the last finished epoch is in last.npz; continue with --resume",
              file=sys.stderr)
        return 143 if isinstance(interrupt, Terminated) else 130


class TrainingDiverged(RuntimeError):
    """The training loss stopped being finite."""


def evaluate_epoch(net, data, config):
    """val_acc and test_acc by the run's evaluation mode; with compare_eval_modes, also
    by_eval_mode: {mode: {val_acc, test_acc}} for every mode."""
    mode, draws, seed = evaluation_settings(config)
    splits = {"val": data["val"], "test": data["test"]}
    modes = EVALUATIONS if config.get("compare_eval_modes") else (mode,)
    by_mode = {}
    for each in modes:
        accuracies = training.evaluate(net, splits, each, draws, seed)
        by_mode[each] = dict(val_acc=accuracies["val"], test_acc=accuracies["test"])
    record = dict(by_mode[mode])
    if len(modes) > 1:
        record["by_eval_mode"] = by_mode
    return record


def best_by_eval_mode(history):
    """{mode: {best_epoch, val_acc, test_acc}} over the epochs that recorded every mode."""
    rows = [r for r in history if "by_eval_mode" in r]
    if not rows:
        return None
    best = {}
    for mode in rows[0]["by_eval_mode"]:
        top = max(rows, key=lambda r: r["by_eval_mode"][mode]["val_acc"])  # first of equals
        best[mode] = dict(best_epoch=top["epoch"], **top["by_eval_mode"][mode])
    return best


def train(args):
    """A new run, or (--resume) the rest of one, in its own locked output folder."""
    out = args.out if args.resume else resolve_config(args)["out"]
    if not args.resume:
        run_folder.check_new(out, args.overwrite, remove=False)  # refuse without touching it
    run_folder.make(out)
    with run_folder.Lock(out):
        if not args.resume:                                 # again, now that no one else can
            run_folder.check_new(out, args.overwrite)
        # Overflow in a diverging run is reported once, by the loss check after its epoch.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return train_in(out, args)


def train_in(out, args):
    config, data, net, optimizer, state, digest = start_run(args)
    plain.use(config.get("plain", False))
    if not args.resume:
        write_json(os.path.join(out, "config.json"), config)
    print("configuration:\n" + "\n".join(f"  {k}: {v}" for k, v in config.items()), flush=True)
    print(f"  backend: {backend.name()}\n  resuming at epoch: {state['epoch']}" if args.resume
          else f"  backend: {backend.name()}", flush=True)
    schedule = optim.CosineWithRestarts(config["lr"], config["epochs"], config["restarts"])
    augment = prepare.random_crop_flip if config["augment"] else None
    started = time.time()
    for epoch in range(state["epoch"], config["epochs"]):
        tick = time.time()
        rng = np.random.default_rng([config["seed"], epoch])   # every epoch's randomness
        net.reseed(config["seed"] * 100_003 + epoch)            # follows from (seed, epoch)
        before = training.selection_snapshot(net)
        batches = prepare.batches(len(data["train"][0]), config["batch_size"], rng)
        bar = None
        if not args.no_progress:
            from tqdm import tqdm
            bar = tqdm(total=len(batches), leave=False,
                       desc=f"epoch {epoch + 1}/{config['epochs']}", file=sys.stdout)

        def progress(steps, loss, acc):
            bar.update(steps - bar.n)
            bar.set_postfix(loss=f"{loss:.4f}", acc=f"{100 * acc:.2f}%")

        train_loss, train_acc = training.train_epoch(
            net, optimizer, schedule, epoch, *data["train"], batches, rng, augment,
            progress if bar else None)
        trained = time.time() - tick
        if bar:
            bar.close()
        if not math.isfinite(train_loss):
            kept = f"last.npz and best.npz keep epoch {epoch}" if epoch else "no epoch finished"
            raise TrainingDiverged(
                f"training diverged in epoch {epoch + 1} (the loss is {train_loss}); {kept}. "
                f"Start again with a smaller --lr (this run's is {config['lr']:g}) and another "
                "--out (or --overwrite)")
        record = dict(epoch=epoch + 1, lr=schedule.lr(epoch), train_loss=train_loss,
                      train_acc=train_acc)
        record.update(evaluate_epoch(net, data, config))
        record["seconds"] = round(time.time() - tick, 3)
        record["train_seconds"] = round(trained, 3)
        if config["slot"] or config.get("edge_popup"):
            record["selection_changed"] = training.fraction_changed(
                before, training.selection_snapshot(net))
        state["history"].append(record)
        state["epoch"] = epoch + 1
        state["seconds"] += time.time() - tick
        if state["best"] is None or record["val_acc"] > state["best"]["val_acc"]:
            state["best"] = dict(epoch=epoch + 1, val_acc=record["val_acc"],
                                 test_acc=record["test_acc"])
            checkpoint.save(os.path.join(out, "best.npz"), net,
                            dict(config=config, state=state, options_digest=digest))
        checkpoint.save(os.path.join(out, "last.npz"), net,
                        dict(config=config, state=state, options_digest=digest), optimizer)
        write_json(os.path.join(out, "metrics.jsonl"), state["history"], lines=True)
        print(f"epoch {epoch + 1:3d}  lr {record['lr']:.4g}  loss {train_loss:.4f}  "
              f"train {100 * train_acc:.2f}%  val {100 * record['val_acc']:.2f}%  "
              f"test {100 * record['test_acc']:.2f}%  ({record['seconds']:.1f}s)", flush=True)
        if args.time_limit and time.time() - started > 60 * args.time_limit and \
                state["epoch"] < config["epochs"]:
            print(f"time limit reached after epoch {state['epoch']}; continue with "
                  f"python train.py --resume --out {out}", flush=True)
            break
    from slotnp.plot import learning_curves
    try:
        learning_curves(state["history"], os.path.join(out, "curves.png"))
    except OSError as error:
        raise RunFolderError(f"could not write {os.path.join(out, 'curves.png')} "
                             f"({error.strerror or error}); the checkpoints and metrics are "
                             "intact") from None
    best = state["best"]
    result = dict(best_epoch=best["epoch"], val_acc=best["val_acc"], test_acc=best["test_acc"],
                  epochs_run=state["epoch"], epochs=config["epochs"],
                  wall_minutes=round(state["seconds"] / 60, 2), backend=backend.name())
    if config["slot"] and config["selection"] == "sample":
        mode, draws, seed = evaluation_settings(config)
        result.update(eval_mode=mode, eval_draws=draws if mode == "sample" else None,
                      eval_seed=seed if mode == "sample" else None)
        by_mode = best_by_eval_mode(state["history"])
        if by_mode:
            result["by_eval_mode"] = by_mode
    write_json(os.path.join(out, "result.json"), result)
    print(f"test accuracy at the best validation epoch ({best['epoch']}): "
          f"{100 * best['test_acc']:.2f}%  (val {100 * best['val_acc']:.2f}%, "
          f"{result['wall_minutes']:.1f} min)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
