"""One epoch of training, and the accuracy of the evaluation forward."""
import contextlib

import numpy as np

from . import backend, twins
from .losses import softmax_cross_entropy


def train_epoch(net, optimizer, schedule, epoch, x, y, batches, rng, augment=None,
                progress=None):
    """One pass over (x, y), batch by batch: `batches` is a list of index arrays (for example
    one permutation cut into pieces, `datasets.prepare.batches`).

    The learning rate follows `schedule.lr` at fractional epochs. `augment(xb, rng)` transforms
    each batch; `progress(steps_done, loss, acc)` is called every 20 steps (it forces a sync).
    Returns (mean loss, accuracy) of the training-mode forwards.
    """
    xp, steps, seen = backend.xp_of(x), len(batches), 0
    loss_sum, correct = xp.zeros((), np.float64), xp.zeros((), np.int64)
    for step, batch in enumerate(batches):
        index = backend.to_device(batch)
        xb, yb = x[index], y[index]
        if augment is not None:
            xb = augment(xb, rng)
        logits = net.forward(xb, train=True)
        loss, dlogits = softmax_cross_entropy(logits, yb)
        net.backward(dlogits, input_grad=False)      # no one needs the images' gradient
        optimizer.step(net.grads, lr=schedule.lr(epoch + step / steps))
        loss_sum += loss * len(batch)   # accumulated on the device: no sync per step
        correct += (logits.argmax(axis=1) == yb).sum()
        seen += len(batch)
        if progress is not None and (step % 20 == 19 or step == steps - 1):
            progress(step + 1, backend.read(loss_sum) / seen, backend.read(correct) / seen)
    return backend.read(loss_sum) / seen, backend.read(correct) / seen


# Images per evaluation forward: larger ones leave the cache (CONV-2 K = 8, one core: 3.8 ms an
# image at 1000 against 1.0 at 256; bench/RESULTS.md, "The evaluation batch").
EVAL_BATCH = 256


def accuracy(net, x, y, batch_size=EVAL_BATCH):
    """Share of correct argmax predictions of the evaluation-mode forward (no dropout).

    The count stays on the device until the end: one read from the device per call. (A twin,
    "choices_held", may have the slot layers choose their weights once for all batches.)"""
    xp = backend.xp_of(x)
    correct = xp.zeros((), np.int64)
    held = twins.find("choices_held")
    with held(net) if held is not None else contextlib.nullcontext():
        for start in range(0, len(x), batch_size):
            logits = net.forward(x[start:start + batch_size], train=False)
            correct += (logits.argmax(axis=1) == y[start:start + batch_size]).sum()
    return backend.read(correct) / len(x)

