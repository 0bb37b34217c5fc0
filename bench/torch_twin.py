"""The PyTorch twin of a slotnp network: same layers, same arrays, straight-through slots.

Only the benchmark imports this (PyTorch is an optional benchmark dependency).
"""
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from slotnp import core as L, slots


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
        self.scores = nn.Parameter(torch.from_numpy(layer.scores.copy()))
        self.register_buffer("options", torch.from_numpy(layer.options.copy()))

    def forward(self):
        return GreedySlot.apply(self.scores, self.options)


class DenseWeight(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.W = nn.Parameter(torch.from_numpy(layer.params["W"].copy()))

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
            modules.append((name, nn.BatchNorm2d(layer.channels, layer.eps, layer.momentum,
                                                 affine=False)))
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
