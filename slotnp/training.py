"""One epoch of training, evaluation, and the slot-selection statistics that train.py logs."""
import numpy as np

from . import backend
from .losses import softmax_cross_entropy


def train_epoch(net, optimizer, schedule, epoch, x, y, batch_size, rng, augment=None,
                progress=None):
    """One pass over (x, y) in the order of one permutation drawn from `rng`.

    The learning rate follows `schedule.lr` at fractional epochs. `augment(xb, rng)` transforms
    each batch; `progress(steps_done, loss, acc)` is called every 20 steps (it forces a sync).
    Returns (mean loss, accuracy) of the training-mode forwards.
    """
    xp = backend.xp_of(x)
    order = rng.permutation(len(x))
    steps = -(-len(x) // batch_size)
    loss_sum, correct = xp.zeros((), np.float64), xp.zeros((), np.int64)
    for step in range(steps):
        index = backend.to_device(order[step * batch_size:(step + 1) * batch_size])
        xb, yb = x[index], y[index]
        if augment is not None:
            xb = augment(xb, rng)
        logits = net.forward(xb, train=True)
        loss, dlogits = softmax_cross_entropy(logits, yb)
        net.backward(dlogits)
        optimizer.step(net.grads, lr=schedule.lr(epoch + step / steps))
        loss_sum += loss * len(index)   # accumulated on the device: no sync per step
        correct += (logits.argmax(axis=1) == yb).sum()
        if progress is not None and (step % 20 == 19 or step == steps - 1):
            seen = min((step + 1) * batch_size, len(x))
            progress(step + 1, float(loss_sum) / seen, int(correct) / seen)
    return float(loss_sum) / len(x), int(correct) / len(x)


def evaluate(net, x, y, batch_size=1000):
    """Accuracy of the evaluation-mode forward (no dropout, argmax selection)."""
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = net.forward(x[start:start + batch_size], train=False)
        correct += int((logits.argmax(axis=1) == y[start:start + batch_size]).sum())
    return correct / len(x)


def selection_snapshot(net):
    """The evaluation-time option index of every slot layer, by layer name."""
    return {name: layer.selected() for name, layer in net.named_layers()
            if hasattr(layer, "slots")}


def fraction_changed(before, after):
    """Share of all connections whose selected option differs between two snapshots."""
    if not before:
        return None
    changed = sum(int((before[k] != after[k]).sum()) for k in before)
    return changed / sum(v.size for v in before.values())
