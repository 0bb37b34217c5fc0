"""MNIST from the four canonical IDX .gz files (downloaded with MD5 check when missing)."""
import gzip
import os
import struct
import zlib

import numpy as np

from .download import download
from .errors import DataError

# Tried in turn: the mirror torchvision uses first (the original site has long refused scripted
# downloads with HTTP 403), then the original.
SOURCES = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
FILES = {  # name: MD5 of the published .gz
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def read_idx(path):
    """An IDX file (optionally gzipped) as a uint8 array of the shape its header gives."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError, zlib.error) as error:    # zlib: a damaged compressed stream
        raise DataError(f"{path} cannot be read ({error}); it is truncated or not an IDX file: "
                        "delete it and download it again") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated inside its header; download it again")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(shape)):
        raise DataError(f"{path} holds {len(raw) - header} bytes of data but its header promises "
                        f"{int(np.prod(shape))} for shape {shape}: the file is truncated or "
                        "corrupt; download it again")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def find_dir(data_dir):
    """The folder holding the four files: data_dir/mnist if present, else data_dir itself."""
    for folder in (os.path.join(data_dir, "mnist"), data_dir):
        if all(os.path.exists(os.path.join(folder, name)) for name in FILES):
            return folder
    return None


def load(data_dir, allow_download=True):
    """MNIST as uint8 images (N, 1, 28, 28) and int64 labels, train and test."""
    folder = find_dir(data_dir)
    if folder is None:
        folder = os.path.join(data_dir, "mnist")
        if not allow_download:
            raise DataError(f"MNIST not found under {data_dir}: put the four IDX .gz files "
                            f"({', '.join(FILES)}) in {folder}, or pass --data-dir")
        hint = (f"Put the four IDX .gz files ({', '.join(FILES)}) in {folder}, "
                "or pass --data-dir to a folder that has them")
        for name, md5 in FILES.items():
            if not os.path.exists(os.path.join(folder, name)):
                download([source + name for source in SOURCES], os.path.join(folder, name), md5,
                         hint)
    part = lambda name: read_idx(os.path.join(folder, name))  # noqa: E731
    x_train, y_train = part("train-images-idx3-ubyte.gz"), part("train-labels-idx1-ubyte.gz")
    x_test, y_test = part("t10k-images-idx3-ubyte.gz"), part("t10k-labels-idx1-ubyte.gz")
    for images, labels in ((x_train, y_train), (x_test, y_test)):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"MNIST files in {folder} do not match: images {images.shape}, "
                            f"labels {labels.shape}")
    return dict(x_train=x_train[:, None], y_train=y_train.astype(np.int64),
                x_test=x_test[:, None], y_test=y_test.astype(np.int64),
                classes=[str(i) for i in range(10)])
