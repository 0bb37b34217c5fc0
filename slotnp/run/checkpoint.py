"""Checkpoints: one .npz holding parameters, optimizer velocities and a JSON `meta` record.

Writes are atomic (write a temporary file in the same folder, then rename), so an interrupted
save never damages the previous checkpoint. Slot options (and the initial scores the factored
scores build on) are not stored: they are redrawn from the seed in `meta["config"]`, and a
digest of them guards against a mismatch.
"""
import contextlib
import hashlib
import json
import os
import tempfile
import zipfile

import numpy as np

from ..core import backend


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt, or belongs to another network."""


def options_digest(net, as_kept=False):
    """SHA-1 over what identifies every slot layer's options (Slots.digest_parts: the options,
    and the initial scores where the factored scores are built on them; for layers that keep
    no options, the drawing's arguments and two blocks of values); empty string for a net
    without slots. `as_kept`: layers that keep no options give the digest of the layers that
    do (all their values, drawn again), so that a checkpoint saved by those still loads."""
    digest = hashlib.sha1()
    found = False
    for name, layer in net.named_layers():
        fixed = getattr(layer, "slots", None) or getattr(layer, "supermask", None)
        if fixed is not None:                 # slot options, or edge-popup's fixed weights
            found = True
            digest.update(name.encode())
            parts = fixed.digest_parts_as_kept() if as_kept and \
                hasattr(fixed, "digest_parts_as_kept") else fixed.digest_parts()
            for part in parts:
                digest.update(part)
    return digest.hexdigest() if found else ""


def digest_matches(net, digest, stored):
    """Whether a checkpoint's stored options digest belongs to `net`, whose own digest is
    `digest`: directly, or as saved by layers that keep their options in memory (greedy
    layers at small K kept them until interval layers took every K)."""
    return stored == digest or (stored and stored == options_digest(net, as_kept=True))


def resume_into(net, saved, digest, path):
    """Load the parameters of `saved` (what `load` read from `path`) into `net`, whose options
    digest is `digest`, once the digests show that the options are the same (--resume, --eval
    and --export of a checkpoint)."""
    meta, params, _ = saved
    if not digest_matches(net, digest, meta.get("options_digest", "")):
        raise CheckpointError(f"{path}: the slot options rebuilt from its seed differ from the "
                              "ones it was trained with (another slotnp version?)")
    load_params(net, params, path)


@contextlib.contextmanager
def atomic_file(path, suffix=""):
    """`with atomic_file(path) as file:` writes (binary) to a temporary file beside `path`,
    synced, then renamed over it: `path` is the new file whole, or as it was (no partial file
    is left, whatever fails)."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                                         prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)   # as open() makes a file (mkstemp: 0600)
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def save(path, net, meta, optimizer=None):
    """Atomically write net.params and net.buffers (and the optimizer's velocities) with `meta`
    to `path`."""
    arrays = {f"param/{k}": backend.to_host(v) for k, v in net.params.items()}
    arrays.update({f"buffer/{k}": backend.to_host(v) for k, v in net.buffers.items()})
    if optimizer is not None:
        arrays.update({f"velocity/{k}": v for k, v in optimizer.state_dict().items()})
    arrays["meta"] = np.array(json.dumps(meta))
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_file(path, suffix=".npz") as file:
            np.savez(file, **arrays)
    except OSError as error:  # a full disk, say: the previous checkpoint is untouched
        raise CheckpointError(f"could not write the checkpoint {path} ({error.strerror or error});"
                              " the previous one is intact: free some space and continue with "
                              "--resume") from None


def load(path):
    """(meta, params, velocities) from a checkpoint; params/velocities are host arrays by name
    (params with the buffers too, named "buffer/<name>")."""
    if os.path.isdir(path):
        raise CheckpointError(f"{path} is a folder; pass a checkpoint in it (best.npz or "
                              "last.npz)")
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist; pass the .npz that train.py "
                              "wrote (last.npz or best.npz in the run's --out folder)")
    try:
        with open(path, "rb") as file:
            start = file.read(4)
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoint {path} ({error.strerror or error})") \
            from None
    if start != b"PK\x03\x04":                             # how every .npz (a zip) begins
        raise CheckpointError(f"{path} is not a checkpoint (not an .npz archive, or cut short); "
                              "pass the .npz that train.py wrote (best.npz or last.npz)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "meta" not in data.files:
                raise CheckpointError(f"{path} is not a slotnp checkpoint (an .npz without "
                                      "its meta); pass the .npz that train.py wrote")
            meta = json.loads(str(data["meta"]))
            params = {k[6:]: data[k] for k in data.files if k.startswith("param/")}
            params.update({k: data[k] for k in data.files if k.startswith("buffer/")})
            velocities = {k[9:]: data[k] for k in data.files if k.startswith("velocity/")}
    except ValueError as error:
        if "allow_pickle" not in str(error):
            raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({error}); use "
                                  "another checkpoint (best.npz or last.npz) or train again") \
                from None
        raise CheckpointError(f"{path} holds Python objects, which no slotnp checkpoint does; "
                              "refused (loading them could run code): pass the .npz that "
                              "train.py wrote") from None
    except (zipfile.BadZipFile, OSError, KeyError, EOFError) as error:
        raise CheckpointError(f"checkpoint {path} is corrupt or truncated ({type(error).__name__}: "
                              f"{error}); use another checkpoint (best.npz or last.npz) or "
                              "train again") from None
    if not isinstance(meta, dict) or "config" not in meta or not params:
        raise CheckpointError(f"{path} is not a slotnp checkpoint (no config or parameters)")
    return meta, params, velocities


def load_run(path):
    """load() of a run's checkpoint (train.py's best.npz or last.npz), whose meta must hold
    what every run's does: config (net, slot, K, seed) and state (epoch, history); a meta
    edited or damaged otherwise is one line, not a KeyError later."""
    meta, params, velocities = load(path)
    config, state = meta["config"], meta.get("state")
    fine = isinstance(config, dict) and isinstance(state, dict) and \
        isinstance(config.get("net"), str) and isinstance(config.get("slot"), bool) and \
        isinstance(config.get("seed"), int) and \
        isinstance(config.get("K"), int if config.get("slot") else (int, type(None))) and \
        isinstance(state.get("epoch"), int) and isinstance(state.get("history"), list)
    if not fine:
        raise CheckpointError(f"{path}: its meta (the run's configuration and state) is damaged "
                              "or was edited; use the run's other checkpoint (best.npz or "
                              "last.npz), or train again")
    return meta, params, velocities


def load_params(net, params, path="checkpoint"):
    """Copy host arrays into net.params (and net.buffers, "buffer/<name>") in place, checking
    names and shapes."""
    own = dict(net.params)
    own.update({f"buffer/{k}": v for k, v in getattr(net, "buffers", {}).items()})
    if set(own) != set(params):
        raise CheckpointError(f"{path} holds parameters {sorted(params)}, but this net has "
                              f"{sorted(own)}; it was saved for another network")
    for name, value in own.items():
        if value.shape != params[name].shape:
            raise CheckpointError(f"{path}: {name} has shape {params[name].shape}, the net "
                                  f"expects {value.shape}")
        value[...] = backend.to_device(params[name])
