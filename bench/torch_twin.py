"""The PyTorch twin of a slotnp network: same layers, same arrays, straight-through slots.

Only the benchmark imports this (PyTorch is an optional benchmark dependency).
"""
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from slotnp import core as L, slots
from slotnp.core import backend


def tensor(array):
    """A CPU tensor of a copy of `array`, wherever it lives: torch.from_numpy takes NumPy
    arrays only (a CuPy array is refused), so device arrays come to the host first."""
    return torch.from_numpy(np.array(backend.to_host(array)))


class GreedySlot(torch.autograd.Function):
    """w = options[..., argmax(scores)]; backward: dscores[..., k] = g * options[..., k]."""

    @staticmethod
    def forward(ctx, scores, options):
        ctx.save_for_backward(options)
        return options.gather(-1, scores.argmax(-1, keepdim=True)).squeeze(-1)

    @staticmethod
    def backward(ctx, g):
        (options,) = ctx.saved_tensors
        return g.unsqueeze(-1) * options, None


class SlotWeight(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.scores = nn.Parameter(tensor(layer.scores))
        self.register_buffer("options", tensor(layer.options))

    def forward(self):
        return GreedySlot.apply(self.scores, self.options)


class DenseWeight(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.W = nn.Parameter(tensor(layer.params["W"]))

    def forward(self):
        return self.W


class Conv(nn.Module):
    def __init__(self, layer, weight):
        super().__init__()
        self.weight, self.stride, self.padding = weight, layer.stride, layer.padding

    def forward(self, x):
        return F.conv2d(x, self.weight(), stride=self.stride, padding=self.padding)


class Fc(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = weight

    def forward(self, x):
        return F.linear(x, self.weight())


def twin(net):
    """An nn.Sequential computing what the slotnp Sequential `net` computes."""
    modules = []
    for name, layer in net.named_layers():
        if isinstance(layer, (slots.SlotConv2d, slots.SlotLinear)):
            weight = SlotWeight(layer)
        elif isinstance(layer, (L.Conv2d, L.Linear)):
            weight = DenseWeight(layer)
        if isinstance(layer, L.Conv2d):
            modules.append((name, Conv(layer, weight)))
        elif isinstance(layer, L.Linear):
            modules.append((name, Fc(weight)))
        elif isinstance(layer, L.ReLU):
            modules.append((name, nn.ReLU()))
        elif isinstance(layer, L.MaxPool2d):
            modules.append((name, nn.MaxPool2d(layer.kernel_size, layer.stride)))
        elif isinstance(layer, L.AvgPool2d):
            modules.append((name, nn.AvgPool2d(layer.kernel_size, layer.stride)))
        elif isinstance(layer, L.Flatten):
            modules.append((name, nn.Flatten()))
        elif isinstance(layer, L.Dropout):
            modules.append((name, nn.Dropout(layer.p_drop)))
        elif isinstance(layer, L.BatchNorm2d):
            norm = nn.BatchNorm2d(layer.channels, layer.eps, layer.momentum, affine=False)
            norm.running_mean.copy_(tensor(layer.buffers["running_mean"]))
            norm.running_var.copy_(tensor(layer.buffers["running_var"]))
            modules.append((name, norm))
        else:
            raise TypeError(f"no PyTorch twin for {layer!r}")
    return nn.Sequential(OrderedDict(modules))


def trained_arrays(model):
    """name -> parameter ("conv1.scores", "fc1.W"): the twin's scores and learned weights."""
    arrays = {}
    for name, param in model.named_parameters():
        layer, _, key = name.split(".")
        arrays[f"{layer}.{key}"] = param
    return arrays
