"""The fast twin of an evaluation over many batches (core/training.py's `accuracy`), registered
as "choices_held": every slot layer chooses its weight at the first batch and keeps it for the
rest, without comparing the scores to see whether they changed (which reads from the device on
a GPU). The plain evaluation chooses anew at every batch: the same weights, since evaluation
changes no score.
"""
import contextlib

from ..core import twins


@contextlib.contextmanager
def choices_held(net):
    """Within it, every slot layer of `net` that can keeps its evaluation weight (`hold`)."""
    layers = [layer for _, layer in net.named_layers()
              if hasattr(getattr(layer, "slots", None), "hold")]
    for layer in layers:
        layer.slots.hold(True)
    try:
        yield
    finally:
        for layer in layers:
            layer.slots.hold(False)


twins.register("choices_held", choices_held)
