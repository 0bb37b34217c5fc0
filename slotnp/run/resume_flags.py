"""--resume and the flags given with it: a resumed run keeps the configuration it was saved
with, so a flag on the command line that would change it (--epochs 300 on a run of 200) is
refused in one line, naming it. Flags that match the run pass (a sweep's --resume-or-start
gives all of its flags), and so do flags that do not apply to it, as a new run ignores them
(--K on learned weights).
"""
import os

from ..core import optim
from . import compat
from .config import FROM_SOURCE, SHARING

# The flags that define a run, by the configuration key each sets (the others say how this
# invocation runs: --out, --data-dir, --time-limit, --backend, --test-at, ...). --plain picks
# the engine, so it passes, except on factored scores, which the plain engine cannot hold.
RUN_FLAGS = {"net": "net", "method": "method", "learned": "method", "finetune": "finetune",
             "K": "K", "selection": "selection", "shared": "shared",
             "option_bound": "option_bound", "score_bound": "score_bound",
             "score_form": "score_form", "plain": "score_form", "keep": "edge_popup",
             "weight_init": "weight_init", "dropout": "dropout", "padding": "padding",
             "dropout_at": "dropout_at", "bias": "bias", "bias_lr": "bias_lr",
             "epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "momentum": "momentum",
             "weight_decay": "weight_decay", "schedule": "schedule", "restarts": "restarts",
             "seed": "seed", "dataset": "dataset", "augment": "augment", "normalise": "normalise",
             "eval_mode": "eval_mode", "eval_draws": "eval_draws", "eval_seed": "eval_seed",
             "compare_eval_modes": "compare_eval_modes"}


class ChangedRun(ValueError):
    """Flags given with --resume that would change the run (one line, by cli.one_line_errors)."""


SLOT_KEYS = ("K", "selection", "shared", "option_bound", "score_form", "score_bound")
POPUP_KEYS = ("edge_popup", "weight_init")
SAMPLING_KEYS = ("eval_mode", "eval_draws", "eval_seed", "compare_eval_modes")


def applies(key, run):
    """Whether a configuration key means anything to `run` (a configuration): a new run
    ignores the slot flags of learned weights, say, and so does its --resume."""
    if run["finetune"] and (key in FROM_SOURCE or key == "method"):   # learned, always
        return False
    if key in SLOT_KEYS:
        return run["slot"]
    if key in POPUP_KEYS:
        return run["method"] == "edge-popup"
    if key in SAMPLING_KEYS:
        return run["slot"] and run["selection"] == "sample"
    if key == "bias_lr":
        return run["bias"] == "learned"
    return True


def setting(flag, value, given, run):
    """The configuration value that `flag`, given as `value`, stands for in `run`, as a new run
    would read it (`given`: every flag on the command line)."""
    if flag == "learned" or flag == "method" and given.get("learned"):
        return "learned"                      # --learned wins over --method, as in cli.py
    if flag == "plain":                       # the plain engine keeps explicit scores
        return "explicit"
    if flag == "score_form" and "plain" in given:
        return "explicit"
    if flag == "shared":
        return SHARING[value]
    if flag == "score_bound" and value in ("paper", "options"):
        return None if value == "paper" else given.get("option_bound", run["option_bound"])
    if flag == "restarts":
        return restarts_used(value, run["epochs"])
    if flag == "finetune":                    # the source, wherever the path is given from
        return os.path.realpath(value)
    return value


def restarts_used(restarts, epochs):
    """The cycles' starts that SGDR makes of `restarts` over `epochs` (sorted, within them)."""
    return [start for start, _ in optim.CosineWithRestarts(1.0, epochs, restarts).cycles[1:]]


def run_setting(key, run):
    """A key of `run` as `setting` gives it."""
    if key == "restarts":
        return restarts_used(run["restarts"], run["epochs"])
    if key == "finetune" and run["finetune"]:
        return os.path.realpath(run["finetune"])
    return run.get(key)       # runs before edge-popup and the score bound saved neither: None


def shown(key, value):
    """A configuration value as its flag writes it: paper, 25,75, off, 0.1, none."""
    if key == "score_bound" and value is None:
        return "paper"
    if value is None or value == []:
        return "none"
    if key == "shared":
        value = {False: "off", True: "layer"}.get(value, value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def check(given, saved):
    """Refuse, in one line, the flags `given` (dest: value as parsed, cli.parse_args) that
    would change the run `saved` (its configuration)."""
    run = compat.completed(saved)
    changed = [(flag, key) for flag, key in RUN_FLAGS.items() if flag in given and
               applies(key, run) and setting(flag, given[flag], given, run) !=
               run_setting(key, run)]
    if changed:
        said = ", ".join(
            "--" + flag.replace("_", "-") +
            ("" if given[flag] is True else " " + shown(flag, given[flag])) +
            f" (the run's {key.replace('_', ' ')}: {shown(key, run.get(key))})"
            for flag, key in changed)
        raise ChangedRun(f"--resume continues the run as it was configured, and the flags "
                         f"given would change it: {said}; drop them, or train that as a new "
                         "run in another --out")
