#!/usr/bin/env python3
"""A slice of CIFAR-10 in the canonical format (cifar-10-batches-py), small enough to carry to
a lent GPU machine (under 64 MiB), so that the GPU check's last stage trains on real images.

  python bench/cifar_slice.py --data-dir ../shared/datasets data/cifar-slice
  # then: CIFAR=data/cifar-slice OUT=... bash bench/gpu_check.sh   (data/ is not committed)

10,000 training images (in 5 batches of 2,000, as the loader expects five) and 5,000 test
images, each a seeded random choice (an image folder lists the images class by class), read
through slotnp's own loader (the python batches, or the image folder): 44 MiB.
"""
import argparse
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import datasets  # noqa: E402
from datasets import cifar10  # noqa: E402


def write(target, x_train, y_train, x_test, y_test):
    """The python batches of these uint8 (N, 3, 32, 32) images in `target`/cifar-10-batches-py."""
    folder = os.path.join(target, cifar10.FOLDER)
    os.makedirs(folder, exist_ok=True)
    parts = np.array_split(np.arange(len(x_train)), len(cifar10.TRAIN_BATCHES))
    batches = [(name, x_train[part], y_train[part])
               for name, part in zip(cifar10.TRAIN_BATCHES, parts)]
    for name, images, labels in batches + [(cifar10.TEST_BATCH, x_test, y_test)]:
        with open(os.path.join(folder, name), "wb") as file:
            pickle.dump({b"data": np.ascontiguousarray(images.reshape(len(images), -1)),
                         b"labels": labels.tolist()}, file, protocol=4)
    return folder


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("target")
    p.add_argument("--data-dir", default="data", help="where CIFAR-10 is")
    p.add_argument("--train", type=int, default=10_000)
    p.add_argument("--test", type=int, default=5_000)
    args = p.parse_args()
    raw = datasets.load("cifar10", args.data_dir, shape=(3, 32, 32))
    rng = np.random.default_rng(0)
    train = np.sort(rng.permutation(len(raw["x_train"]))[:args.train])
    test = np.sort(rng.permutation(len(raw["x_test"]))[:args.test])
    folder = write(args.target, raw["x_train"][train], raw["y_train"][train],
                   raw["x_test"][test], raw["y_test"][test])
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f"wrote {folder}: {args.train:,} training and {args.test:,} test images, "
          f"{size / 2 ** 20:.1f} MiB")


if __name__ == "__main__":
    main()
