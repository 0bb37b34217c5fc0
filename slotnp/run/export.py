"""A trained slot machine as what it is: its configuration (seed included) and, per connection,
the index of the option it selects, packed in ceil(log2 K) bits.

The options themselves are not stored: they are drawn again from the seed, and the options
digest of the checkpoint the file came from checks that they are the same. A float32 network
of P weights takes 4 P bytes; its slot machine export takes P * ceil(log2 K) / 8 bytes and a
header of about a kilobyte.

File layout: MAGIC, the header's length (4 bytes, little-endian), the header (JSON: format,
config, options_digest, and per slot layer its name, shape, K and bits), then each slot
layer's packed indices, in the header's order. A net with values the seed does not give,
learned biases (--bias learned) and batch normalisation's running statistics (vgg19), is format
3: its header also lists `arrays` (each one's name, as checkpoints name it, "fc1.b" or
"buffer/norm1.running_mean", and its count), and their float32 values (little-endian) follow
the indices, in that order. Format 2, read still, listed `biases` by layer name.
"""
import json
import math
import struct

import numpy as np

from .checkpoint import atomic_file

MAGIC = b"SLOTNP-EXPORT\n"
FORMAT = 1
FORMAT_WITH_BIASES = 2          # (read only: its arrays were the biases, by layer name)
FORMAT_WITH_ARRAYS = 3
FORMATS = (FORMAT, FORMAT_WITH_BIASES, FORMAT_WITH_ARRAYS)
ARRAY_DTYPE = np.dtype("<f4")


class ExportError(RuntimeError):
    """An export file is corrupt, truncated, or does not match the network it describes."""


def bits_for(K):
    """Bits per connection for K options: ceil(log2 K) (0 for K = 1: nothing to choose)."""
    return math.ceil(math.log2(K)) if K > 1 else 0


def pack(index, bits):
    """Indices (any shape) of values < 2**bits -> bytes, `bits` per index, little-endian."""
    flat = np.asarray(index, dtype=np.uint64).reshape(-1)
    planes = (flat[:, None] >> np.arange(bits, dtype=np.uint64)) & np.uint64(1)
    return np.packbits(planes.astype(np.uint8).reshape(-1), bitorder="little").tobytes()


def unpack(data, count, bits):
    """The inverse of pack: `count` indices of `bits` bits each, as an int64 array."""
    needed = (count * bits + 7) // 8
    if len(data) != needed:
        raise ExportError(f"holds {len(data)} bytes of indices where {needed} are needed")
    planes = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[:count * bits]
    planes = planes.reshape(count, bits).astype(np.int64)
    return (planes << np.arange(bits, dtype=np.int64)).sum(axis=1)


def write(path, config, options_digest, layers, arrays=()):
    """layers: [(name, index array (weight shape), K)] of the slot layers, in net order;
    arrays: [(name, array)] of the net's other values, if any (run_folder.exported_arrays)."""
    entries, payload = [], []
    for name, index, K in layers:
        index = np.asarray(index)
        entries.append(dict(name=name, shape=list(index.shape), K=K, bits=bits_for(K)))
        payload.append(pack(index, bits_for(K)))
    fields = dict(format=FORMAT, config=config, options_digest=options_digest, layers=entries)
    if arrays:
        fields.update(format=FORMAT_WITH_ARRAYS, arrays=[dict(name=name, count=int(np.size(a)))
                                                         for name, a in arrays])
        payload += [np.asarray(a, ARRAY_DTYPE).tobytes() for _, a in arrays]
    header = json.dumps(fields, separators=(",", ":")).encode()
    with atomic_file(path) as file:     # whole or not at all: a failed write leaves nothing
        file.write(MAGIC + struct.pack("<I", len(header)) + header + b"".join(payload))


def is_export(path):
    """Whether `path` starts like an export file (checkpoints are .npz zip archives)."""
    try:
        with open(path, "rb") as file:
            return file.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def read(path):
    """(header, {layer name: index array of its shape}, {name: float32 values (flat)} of the
    net's other arrays) of an export file ({} for a net without)."""
    with open(path, "rb") as file:
        raw = file.read()
    if not raw.startswith(MAGIC):
        raise ExportError(f"{path} is not a slotnp export (it does not start with {MAGIC!r})")
    at = len(MAGIC)
    if len(raw) < at + 4:
        raise ExportError(f"{path} is truncated inside its header; export it again")
    (length,) = struct.unpack("<I", raw[at:at + 4])
    try:
        header = json.loads(raw[at + 4:at + 4 + length])
        entries = header["layers"]
        if header.get("format") not in FORMATS:
            raise ExportError(f"{path} has export format {header.get('format')!r}; this "
                              f"slotnp reads formats {', '.join(map(str, FORMATS))}")
        at += 4 + length
        indices = {}
        for entry in entries:
            count = math.prod(entry["shape"])
            size = (count * entry["bits"] + 7) // 8
            data = raw[at:at + size]
            try:
                index = unpack(data, count, entry["bits"]).reshape(entry["shape"])
            except ExportError as error:
                raise ExportError(f"{path}: layer {entry['name']} {error}: the file is "
                                  "truncated or corrupt; export it again") from None
            if len(index) and index.max() >= entry["K"]:
                raise ExportError(f"{path}: layer {entry['name']} selects option "
                                  f"{index.max()} of {entry['K']}: the file is corrupt")
            indices[entry["name"]] = index
            at += size
        listed = header.get("arrays", []) if header["format"] == FORMAT_WITH_ARRAYS else \
            [dict(entry, name=f"{entry['name']}.b") for entry in header.get("biases", [])] \
            if header["format"] == FORMAT_WITH_BIASES else []
        arrays = {}
        for entry in listed:
            size = entry["count"] * ARRAY_DTYPE.itemsize
            if len(raw) < at + size:
                raise ExportError(f"{path}: the values of {entry['name']} are cut short: the "
                                  "file is truncated; export it again")
            arrays[entry["name"]] = np.frombuffer(raw[at:at + size], ARRAY_DTYPE).copy()
            at += size
    except (ValueError, KeyError, TypeError) as error:
        raise ExportError(f"{path} has a damaged header ({type(error).__name__}: {error}); "
                          "export it again") from None
    if at != len(raw):
        raise ExportError(f"{path} holds {len(raw) - at} bytes more than its header describes: "
                          "the file is corrupt; export it again")
    return header, indices, arrays
