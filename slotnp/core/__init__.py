"""The plain engine: every layer of a conv net with its backward written out, the loss, SGD and
the training loop, in NumPy (or CuPy, through backend.py). It runs, and reads, on its own.
"""
from . import backend, init, losses, optim, training, twins
from .activation import Dropout, ReLU
from .base import Layer
from .batchnorm import BatchNorm2d
from .conv import Conv2d
from .linear import Linear
from .pooling import AvgPool2d, MaxPool2d
from .sequential import Sequential
from .shape import Flatten

__all__ = ["AvgPool2d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "Layer", "Linear", "MaxPool2d", "ReLU",
           "Sequential", "backend", "init", "losses", "optim", "training", "twins"]
