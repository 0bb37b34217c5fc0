"""A run's configuration: the defaults, the full configuration of a new run (config.json), and
what a configuration builds: its network and its data.

The defaults are the ones the README's ablation chose (the paper's text where it reproduced the
paper, the authors' code where that did); `resolve_config` writes every one of them out, so a
run's config.json says exactly what ran.
"""
import os

import numpy as np

import datasets
from datasets import prepare
from ..core import backend, init, optim
from ..slots import nets
from . import checkpoint, compat
from .checkpoint import CheckpointError
from .evaluation import DEFAULT_EVAL_DRAWS
from .run_folder import biased_layers

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
# The paper's augmentation: random crops and flips on CIFAR-10 (the authors' code: flips only).
DEFAULT_AUGMENT = {"mnist": "none", "cifar10": "crop-flip", "synthetic": "none"}
METHODS = ("slot", "learned", "edge-popup")
# The train.py choices a sweep's run may vary besides its method: the authors' code's
# departures from the paper's protocol. Each: (train.py's default, the prefix of its value in
# the run's name); a default is left out of the name, config and flags, so older runs keep
# their names.
VARIATIONS = {"padding": ("same", "pad"),           # authors: the leading convolutions unpadded
              "schedule": ("sgdr", ""),             # constant: the same rate every epoch
              "dropout_at": ("after", "dropout"),   # before: on the FC layers' inputs
              "augment": (None, "augment"),         # None: the data set's (DEFAULT_AUGMENT)
              "lr": (None, "lr"),                   # None: the paper's rate (paper_lr)
              "bias": ("none", "bias"),             # learned: every layer adds a learned bias
              "bias_lr": (None, "biaslr")}          # None: bias_lr_default
BIASES = ("none", "learned")
SCHEDULES = ("sgdr", "constant")


def variation_default(key, dataset):
    """train.py's default of a VARIATIONS key on `dataset` (None for lr: the paper's rate)."""
    return DEFAULT_AUGMENT[dataset] if key == "augment" else VARIATIONS[key][0]


def variation_text(key, value):
    """A variation's value as a name and a flag write it: 0.1, constant, authors."""
    return f"{value:g}" if key in ("lr", "bias_lr") and value is not None else str(value)


def bias_lr_default(method, lr):
    """The base rate of learned biases: learned weights' own rate (`lr`, the run's), and for
    the scores of slot machines and edge-popup, whose rates (0.1 to 25) are of another scale,
    the rate learned weights train at."""
    return lr if method == "learned" else LEARNED_LR


def variation_name(key, value):
    """A variation's part of a run's name: padauthors, constant, lr0.1."""
    return VARIATIONS[key][1] + variation_text(key, value)


# The authors' released code's protocol for CONV-2 on CIFAR-10 (README): no weight decay, its
# departures from the paper's text, and its epochs and constant rates by method.
AUTHORS_PROTOCOL = dict(weight_decay=0.0, padding="authors", schedule="constant",
                        dropout_at="before", augment="flip")
AUTHORS_EPOCHS = {"greedy": 140, "sample": 180, "learned": 240}


def authors_lr(selection, K=None):
    """The authors' rate: GS 0.1 (K <= 8) or 0.01, PS 50; None for learned weights (selection
    None), whose 0.01 is train.py's default too."""
    if selection is None:
        return None
    return 50.0 if selection == "sample" else 0.1 if K <= 8 else 0.01


# Edge-popup's own protocol (its paper and code): SGD lr 0.1 with one cosine, weight decay 1e-4
# on the scores, 100 epochs, no dropout; its MNIST loader normalises the inputs.
EDGE_POPUP = dict(lr=0.1, restarts=[], weight_decay=1e-4, epochs=100, dropout=0.0,
                  normalise="channels")
# --shared as config.json records it: True for a layer's own K values (as before "network"
# existed), "network" for the net's
SHARING = {None: False, "layer": True, "network": "network"}

DEFAULT_MOMENTUM = 0.9  # the paper's, for every net and selection


def default_weight_decay(selection):
    """The weight decay train.py uses unless told otherwise: selection "greedy", "sample", or
    None for learned weights.

    Sampling's lr of 25 makes any decay dominate its scores (b of the factored form falls to
    ~1e-42 within 6 epochs at 1e-4), so sampled nets train without it, as in the authors' code.
    """
    return 0.0 if selection == "sample" else 1e-4


def paper_lr(selection, K):
    """The paper's learning rate: 0.2 (greedy, K <= 8), 0.1 (greedy, K > 8), 25 (sampling)."""
    if selection == "sample":
        return 25.0
    return 0.2 if K <= 8 else 0.1


def resolve_config(args):
    """The full, explicit configuration of a new run (printed and saved as config.json)."""
    method = "learned" if args.finetune else args.method
    slot, popup = method == "slot", method == "edge-popup"
    own = EDGE_POPUP if popup else {}
    dataset = args.dataset or DEFAULT_DATASET[args.net]
    long_run = method == "learned" and args.net in ("conv4", "conv6")
    sampled = slot and args.selection == "sample"
    dropout = own.get("dropout", nets.DEFAULT_DROPOUT[args.net])
    lr = args.lr or own.get("lr", paper_lr(args.selection, args.K) if slot else LEARNED_LR)
    biased = args.bias == "learned"
    config = dict(net=args.net, method=method, slot=slot, K=args.K if slot else None,
                  selection=args.selection if slot else None,
                  shared=SHARING[args.shared] if slot else False,
                  option_bound=args.option_bound if slot else None,
                  score_form=("explicit" if args.plain else args.score_form) if slot else None,
                  plain=args.plain,
                  options_version=init.OPTIONS_VERSION if slot else None,
                  score_bound=resolve_score_bound(args) if slot else None,
                  edge_popup=args.keep if popup else None,
                  weight_init=args.weight_init if popup else None,
                  dropout=dropout if args.dropout is None else args.dropout,
                  padding=args.padding, dropout_at=args.dropout_at, bias=args.bias,
                  bias_lr=(args.bias_lr or bias_lr_default(method, lr))
                  if biased or args.finetune else None,   # (fine-tuning: biases if its source's)
                  epochs=own.get("epochs", 330 if long_run else 200) if args.epochs is None
                  else args.epochs,
                  batch_size=args.batch_size, lr=lr,
                  momentum=DEFAULT_MOMENTUM if args.momentum is None else args.momentum,
                  weight_decay=own.get("weight_decay", default_weight_decay(
                      args.selection if slot else None))
                  if args.weight_decay is None else args.weight_decay,
                  schedule=args.schedule,
                  restarts=[] if args.schedule == "constant" else (
                      own.get("restarts", [25, 75]) if args.restarts is None
                      else args.restarts), seed=args.seed,
                  dataset=dataset, val_fraction=datasets.VALIDATION_FRACTION[dataset],
                  augment=args.augment or DEFAULT_AUGMENT[dataset],
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
    if slot and args.shared:
        variant += f"-shared{args.shared}"
    for key in ("padding", "schedule", "dropout_at", "augment", "bias", "bias_lr"):
        value = getattr(args, key) if key != "bias_lr" or biased else None
        if value not in (None, variation_default(key, dataset)):
            variant += "-" + variation_name(key, value)
    config["out"] = args.out or os.path.join("runs", f"{args.net}-{variant}-seed{args.seed}")
    return config


def resolve_score_bound(args):
    """The initial scores' bound S of a slot run as a number, or None for the paper's lambda."""
    chosen = args.score_bound or DEFAULT_SCORE_BOUND[args.selection]
    if chosen == "paper":
        return None
    return args.option_bound if chosen == "options" else chosen


def build_net(config):
    """The network a configuration describes (new, or to load a checkpoint into)."""
    config = compat.completed(config)               # an older run's, as it ran
    image_size = None
    if config["net"] != "lenet" and config.get("image_shape"):
        image_size = config["image_shape"][-1]
    return nets.build(config["net"], slot=config["slot"], K=config["K"] or 1,
                      edge_popup=config.get("edge_popup"), weight_init=config["weight_init"],
                      selection=config["selection"] or "greedy", seed=config["seed"],
                      shared=config["shared"], image_size=image_size,
                      dropout=config["dropout"], option_bound=config.get("option_bound") or 1.0,
                      score_form=config["score_form"], options_version=config["options_version"],
                      score_bound=config.get("score_bound"), padding=config["padding"],
                      dropout_at=config["dropout_at"], bias=config["bias"] == "learned")


def bias_rates(config, net):
    """SGD's lr_scale of a run's learned biases: each trains at bias_lr / lr times the rate of
    the step ({} without biases)."""
    config = compat.completed(config)
    return {f"{name}.b": config["bias_lr"] / config["lr"] for name, _ in biased_layers(net)}


def schedule_of(config):
    """The learning-rate schedule of a run: SGDR (the paper's) or a constant rate."""
    if compat.completed(config)["schedule"] == "constant":
        return optim.ConstantRate(config["lr"])
    return optim.CosineWithRestarts(config["lr"], config["epochs"], config["restarts"])


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
    if raw["x_test"].shape[1:] != images:
        raise datasets.DataError(f"{config['dataset']} under {data_dir}: the training images "
                                 f"are {images}, the test images {raw['x_test'].shape[1:]}; "
                                 "give both splits images of one size")
    (x_train, y_train), (x_val, y_val) = prepare.split(raw["x_train"], raw["y_train"],
                                                       config["val_fraction"], config["seed"])
    if min(len(x_train), len(x_val), len(raw["x_test"])) == 0:
        raise datasets.DataError(f"{config['dataset']} under {data_dir} has too few images for "
                                 f"a training, a validation ({config['val_fraction']:.0%} of "
                                 f"{len(raw['x_train'])} training images) and a test split: "
                                 f"{len(x_train)}, {len(x_val)} and {len(raw['x_test'])}; use "
                                 "more data")
    mean, std = prepare.channel_stats(x_train)
    if compat.completed(config)["normalise"] == "none":       # pixels / 255, in [0, 1]
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


def holds(config):
    """What a run's checkpoint holds, in words: for messages."""
    if config["slot"]:
        return "a slot machine"
    return "an edge-popup net" if config.get("edge_popup") else "learned weights"


# What a fine-tuning run's configuration takes from its slot machine, whatever the flags say
FROM_SOURCE = ("net", "dataset", "seed", "val_fraction", "augment", "normalise", "dropout",
               "padding", "dropout_at", "bias")


def finetune_source(config):
    """(the slot machine's config, its params, its path) for a --finetune run, whose config
    takes the net, data and seed from it."""
    path = config["finetune"]
    meta, params, _ = checkpoint.load_run(path)
    source = compat.completed(meta["config"])
    if not source["slot"]:
        raise CheckpointError(f"{path} holds {holds(source)}, not a slot machine; --finetune "
                              "takes a slot-machine checkpoint")
    config.update({key: source[key] for key in FROM_SOURCE}, data_dir=source.get("data_dir"))
    if source["bias"] != "learned":
        config["bias_lr"] = None
    return source, params, path


def frozen_net(source, params, path):
    """The slot machine of a --finetune run, frozen into learned weights (nets.freeze)."""
    slot_net = build_net(source)
    checkpoint.load_params(slot_net, params, path)
    return nets.freeze(slot_net)
