"""CIFAR-10 from the canonical python batches: a `cifar-10-batches-py` folder or the .tar.gz."""
import gzip
import io
import os
import pickle
import tarfile
import zlib

import numpy as np

from .download import download
from .errors import DataError

URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
MD5 = "c58f30108f718f92721af3b95e74349a"
# What a CIFAR-10 batch may reference when unpickled: a NumPy array (and its dtype) rebuilt from
# bytes. Anything else (os.system, say) is refused, so a doctored file cannot run code.
SAFE_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                ("numpy", "ndarray"), ("numpy", "dtype")}
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"


class BatchUnpickler(pickle.Unpickler):
    """Unpickles only dicts, lists, strings, numbers and NumPy arrays (SAFE_GLOBALS)."""

    def find_class(self, module, name):
        if (module, name) in SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it references {module}.{name}, which no CIFAR-10 batch "
                                     "holds (refused: unpickling it could run code)")


def unpickle(raw):
    return BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()


def parse_batch(raw, name):
    """One pickled batch -> (images (n, 3, 32, 32) uint8, labels (n,) int64)."""
    try:
        batch = unpickle(raw)
        data, labels = batch[b"data"], batch[b"labels"]
        images = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(labels, dtype=np.int64)
    except Exception as error:  # unpickling garbage can raise almost anything
        raise DataError(f"CIFAR-10 batch {name} is corrupt, truncated or not a CIFAR-10 batch "
                        f"({type(error).__name__}: {error}); delete it and download the data "
                        "again") from None
    if len(images) != len(labels):
        raise DataError(f"CIFAR-10 batch {name} has {len(images)} images but {len(labels)} labels")
    return images, labels


def _read_members(data_dir):
    """name -> bytes for every batch, from the folder or the archive."""
    names = TRAIN_BATCHES + [TEST_BATCH, "batches.meta"]
    folders = [os.path.join(data_dir, FOLDER), os.path.join(data_dir, "cifar10", FOLDER)]
    for folder in folders:
        if all(os.path.exists(os.path.join(folder, n)) for n in TRAIN_BATCHES + [TEST_BATCH]):
            members = {}
            for n in names:
                if os.path.exists(os.path.join(folder, n)):
                    try:
                        with open(os.path.join(folder, n), "rb") as file:
                            members[n] = file.read()
                    except OSError as error:
                        raise DataError(f"cannot read {os.path.join(folder, n)} "
                                        f"({error.strerror or error}); copy the canonical "
                                        "file there, or download the data again") from None
            return members
    archive = os.path.join(data_dir, ARCHIVE)
    partial = next((f for f in folders if os.path.isdir(f)), None)
    if partial is not None and not os.path.exists(archive):
        missing = [n for n in TRAIN_BATCHES + [TEST_BATCH]
                   if not os.path.exists(os.path.join(partial, n))]
        raise DataError(f"{partial} lacks {', '.join(missing)}; copy the missing batches in, or "
                        "download the data again")
    try:
        # the whole gzip stream, whose checksum is read at its end: a damaged archive fails
        # here instead of reading its first members as other data
        with gzip.open(archive, "rb") as file:
            inflated = io.BytesIO(file.read())
        with tarfile.open(fileobj=inflated, mode="r:") as tar:
            return {os.path.basename(m.name): tar.extractfile(m).read() for m in tar.getmembers()
                    if os.path.basename(m.name) in names}
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise DataError(f"{archive} is truncated or corrupt ({error}); delete it and download "
                        "it again") from None


def available(data_dir):
    return any(os.path.exists(p) for p in (os.path.join(data_dir, FOLDER),
                                           os.path.join(data_dir, "cifar10", FOLDER),
                                           os.path.join(data_dir, ARCHIVE)))


def load(data_dir, allow_download=True):
    """CIFAR-10 as uint8 images (N, 3, 32, 32) and int64 labels, train and test."""
    if not available(data_dir):
        hint = (f"Put {ARCHIVE} or the extracted {FOLDER}/ in {data_dir}, or pass --data-dir "
                "to a folder that has them (an image folder cifar10-jpg/{train,test}/<class>/ "
                "works too)")
        if not allow_download:
            raise DataError(f"CIFAR-10 not found under {data_dir}. {hint}")
        download(URLS, os.path.join(data_dir, ARCHIVE), MD5, hint)
    members = _read_members(data_dir)
    missing = [n for n in TRAIN_BATCHES + [TEST_BATCH] if n not in members]
    if missing:
        raise DataError(f"CIFAR-10 under {data_dir} lacks {missing}; download it again")
    train = [parse_batch(members[n], n) for n in TRAIN_BATCHES]
    x_test, y_test = parse_batch(members[TEST_BATCH], TEST_BATCH)
    classes = [str(i) for i in range(10)]
    if "batches.meta" in members:
        try:
            meta = unpickle(members["batches.meta"])
            classes = [c.decode() for c in meta.get(b"label_names", [])] or classes
        except Exception as error:
            raise DataError(f"CIFAR-10 batches.meta is corrupt or not the canonical file "
                            f"({type(error).__name__}: {error}); delete it and download the "
                            "data again") from None
    return dict(x_train=np.concatenate([x for x, _ in train]),
                y_train=np.concatenate([y for _, y in train]),
                x_test=x_test, y_test=y_test, classes=classes)
