"""train.py's command line: its flags, each checked as it is read, and the one-line errors.

A bad flag ends in one line that names it and what it accepts (`OneLineErrors`), never the
whole usage block or a traceback. Fixed defaults are set here; those that depend on other
flags (the net, the method, the selection) are resolved in run/config.py.
"""
import argparse
import contextlib
import os
import signal
import sys
import time

import numpy as np

import datasets
from datasets import prepare
from ..core import backend, twins
from ..slots import nets
from . import memory, run_folder
from .checkpoint import CheckpointError
from .config import BIASES, DEFAULT_MOMENTUM, DEFAULT_OPTION_BOUND, LEARNED_LR, METHODS, \
    SCHEDULES
from .evaluation import DEFAULT_EVAL_DRAWS, EVALUATIONS
from .run_folder import RunFolderError


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
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


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """--help with each flag's default, except for switches (False) and where the default is
    None: run/config.py resolves those from the other flags, as each flag's help says."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None, description=None):
    """train.py's flags (`description` opens --help), parsed and checked; `given` holds the
    ones on the command line."""
    p = OneLineErrors(description=description, formatter_class=DefaultsShown)
    p.add_argument("--net", choices=nets.NETS, default="lenet",
                   help="the network: the paper's Lenet-300-100 (MNIST), CONV-2/4/6 or VGG-19 "
                        "(CIFAR-10)")
    p.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                   help="numpy on the CPU, cupy on a GPU (requirements-gpu.txt)")
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
    p.add_argument("--selection", choices=("greedy", "sample"), default="greedy",
                   help="greedy (GS): each connection's best-scored option; sample (PS): one "
                        "drawn from softmax(scores) at every training forward")
    p.add_argument("--padding", choices=nets.PADDINGS, default="same",
                   help="same: every convolution padded, as the lottery-ticket nets of the "
                        "paper's table; authors: CONV-2/4 and CONV-6's first four unpadded, as "
                        "the authors' released code")
    p.add_argument("--dropout-at", choices=nets.DROPOUT_PLACES, default="after",
                   help="the dropout of the first two FC layers: after: on their outputs, as "
                        "the paper's text; before: on their inputs, as the authors' code")
    p.add_argument("--bias", choices=BIASES, default="none",
                   help="none: no biases, as the paper's nets; learned: every convolution and "
                        "FC layer adds a bias, trained by SGD beside the scores (an ablation)")
    p.add_argument("--bias-lr", type=positive_float, default=None, metavar="RATE",
                   help="--bias learned: the biases' rate, scaled by the run's schedule as its "
                        f"own (default: learned weights' rate, {LEARNED_LR:g}; a run of "
                        "learned weights: its --lr)")
    p.add_argument("--shared", nargs="?", const="layer", choices=("layer", "network"),
                   help="one set of K values per layer (--shared, or --shared layer), or one "
                        "for the whole net, in units of each layer's sigma (--shared network)")
    p.add_argument("--option-bound", type=positive_float, default=DEFAULT_OPTION_BOUND,
                   metavar="B",
                   help="slot options ~ U(-B*sigma, B*sigma): 1 is the paper's text, 1.73205 "
                        "(sqrt 3, the Glorot-uniform bound) the authors' released code, which "
                        "reproduces the paper's MNIST figures (README)")
    p.add_argument("--score-form", choices=("factored", "explicit"), default="factored",
                   help="how slot scores are stored and updated: the same SGD either way; "
                        "explicit keeps all K scores (slower, see slotnp/slots/slot.py)")
    p.add_argument("--dropout", type=float, default=None,
                   help="drop probability after FC1/FC2 (default 0.5 for CONV-2/4/6, 0 for lenet "
                        "and edge-popup; vgg19 has one FC layer, so no dropout)")
    p.add_argument("--epochs", type=non_negative_int, default=None,
                   help="default 200 (330 for learned conv4/conv6, 100 for edge-popup); 0 "
                        "evaluates the net as it is drawn, untrained, and records it as any run")
    p.add_argument("--batch-size", type=positive_int, default=128,
                   help="images per SGD step")
    p.add_argument("--lr", type=positive_float, default=None,
                   help="default: 0.2 greedy K<=8, 0.1 greedy K>8, 25 sample, 0.01 learned, 0.1 "
                        "edge-popup")
    p.add_argument("--momentum", type=fraction, default=None,
                   help=f"SGD momentum (default {DEFAULT_MOMENTUM})")
    p.add_argument("--weight-decay", type=non_negative_float, default=None,
                   help="SGD weight decay on every trainable array (default: see "
                        "run/config.py's default_weight_decay and the README)")
    p.add_argument("--eval-mode", choices=EVALUATIONS, default=None,
                   help="how a sampled slot net is evaluated: sample (draw weights from "
                        "softmax(scores), as the authors' code does), expected (the mean option) "
                        "or argmax (default sample; greedy and learned nets always use argmax)")
    p.add_argument("--eval-draws", type=positive_int, default=None,
                   help=f"with --eval-mode sample: networks drawn per evaluation, accuracies "
                        f"averaged (default {DEFAULT_EVAL_DRAWS})")
    p.add_argument("--eval-seed", type=non_negative_int, default=None,
                   help="seed of the evaluation draws, the same every epoch (default 0)")
    p.add_argument("--compare-eval-modes", action="store_true",
                   help="a sampled slot net also records every other evaluation mode per epoch")
    p.add_argument("--schedule", choices=SCHEDULES, default="sgdr",
                   help="the learning rate: sgdr: the cosine with warm restarts (--restarts), "
                        "as the paper; constant: --lr every epoch, as the authors' code")
    p.add_argument("--restarts", type=epoch_list, default=None,
                   help="epochs where the cosine schedule restarts (default 25,75; none for "
                        "edge-popup, whose paper uses one cosine, and with --schedule constant)")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="draws the net (options, scores, weights), the validation split and "
                        "every epoch's randomness")
    p.add_argument("--score-bound", type=score_bound, default=None, metavar="BOUND",
                   help="the score bound: initial scores ~ U(0, BOUND*sigma) in every slot "
                        "layer; 'options' is the option bound (the authors' code), 'paper' the "
                        "paper's lambda: 1 "
                        "for convolutions, 0.1 for linear layers (default: options for GS, "
                        "paper for PS, as the README's ablation chose)")
    p.add_argument("--augment", choices=tuple(prepare.AUGMENTATIONS), default=None,
                   help="training images: crop-flip: random crops and flips (the paper's, the "
                        "default on CIFAR-10); flip: flips only (the authors' code); none (the "
                        "default on MNIST)")
    p.add_argument("--normalise", choices=("channels", "none"), default=None,
                   help="inputs: channels = (pixel/255 - mean) / std per channel, with the "
                        "training split's statistics; none = pixel/255 in [0, 1] (default: "
                        "none for MNIST, channels for CIFAR-10 and for edge-popup, as the "
                        "authors' loaders)")
    p.add_argument("--dataset", choices=datasets.DATASETS, default=None,
                   help="default: mnist for lenet, cifar10 otherwise")
    p.add_argument("--data-dir", default=None,
                   help="folder with (or for) the data sets (default: data; for --resume, "
                        "--eval and --finetune, the folder the run was trained from)")
    p.add_argument("--out", default=None,
                   help="output folder (default runs/<net>-<variant>-seed<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from last.npz")
    p.add_argument("--resume-or-start", action="store_true",
                   help="--resume when --out holds last.npz, else a new run: one command for a "
                        "scheduler to start again after a time limit (sweep.py prints these)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run that --out already holds (otherwise refused)")
    p.add_argument("--finetune", metavar="CHECKPOINT",
                   help="freeze a trained slot machine into learned weights and fine-tune them "
                        "(its net, dropout, padding, data and augmentation: the slot machine's)")
    p.add_argument("--eval", metavar="FILE",
                   help="only evaluate a checkpoint, or a slot machine exported by --export")
    p.add_argument("--export", nargs=2, metavar=("CHECKPOINT", "FILE"),
                   help="write a greedy slot machine as its config and seed plus the index of "
                        "every connection's option in ceil(log2 K) bits")
    p.add_argument("--time-limit", type=positive_float, metavar="MINUTES",
                   help="stop cleanly after the epoch that passes this time (resume later)")
    p.add_argument("--stop-after", type=positive_int, metavar="EPOCH",
                   help="stop cleanly after this epoch (resume later): e.g. 25, a full-protocol "
                        "run's first SGDR cycle, which sweep.py records as the 25-epoch run")
    p.add_argument("--test-at", choices=("every-epoch", "new-best"), default="every-epoch",
                   help="evaluate the test set every epoch, or only where the validation "
                        "accuracy is a new best (each evaluation mode's own): the same result "
                        "(the test accuracy at the best validation epoch), less evaluation")
    p.add_argument("--plain", action="store_true",
                   help="the plain engine alone (slotnp/core and slots: im2col convolution, "
                        "explicit scores, no threads), no fast twin: the same results up to "
                        "rounding, slower")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    # The flags on the command line itself (--resume checks them against the run): parsed
    # again into a namespace that already holds a marker for each, so argparse adds no
    # defaults; a flag given at its default counts, an absent one does not.
    unset = object()
    given = p.parse_args(argv, argparse.Namespace(**{dest: unset for dest in vars(args)}))
    args.given = {dest: value for dest, value in vars(given).items() if value is not unset}
    if args.dropout is not None and not 0 <= args.dropout < 1:
        p.error(f"argument --dropout: must be in [0, 1), got {args.dropout}")
    if args.schedule == "constant" and args.restarts:
        p.error("--restarts are the cosine schedule's; --schedule constant has none: drop one")
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
        trained = run_folder.trained_files(args.out)
        if not args.resume and trained:
            p.error(f"{args.out} holds a trained run ({', '.join(trained)}) but no last.npz to "
                    "resume from; pick another --out, or move that run away to start again")
        # no last.npz and nothing trained: no epoch ever finished there, so nothing is lost
        args.overwrite = not args.resume
    return args


class OneLineError(RuntimeError):
    """A failure of the run itself (its loss diverged, say), told in one line."""


def fast_twins():
    """The slotnp.fast package (imported, its twins register themselves), or one line where it
    cannot be imported: the plain engine runs without it (--plain)."""
    try:
        from .. import fast
    except ImportError as error:
        if (getattr(error, "name", None) or "").split(".")[0] in REQUIRED_PACKAGES:
            raise                               # one_line_errors: pip install -r ...
        raise OneLineError(f"the fast twins (slotnp/fast) cannot be imported ({error}): "
                           "restore that folder, or train with the plain engine: --plain") \
            from None
    return fast


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cluster scheduler's time limit, `kill`), handled as Ctrl-C is."""


def interrupt(signum, frame):
    """SIGINT and SIGTERM: work on helper threads ends at its next chunk (the twin registered
    as "stop_work"), and the main thread unwinds from where it is."""
    stop = twins.find("stop_work")
    if stop is not None:
        stop()
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


_paused_seconds = 0.0     # time this process spent stopped by SIGTSTP (see `pause`)


def pause(signum, frame):
    """SIGTSTP (Ctrl-Z, or `kill -TSTP`, to pause a run while something is measured beside
    it): stop until SIGCONT, and count the time stopped, which `running_time` leaves out."""
    global _paused_seconds
    stopped = time.time()
    os.kill(os.getpid(), signal.SIGSTOP)
    _paused_seconds += time.time() - stopped


def running_time():
    """time.time() less the time this process spent paused by SIGTSTP: an epoch's seconds
    count its work, not a pause beside it."""
    return time.time() - _paused_seconds


def saved_in(out):
    """What an interrupted run leaves, truthfully: its last finished epoch in out/last.npz,
    or nothing."""
    path = os.path.join(out, "last.npz") if out else None
    if path and os.path.isfile(path):
        return (f"the last finished epoch is in {path}; continue with: python train.py "
                f"--resume --out {out}")
    return "no epoch had finished, so nothing was saved; start it again (with --overwrite)"


# The packages of requirements.txt that slotnp imports only where it needs them, by import name
REQUIRED_PACKAGES = {"PIL": "Pillow", "tqdm": "tqdm", "threadpoolctl": "threadpoolctl"}


def one_line_errors(work, saved=lambda: "nothing was written"):
    """Run work() and return its exit status; every failure it can meet becomes one line on
    stderr (status 2), an interrupt a line saying what is saved, as saved() tells (130, or 143
    for SIGTERM)."""
    for signum in (signal.SIGTERM, signal.SIGINT):   # SIGINT even when started with `&`
        signal.signal(signum, interrupt)
    if hasattr(signal, "SIGTSTP"):                    # POSIX
        signal.signal(signal.SIGTSTP, pause)
    try:
        return work()
    except (datasets.DataError, CheckpointError, backend.BackendError, RunFolderError,
            OneLineError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        package = REQUIRED_PACKAGES.get((error.name or "").split(".")[0])
        if package is None:                     # not a package of requirements.txt: a bug
            raise
        print(f"error: {package} is not installed (import {error.name}): pip install -r "
              "requirements.txt", file=sys.stderr)
        return 2
    except MemoryError as error:  # NumPy's and CuPy's out-of-memory errors are MemoryErrors
        text = str(error).strip().splitlines()[0] if str(error).strip() else "an allocation failed"
        if not isinstance(error, memory.EstimateError):
            text = f"out of memory ({text}); lower --K or --batch-size"
        print(f"error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stopped:
        what = "terminated" if isinstance(stopped, Terminated) else "interrupted"
        print(f"\n{what}: {saved()}", file=sys.stderr)
        return 143 if isinstance(stopped, Terminated) else 130


@contextlib.contextmanager
def progress_bar(args, total, description):
    """A tqdm bar of `total` steps, as the callback train_epoch calls every few steps
    (progress(steps, loss, acc)); None with --no-progress."""
    if args.no_progress:
        yield None
        return
    from tqdm import tqdm
    bar = tqdm(total=total, leave=False, desc=description, file=sys.stdout)

    def progress(steps, loss, acc):
        bar.update(steps - bar.n)
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{100 * acc:.2f}%")
    try:
        yield progress
    finally:
        bar.close()
