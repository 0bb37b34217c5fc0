"""Every layer of slotnp: forward(x, train) -> y and backward(dout) -> dx, params/grads dicts."""
from .activation import Dropout, ReLU
from .base import Layer
from .conv import Conv2d
from .edge_popup import EdgePopupConv2d, EdgePopupLinear
from .linear import Linear
from .pooling import AvgPool2d, MaxPool2d
from .sequential import Sequential
from .shape import Flatten
from .slot import SCORE_FORMS, SELECTIONS, SlotConv2d, SlotLinear

__all__ = ["AvgPool2d", "Conv2d", "Dropout", "EdgePopupConv2d", "EdgePopupLinear", "Flatten",
           "Layer", "Linear", "MaxPool2d", "ReLU",
           "SCORE_FORMS", "SELECTIONS", "Sequential", "SlotConv2d", "SlotLinear"]
