#!/usr/bin/env python3
"""A small learnable CIFAR-format set (python batches), for train.py runs without the data:

  python bench/fake_cifar.py DIR [IMAGES_PER_BATCH]     # writes DIR/cifar-10-batches-py/
"""
import os
import pickle
import sys

import numpy as np


def write(folder, per_batch=2000):
    target = os.path.join(folder, "cifar-10-batches-py")
    os.makedirs(target, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = rng.integers(0, 10, per_batch)
        noise = rng.integers(0, 128, (per_batch, 3072))
        data = (noise + labels[:, None] * 12).astype(np.uint8)     # the label shifts the mean
        with open(os.path.join(target, name), "wb") as file:
            pickle.dump({b"data": data, b"labels": labels.tolist()}, file)


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
