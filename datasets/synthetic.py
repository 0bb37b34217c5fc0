"""A small synthetic classification set made in code: for smoke runs and tests without files.

Each class has a random prototype image; samples are the prototype plus noise, so a net learns
it in a few epochs, yet it is not trivially separable by one pixel.
"""
import numpy as np


def load(shape=(1, 28, 28), classes=10, train=1000, test=200, noise=0.8, seed=0):
    """uint8 images (N, *shape) and int64 labels, train and test."""
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(0.0, 1.0, size=(classes,) + tuple(shape))

    def sample(n):
        labels = rng.integers(0, classes, n)
        images = prototypes[labels] + noise * rng.standard_normal((n,) + tuple(shape)) * 0.5
        return (np.clip(images, 0, 1) * 255).astype(np.uint8), labels.astype(np.int64)

    x_train, y_train = sample(train)
    x_test, y_test = sample(test)
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                classes=[str(i) for i in range(classes)])
