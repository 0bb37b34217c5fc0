"""How a run evaluates its net each epoch: greedy slot nets and learned nets by their one
weight per connection; a sampled (PS) slot net as its run says (slot.EVALUATIONS), by default
the mean accuracy of a few networks drawn from softmax(scores), as the authors' code does."""
import numpy as np

from ..core.training import accuracy
from ..slots import EVALUATIONS

DEFAULT_EVAL_DRAWS = 5  # sampled nets: networks drawn per evaluation (see the README's ablation)


def sampled_layers(net):
    """The slot layers of `net` that sample their weights (selection "sample")."""
    return [layer for _, layer in net.named_layers()
            if hasattr(layer, "slots") and layer.slots.selection == "sample"]


def evaluate(net, splits, mode="argmax", draws=1, seed=0):
    """Accuracy on each (x, y) of `splits` (a dict name -> (x, y)): a dict name -> accuracy.

    Greedy slot nets and learned nets evaluate one way (argmax). A sampled slot net evaluates
    as `mode` says (slot.EVALUATIONS): "sample" draws `draws` networks, draw d from the seeds
    (seed, d, layer), and reports each split's mean accuracy over them (every split sees the
    same draws); "expected" uses the mean option under softmax(scores); "argmax" the best score.
    """
    layers = sampled_layers(net)
    draws = draws if layers and mode == "sample" else 1
    totals = dict.fromkeys(splits, 0.0)
    for draw in range(draws):
        for index, layer in enumerate(layers):
            layer_seed = np.random.SeedSequence([seed, draw, index]).generate_state(1)[0]
            layer.slots.set_evaluation(mode, int(layer_seed))
        for name, (x, y) in splits.items():
            totals[name] += accuracy(net, x, y)
    for layer in layers:
        layer.slots.set_evaluation("argmax")
    return {name: total / draws for name, total in totals.items()}


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


def evaluate_epoch(net, data, config, best_val=None):
    """val_acc and test_acc by the run's evaluation mode; with compare_eval_modes, also
    by_eval_mode: {mode: {val_acc, test_acc}} for every mode. Given `best_val` (the best
    validation accuracy so far, --test-at new-best), the test set is evaluated only where
    val_acc beats it: test_acc is None elsewhere (the same draws either way: seeded)."""
    mode, draws, seed = evaluation_settings(config)
    if best_val is not None and not config.get("compare_eval_modes"):
        val = evaluate(net, {"val": data["val"]}, mode, draws, seed)["val"]
        test = evaluate(net, {"test": data["test"]}, mode, draws, seed)["test"] \
            if val > best_val else None
        return dict(val_acc=val, test_acc=test)
    splits = {"val": data["val"], "test": data["test"]}
    modes = EVALUATIONS if config.get("compare_eval_modes") else (mode,)
    by_mode = {}
    for each in modes:
        accuracies = evaluate(net, splits, each, draws, seed)
        by_mode[each] = dict(val_acc=accuracies["val"], test_acc=accuracies["test"])
    record = dict(by_mode[mode])
    if len(modes) > 1:
        record["by_eval_mode"] = by_mode
    return record


def evaluation_result(config, history):
    """What result.json adds for a sampled (PS) net: how it was evaluated and, where every
    mode was recorded, each mode at its own best epoch (by_eval_mode)."""
    if not (config["slot"] and config["selection"] == "sample"):
        return {}
    mode, draws, seed = evaluation_settings(config)
    result = dict(eval_mode=mode, eval_draws=draws if mode == "sample" else None,
                  eval_seed=seed if mode == "sample" else None)
    rows = [r for r in history if "by_eval_mode" in r]
    if rows:
        result["by_eval_mode"] = {}
        for each in rows[0]["by_eval_mode"]:
            top = max(rows, key=lambda r: r["by_eval_mode"][each]["val_acc"])  # first of equals
            result["by_eval_mode"][each] = dict(best_epoch=top["epoch"],
                                                **top["by_eval_mode"][each])
    return result
