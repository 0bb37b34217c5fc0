"""How much a slot net still explores, logged by train.py each epoch: the share of connections
whose selection changed over the epoch, and (PS) the share whose two draws differ."""
from ..core import backend
from .evaluation import sampled_layers


def selection_snapshot(net):
    """The evaluation-time option index of every slot layer (the kept mask of every
    edge-popup layer), by layer name."""
    return {name: layer.selected().copy() for name, layer in net.named_layers()
            if hasattr(layer, "selected")}       # a copy: some layers update theirs in place


def draws_differ(net, seed):
    """Share of the connections of sampled (PS) slot layers whose two independent draws from
    softmax(scores) differ: an estimate of 1 - sum_k p_k^2, how much PS still explores while
    training however settled its argmax is. None without such layers."""
    pairs = [[layer.slots.sample(layer.params, backend.random_generator(s))
              for s in (seed, seed + 1)] for layer in sampled_layers(net)]
    if not pairs:
        return None
    return sum(backend.read((a != b).sum()) for a, b in pairs) / sum(a.size for a, _ in pairs)


def selection_changed(before, after):
    """{selection_changed: the share of all connections whose selected option differs between
    two snapshots, selection_changed_by_layer: {layer: its own share}}; empty without slot
    layers. (The big layers dominate the total: CONV-2's fc1 holds 97% of its connections.)"""
    if not before:
        return {}
    changed = {name: backend.read((before[name] != after[name]).sum()) for name in before}
    return dict(selection_changed=sum(changed.values()) / sum(v.size for v in before.values()),
                selection_changed_by_layer={name: round(count / before[name].size, 6)
                                            for name, count in changed.items()})
