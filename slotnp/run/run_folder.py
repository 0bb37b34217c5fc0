"""A run's output folder: never overwritten by accident, trained into by one process at a time.

A new run refuses a folder that already holds a run's files, unless told to overwrite it. While
a run trains, it holds an exclusive lock on `<folder>/.lock` (fcntl.flock). The operating
system releases such a lock when its process ends, however it ends, so a crashed or killed run
never leaves it stuck.
"""
import errno
import json
import os

try:
    import fcntl
except ImportError:  # not on Windows: no lock there
    fcntl = None

RUN_FILES = ("config.json", "metrics.jsonl", "result.json", "curves.png", "selected.png",
             "last.npz", "best.npz")
LOCK_NAME = ".lock"


class RunFolderError(RuntimeError):
    """The output folder cannot be used: it holds a run, is busy, or cannot be written."""


def existing_run_files(folder):
    """The run files already in `folder` (empty when it does not exist)."""
    if not os.path.isdir(folder):
        return []
    return [name for name in RUN_FILES if os.path.exists(os.path.join(folder, name))]


def make(folder):
    """Create `folder` (and its parents); one clear error when that is impossible."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise RunFolderError(f"the output folder {folder} is a file; pass another --out")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise RunFolderError(f"cannot create the output folder {folder} "
                             f"({error.strerror or error}); pass another --out") from None


def check_new(folder, overwrite, remove=True):
    """Before a new run into `folder`: refuse one that holds a run, or (`overwrite`, and
    `remove`) clear it."""
    found = existing_run_files(folder)
    if not found:
        return
    if not overwrite:
        raise RunFolderError(f"{folder} already holds a run ({', '.join(found)}); continue it "
                             f"with --resume --out {folder}, pick another --out, or pass "
                             "--overwrite to replace it")
    for name in found if remove else ():
        os.remove(os.path.join(folder, name))


def check_not_inside(source, folder):
    """Refuse a new run into `folder` that starts from a checkpoint `source` (--finetune) in
    that folder: --overwrite would delete what it starts from."""
    if source and os.path.realpath(os.path.dirname(os.path.abspath(source))) == \
            os.path.realpath(folder):
        raise RunFolderError(f"--finetune {source} lies in --out {folder}, whose run a new run "
                             "replaces; fine-tune into another --out")


def trained_files(folder):
    """What a finished epoch leaves besides last.npz: best.npz, result.json (those present;
    none before metrics.jsonl, which an epoch writes after its checkpoints)."""
    if not os.path.exists(os.path.join(folder, "metrics.jsonl")):
        return []
    return [name for name in ("best.npz", "result.json")
            if os.path.exists(os.path.join(folder, name))]


def check_resumable(folder):
    """Before --resume: refuse, saying what to do, a folder without last.npz."""
    if os.path.isfile(os.path.join(folder, "last.npz")):
        return
    if not os.path.isdir(folder):
        raise RunFolderError(f"{folder} does not exist: --resume continues a run in the folder "
                             "it was trained into; check --out")
    trained = trained_files(folder)
    if trained:
        kept = "; its best.npz still evaluates (--eval)" if "best.npz" in trained else ""
        raise RunFolderError(f"{folder} holds a trained run ({', '.join(trained)}) but no "
                             f"last.npz to resume from{kept}; to train again, pick another "
                             "--out")
    if existing_run_files(folder):
        raise RunFolderError(f"{folder} holds a run of which no epoch finished (no last.npz), "
                             f"so there is nothing to resume; start it again with --overwrite "
                             f"--out {folder}")
    raise RunFolderError(f"{folder} holds no run to resume; start one there without --resume")


class Lock:
    """`with Lock(folder):` holds the folder's lock, or raises RunFolderError at once."""

    def __init__(self, folder):
        self.path, self.file = os.path.join(folder, LOCK_NAME), None

    def __enter__(self):
        try:
            self.file = open(self.path, "a+")
        except OSError as error:
            raise RunFolderError(f"cannot write into the output folder "
                                 f"{os.path.dirname(self.path)} ({error.strerror or error}); "
                                 "pass another --out") from None
        if fcntl is not None:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    self.file.close()             # (ENOLCK: a file system without locks)
                    raise RunFolderError(f"cannot lock {os.path.dirname(self.path)} "
                                         f"({error.strerror or error}): train into a folder on "
                                         "a local disk (another --out)") from None
                self.file.seek(0)
                holder = self.file.read().strip() or "another process"
                self.file.close()
                raise RunFolderError(f"{os.path.dirname(self.path)} is in use: {holder} is "
                                     "training into it; wait for it to end or pick another "
                                     "--out") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(f"train.py (pid {os.getpid()})")
        self.file.flush()
        remove_leftovers(os.path.dirname(self.path))
        return self

    def __exit__(self, *exc):
        self.file.close()           # closing releases the lock
        return False


def remove_leftovers(folder):
    """Remove the temporary files of writes that a kill -9 cut short: checkpoints' .tmp-*
    (checkpoint.atomic_file) and <record>.tmp (write_json). Called holding the folder's lock,
    so no write is under way."""
    for name in os.listdir(folder):
        if name.startswith(".tmp-") or name in {f"{n}.tmp" for n in RUN_FILES}:
            os.remove(os.path.join(folder, name))


def write_json(path, obj, lines=False):
    """Write JSON (or JSON lines) atomically; a failed write leaves the old file intact."""
    temporary = path + ".tmp"
    try:
        with open(temporary, "w") as file:
            if lines:
                file.writelines(json.dumps(o) + "\n" for o in obj)
            else:
                json.dump(obj, file, indent=2)
                file.write("\n")
        os.replace(temporary, path)
    except OSError as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise RunFolderError(f"could not write {path} ({error.strerror or error}); the files "
                             "written before are intact: free some space (or fix the folder's "
                             "permissions) and continue with --resume") from None


def learning_curves(history, path):
    """Draw curves.png (run/plot.py); a failed write gets one line."""
    from .plot import learning_curves as draw
    try:
        draw(history, path)
    except OSError as error:
        raise RunFolderError(f"could not write {path} ({error.strerror or error}); the "
                             "checkpoints and metrics are intact") from None


def weights_in_sigmas(net):
    """(name, weight / sigma) of each weighted layer of `net`, the weight its evaluation uses: a
    slot layer's selected options (the argmax of its scores), a dense layer's own weight."""
    from ..core import backend, init
    from ..core.base import WeightedLayer
    return [(name, backend.to_host(layer.weight()) / init.glorot_sigma(layer.weight_shape))
            for name, layer in net.named_layers() if isinstance(layer, WeightedLayer)]


def selected_in_sigmas(net, config):
    """(name, selected options / sigma (weight_shape), option bound b) of each slot layer of
    `net`, at its evaluation choice (the argmax of the scores)."""
    from ..slots.nets import slot_layers
    slot = {name for name, _ in slot_layers(net)}
    return [(name, values, config["option_bound"]) for name, values in weights_in_sigmas(net)
            if name in slot]


def weight_summary(layers):
    """{name: {weights, mean_abs, mean}} of (name, values in units of sigma) pairs: how many
    weights, their mean |value| and their mean. Options uniform on (-b, b) give b / 2 and 0."""
    import numpy
    return {name: dict(weights=int(values.size),
                       mean_abs=round(float(numpy.abs(values).mean()), 4),
                       mean=round(float(values.mean()), 4))
            for name, values in layers}


def biased_layers(net):
    """(name, layer) of each layer of `net` with a learned bias (--bias learned)."""
    return [(name, layer) for name, layer in net.named_layers() if "b" in layer.params]


def exported_arrays(net):
    """{name: device array} of the values of `net` that its seed and selection do not give, as
    checkpoints name them: learned biases ("fc1.b") and batch normalisation's running
    statistics ("buffer/norm1.running_mean"); an export stores them (export.write)."""
    arrays = {f"{name}.b": layer.params["b"] for name, layer in biased_layers(net)}
    arrays.update({f"buffer/{name}": value for name, value in net.buffers.items()})
    return arrays


def bias_summary(net):
    """{name: {biases, mean, below_zero}} of each layer of `net` with a learned bias: how many,
    their mean, and the share below 0; {} for the paper's nets."""
    from ..core import backend
    return {name: dict(biases=int(b.size), mean=round(float(b.mean()), 4),
                       below_zero=round(float((b < 0).mean()), 4))
            for name, b in ((name, backend.to_host(layer.params["b"]))
                            for name, layer in biased_layers(net))}


def selected_summary(layers):
    """weight_summary of `selected_in_sigmas`' layers, and each one's share beyond half the
    bound. All options, uniform on (-b, b), would give b / 2, 0 and one half; the paper finds
    the selected ones larger."""
    import numpy
    summary = weight_summary([(name, values) for name, values, _ in layers])
    for name, values, bound in layers:
        summary[name]["beyond_half"] = round(float((numpy.abs(values) > bound / 2).mean()), 4)
    return summary


def selected_weights(net, config, out):
    """selected.png of a slot run: each layer's selected options at the best validation epoch
    (best.npz), against the options' distribution, in units of sigma (run/plot.py). Returns
    their selected_summary, which result.json keeps."""
    from . import checkpoint
    from .plot import selected_weights as draw
    path = os.path.join(out, "best.npz")
    meta, params, _ = checkpoint.load_run(path)
    checkpoint.load_params(net, params, path)
    layers = selected_in_sigmas(net, config)
    target = os.path.join(out, "selected.png")
    try:
        best = meta["state"]["best"]["epoch"]
        draw(layers, target, f"the options selected at the best epoch ({best}), against all "
                             "options")
    except OSError as error:
        raise RunFolderError(f"could not write {target} ({error.strerror or error}); the "
                             "checkpoints and metrics are intact") from None
    return selected_summary(layers)
