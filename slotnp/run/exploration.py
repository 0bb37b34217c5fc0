"""How much a slot net still explores, logged by train.py each epoch: the share of connections
whose selection changed over the epoch, and (PS) the share whose two draws differ."""
from ..core import backend
from .evaluation import is_sampled


def selection_snapshot(net):
    """The evaluation-time option index of every slot layer (the kept mask of every
    edge-popup layer), by layer name."""
    return {name: layer.selected().copy() for name, layer in net.named_layers()
            if hasattr(layer, "selected")}       # a copy: some layers update theirs in place


def draws_differ(net, seed):
    """{draws_differ: the share of the connections of sampled (PS) slot layers whose two
    independent draws from softmax(scores) differ, draws_differ_by_layer: {layer: its own
    share}}; empty without such layers. An estimate of 1 - sum_k p_k^2 (1 - 1/K where the
    softmax is flat): how much PS still explores while training, however settled its argmax."""
    differ, sizes = {}, {}
    for name, layer in net.named_layers():
        if is_sampled(layer):
            a, b = (layer.slots.sample(layer.params, backend.random_generator(s))
                    for s in (seed, seed + 1))
            differ[name], sizes[name] = backend.read((a != b).sum()), a.size
    return shares("draws_differ", differ, sizes)


def selection_changed(before, after):
    """{selection_changed: the share of all connections whose selected option differs between
    two snapshots, selection_changed_by_layer: {layer: its own share}}; empty without slot
    layers. (The big layers dominate the total: CONV-2's fc1 holds 97% of its connections.)"""
    changed = {name: backend.read((before[name] != after[name]).sum()) for name in before}
    return shares("selection_changed", changed, {name: v.size for name, v in before.items()})


def shares(key, counts, sizes):
    """{key: sum(counts) / sum(sizes), key_by_layer: {layer: its count / its size}} from
    per-layer counts and sizes; empty without layers."""
    if not counts:
        return {}
    return {key: sum(counts.values()) / sum(sizes.values()),
            f"{key}_by_layer": {name: round(counts[name] / sizes[name], 6) for name in counts}}
