"""From raw uint8 arrays to training batches: split, normalise, upload once, augment, batch."""
import numpy as np

from slotnp import backend

from .errors import DataError


def split(x, y, val_fraction, seed):
    """A seeded, disjoint train/validation split: ((x_train, y_train), (x_val, y_val))."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {val_fraction}")
    order = np.random.default_rng([seed, 0x5A17]).permutation(len(x))
    n_val = int(round(val_fraction * len(x)))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def channel_stats(x):
    """Per-channel mean and std of uint8 images (N, C, H, W), in [0, 1] units."""
    scaled = x.astype(np.float64) / 255.0
    return scaled.mean(axis=(0, 2, 3)), scaled.std(axis=(0, 2, 3))


def normalise_to_device(x, mean, std):
    """(x/255 - mean) / std per channel, float32, uploaded to the active device once."""
    scaled = x.astype(np.float32) / np.float32(255.0)
    shape = (1, -1, 1, 1)
    scaled -= mean.astype(np.float32).reshape(shape)
    scaled /= std.astype(np.float32).reshape(shape)
    return backend.to_device(scaled)


def random_crop_flip(x, rng, padding=4):
    """CIFAR augmentation on a whole batch: pad by `padding` with zeros, crop back to the
    original size at a random offset per image, and flip half of the images left-right.

    x: (N, C, H, W) on any backend; rng: a host NumPy Generator (only offsets are drawn there).
    """
    xp = backend.xp_of(x)
    N, C, H, W = x.shape
    padded = xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    top = backend.to_device(rng.integers(0, 2 * padding + 1, N))
    left = backend.to_device(rng.integers(0, 2 * padding + 1, N))
    flip = backend.to_device(rng.random(N) < 0.5)
    rows = top[:, None] + xp.arange(H)[None, :]                               # (N, H)
    cols = left[:, None] + xp.arange(W)[None, :]                              # (N, W)
    cols = xp.where(flip[:, None], cols[:, ::-1], cols)  # a flip reads the columns backwards
    n = xp.arange(N)[:, None, None, None]
    c = xp.arange(C)[None, :, None, None]
    return padded[n, c, rows[:, None, :, None], cols[:, None, None, :]]


def random_flip(x, rng):
    """Flip half of the images left-right, and nothing else (the authors' CIFAR augmentation).

    x: (N, C, H, W) on any backend; rng: a host NumPy Generator (which images flip).
    """
    flip = backend.to_device(rng.random(len(x)) < 0.5)
    return backend.xp_of(x).where(flip[:, None, None, None], x[..., ::-1], x)


# A run's augmentation by name (config.json's "augment").
AUGMENTATIONS = {"crop-flip": random_crop_flip, "flip": random_flip, "none": None}


def augment_name(value):
    """config.json's "augment" as a name: runs saved before flips alone existed wrote True for
    crop-flip and False for none."""
    return {True: "crop-flip", False: "none"}.get(value, value)


def augmentation(value):
    """The augmentation function config.json's "augment" names (None: no augmentation)."""
    return AUGMENTATIONS[augment_name(value)]


def batches(n, batch_size, rng):
    """Index arrays of one epoch: one permutation of range(n), cut into batches (last may be short)."""
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]
