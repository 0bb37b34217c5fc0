"""How much memory a training run will need, estimated before anything is allocated.

The estimate counts float32 values: the slot options and initial scores (K per connection),
the trainable arrays with their gradients and velocities, the largest transient of the slot
work (sampling builds a few K-sized arrays for one layer), the activations and their
backward caches at the batch size, and the data set on the device. It is meant to tell a run
that cannot fit from one that can, within a factor of about 1.5, not to the byte.
"""
from math import prod

from ..core import backend
from ..slots import nets
from . import compat

BYTES = 4  # float32


class EstimateError(MemoryError):
    """A run would not fit: the message names the estimate and what to lower."""


def layer_plan(config):
    """nets.plan of a run's net: its layers unbuilt, from its configuration (an older run's
    as it ran)."""
    config = compat.completed(config)
    side = (config.get("image_shape") or [None])[-1] if config["net"] != "lenet" else None
    return nets.plan(config["net"], side, config["padding"])


def estimate(config, samples):
    """(total bytes, {part: bytes}) for a run of `config` (train.py's) over `samples` images."""
    config = compat.completed(config)            # an older run's, as it ran
    steps = layer_plan(config)
    weights = [shape for kind, _, shape in steps if kind in ("conv", "fc")]
    sizes = [prod(shape) for shape in weights]
    P = sum(sizes)
    parts = {}
    if keeps_no_options(config):
        from ..fast.slot_intervals import BUILD_VALUES
        # each line: its index and the line beyond (2 bytes each), its option and interval
        parts["selection state (3 lines a connection)"] = 3 * (2 * 2 + 3 * BYTES) * P
        parts["score coordinates, gradients and velocities"] = 3 * P * BYTES
        # a chunk of options and initial scores, and the temporaries of its intervals
        parts["options drawn while selecting"] = 12 * max(BUILD_VALUES, config["K"]) * 8
    elif config["slot"]:
        K = config["K"]
        options = K * (len(sizes) if config.get("shared") else P)
        parts["options and initial scores"] = (options + K * P) * BYTES
        if config["score_form"] == "explicit":
            parts["scores, gradients and velocities"] = 3 * K * P * BYTES
        else:
            parts["score coordinates, gradients and velocities"] = 3 * P * BYTES
        transient = 3 if config.get("selection") == "sample" else 1
        parts["slot selection (largest layer)"] = transient * K * max(sizes) * BYTES
    else:
        parts["weights, gradients and velocities"] = 3 * P * BYTES
    parts["activations at the batch size"] = \
        config["batch_size"] * activation_values(steps, config) * BYTES
    image = prod(config.get("image_shape") or nets.INPUT_SHAPES[config["net"]])
    parts["data set"] = samples * image * BYTES
    return sum(parts.values()), parts


def keeps_no_options(config):
    """Whether the run's slot layers keep no options in memory (fast/slots.py's interval
    layers; never a plain run's, whose scores are explicit)."""
    if not config["slot"] or config.get("score_form") != "factored":
        return False
    from ..fast.slots import keeps_no_options as without_options
    return without_options("factored", config.get("selection"), config.get("shared"),
                           config.get("options_version"), config["K"])


def activation_values(steps, config):
    """Values kept per sample in one training step: every layer's output and backward cache,
    and a convolution's im2col columns (its largest temporary)."""
    channels, side = (config.get("image_shape") or nets.INPUT_SHAPES[config["net"]])[:2] \
        if config["net"] != "lenet" else (1, 28)
    total = channels * side * side
    for kind, _, shape in steps:
        if kind == "conv":
            total += shape[1] * 9 * side * side + 3 * shape[0] * side * side
            channels = shape[0]
        elif kind == "pool":
            side //= shape
            total += 2 * channels * side * side
        elif kind == "fc":
            total += 3 * shape[0] + shape[1]
    return total


def available():
    """Bytes free for a new run on the active device, or None when that cannot be told."""
    if backend.name() == "cupy":
        free, _ = backend.xp().cuda.runtime.memGetInfo()
        return free
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def gib(n):
    return f"{n / 2 ** 30:,.1f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:,.0f} MiB"


def check(config, samples):
    """Raise EstimateError with one line naming the estimate and what to lower, when the run
    cannot fit in the memory available now."""
    total, parts = estimate(config, samples)
    free = available()
    if free is None or total <= free:
        return total
    largest = max(parts, key=parts.get)
    if largest.startswith("activations"):
        lower = f"--batch-size (now {config['batch_size']})"
    elif config["slot"] and largest != "data set":
        lower = f"--K (now {config['K']})"
    else:
        lower = "--batch-size or pick a smaller --net"
    raise EstimateError(f"this run needs about {gib(total)} ({largest}: {gib(parts[largest])}), "
                      f"but only {gib(free)} is free on the {backend.name()} device; lower "
                      f"{lower}")
