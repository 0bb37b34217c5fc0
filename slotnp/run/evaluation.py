"""How a run evaluates its net each epoch. Greedy slot nets and learned nets have one weight per
connection. A sampled (PS) slot net is a distribution over networks; it is evaluated as its run
says (EVALUATIONS), by default as the authors' code does: the mean accuracy of a few networks
drawn from softmax(scores), each evaluated as a dense net holding its draw."""
import numpy as np

from ..core import backend
from ..core.sequential import Sequential
from ..core.training import accuracy

# How a sampled net is evaluated: draws from softmax(scores) (the authors' code), the mean
# option under it, or the best score's option.
EVALUATIONS = ("sample", "expected", "argmax")
DEFAULT_EVAL_DRAWS = 5  # sampled nets: networks drawn per evaluation (see the README's ablation)


def is_sampled(layer):
    """Whether `layer` is a slot layer that samples its weights (selection "sample")."""
    return hasattr(layer, "slots") and layer.slots.selection == "sample"


def sampled_layers(net):
    """The sampled slot layers of `net`, in order."""
    return [layer for _, layer in net.named_layers() if is_sampled(layer)]


def expected_weight(scores, options):
    """The mean option under softmax(scores): sum_k softmax(s)_k * options[..., k]: (...)."""
    p = backend.xp_of(scores).exp(scores - scores.max(axis=-1, keepdims=True))
    return (p * options).sum(axis=-1) / p.sum(axis=-1)


def evaluation_layer(layer, mode, seed):
    """A dense layer holding the weight sampled slot layer `layer` is evaluated with: its best
    score's option ("argmax"), the mean option ("expected"), or a draw with `seed` ("sample")."""
    if mode == "sample":
        return layer.freeze(layer.slots.sample(layer.params, backend.random_generator(seed)))
    if mode == "expected":
        return layer.dense_with(expected_weight(layer.scores, layer.slots.options))
    return layer.freeze()


def evaluation_net(net, mode, seed=0, draw=0):
    """`net` with its sampled slot layers made dense (evaluation_layer), sampled layer i drawing
    from the seed (seed, draw, i); the other layers are net's own."""
    layers, i = [], 0
    for name, layer in net.named_layers():
        if is_sampled(layer):
            layer_seed = int(np.random.SeedSequence([seed, draw, i]).generate_state(1)[0])
            layer, i = evaluation_layer(layer, mode, layer_seed), i + 1
        layers.append((name, layer))
    return Sequential(layers)


def evaluate(net, splits, mode="argmax", draws=1, seed=0):
    """Accuracy on each (x, y) of `splits` (a dict name -> (x, y)): a dict name -> accuracy.

    Greedy slot nets and learned nets evaluate one way (argmax). A sampled slot net evaluates
    as `mode` says: "sample" draws `draws` networks (evaluation_net, draw d from the seeds
    (seed, d, layer)) and reports each split's mean accuracy over them, every split seeing the
    same draws; "expected" uses the mean option under softmax(scores); "argmax" the best score.
    """
    if mode not in EVALUATIONS:
        raise ValueError(f"unknown evaluation {mode!r}; choose one of {EVALUATIONS}")
    if not sampled_layers(net) or mode == "argmax":
        return {name: accuracy(net, x, y) for name, (x, y) in splits.items()}
    draws = draws if mode == "sample" else 1
    correct = dict.fromkeys(splits, 0)   # counted, not summed as shares: the same count over
    for draw in range(draws):            # the draws is the same accuracy, to the last bit
        dense = evaluation_net(net, mode, seed, draw)
        for name, (x, y) in splits.items():
            correct[name] += round(accuracy(dense, x, y) * len(y))
    return {name: correct[name] / (draws * len(y)) for name, (_, y) in splits.items()}


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


def evaluate_epoch(net, data, config, history=None):
    """val_acc and test_acc by the run's evaluation mode; with compare_eval_modes, also
    by_eval_mode: {mode: {val_acc, test_acc}} for every mode. Given `history` (the records so
    far, --test-at new-best), each mode's test set is evaluated only where its val_acc beats
    its best so far: test_acc is None elsewhere (the same draws either way: seeded)."""
    mode, draws, seed = evaluation_settings(config)
    modes = EVALUATIONS if config.get("compare_eval_modes") else (mode,)
    by_mode = {}
    for each in modes:
        if history is None:                     # both splits in one call: one set of draws
            both = evaluate(net, {"val": data["val"], "test": data["test"]}, each, draws, seed)
            by_mode[each] = dict(val_acc=both["val"], test_acc=both["test"])
            continue
        val = evaluate(net, {"val": data["val"]}, each, draws, seed)["val"]
        best = best_val_so_far(history, each, mode)
        test = evaluate(net, {"test": data["test"]}, each, draws, seed)["test"] \
            if best is None or val > best else None
        by_mode[each] = dict(val_acc=val, test_acc=test)
    record = dict(by_mode[mode])
    if len(modes) > 1:
        record["by_eval_mode"] = by_mode
    return record


def best_val_so_far(history, mode, run_mode):
    """The best val_acc of evaluation `mode` in the records `history` (the run's own mode is
    each record's val_acc); None before the first."""
    values = [row["val_acc"] if mode == run_mode else row["by_eval_mode"][mode]["val_acc"]
              for row in history if mode == run_mode or mode in row.get("by_eval_mode", {})]
    return max(values, default=None)


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
