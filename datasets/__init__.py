"""Data sets for slotnp: MNIST, CIFAR-10 (python batches or an image folder), and synthetic.

`load(name, data_dir)` returns raw uint8 arrays; `prepare.py` splits, normalises and batches them.
"""
import os

from . import cifar10, image_folder, mnist, synthetic
from .errors import DataError

DATASETS = ("mnist", "cifar10", "synthetic")
VALIDATION_FRACTION = {"mnist": 0.15, "cifar10": 0.10, "synthetic": 0.15}


def load(name, data_dir, allow_download=True, shape=(1, 28, 28)):
    """Raw arrays of data set `name`: dict x_train, y_train, x_test, y_test, classes.

    cifar10 uses the canonical python batches when data_dir has them, else an image folder
    data_dir/cifar10-jpg (or data_dir itself when it holds train/ and test/), else downloads.
    `shape` is the image shape of the synthetic set.
    """
    if name == "mnist":
        return mnist.load(data_dir, allow_download)
    if name == "cifar10":
        if not cifar10.available(data_dir):
            for root in (os.path.join(data_dir, "cifar10-jpg"), data_dir):
                if os.path.isdir(os.path.join(root, "train")):
                    return image_folder.load(root)
        return cifar10.load(data_dir, allow_download)
    if name == "synthetic":
        return synthetic.load(shape=shape)
    raise DataError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")


__all__ = ["DATASETS", "DataError", "VALIDATION_FRACTION", "load"]
