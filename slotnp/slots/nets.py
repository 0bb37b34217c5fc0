"""The paper's networks, as slot machines or with ordinary learned weights: 3x3 convolutions
with padding 1 (padding="authors": the leading ones unpadded, as the authors' code), ReLU, 2x2
max pooling, no biases (bias=True: learned ones); dropout 0.5 after the CONV nets' first two FC
layers (dropout_at="before": on their inputs instead, as the authors' code; Lenet has none: with
it a K=2 slot Lenet stalled near 94% on MNIST here).
  lenet  784-300-100-10                                  (MNIST, 1x28x28)
  conv2  [64, 64, P] then FC 256-256-10                  (CIFAR-10, 3x32x32)
  conv4  [64, 64, P, 128, 128, P] then FC 256-256-10
  conv6  [64, 64, P, 128, 128, P, 256, 256, P] then FC 256-256-10
  vgg19  16 convolutions (5 pools), each followed by batch normalisation (BatchNorm2d,
         affine=False, as the authors' code), global average pool, FC-10
"""
import numpy as np

from ..core import AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential
from ..core import init, twins
from ..core.base import check_int
from ..core.batchnorm import BatchNorm2d
from ..core.init import OPTIONS_VERSION
from .edge_popup import EdgePopupConv2d, EdgePopupLinear
from .slot import SlotConv2d, SlotLinear

CONV_STACKS = {
    "conv2": [64, 64, "P"],
    "conv4": [64, 64, "P", 128, 128, "P"],
    "conv6": [64, 64, "P", 128, 128, "P", 256, 256, "P"],
    "vgg19": [64, 64, "P", 128, 128, "P", 256, 256, 256, 256, "P",
              512, 512, 512, 512, "P", 512, 512, 512, 512, "P"],
}
NETS = ("lenet",) + tuple(CONV_STACKS)
INPUT_SHAPES = {"lenet": (1, 28, 28), **{name: (3, 32, 32) for name in CONV_STACKS}}


PADDINGS = ("same", "authors")
DROPOUT_PLACES = ("after", "before")   # the first two FC layers' dropout: on outputs or inputs
UNPADDED = {"conv2": 2, "conv4": 4, "conv6": 4}   # the authors' code: leading convs unpadded
NORMALISED = ("vgg19",)                          # batch normalisation after every convolution
OUTPUTS = 10  # classes every net tells apart (MNIST and CIFAR-10)
DEFAULT_DROPOUT = {"lenet": 0.0, "conv2": 0.5, "conv4": 0.5, "conv6": 0.5, "vgg19": 0.5}


def build(name, slot=True, K=8, selection="greedy", seed=0, shared=False, image_size=None,
          dropout=None, option_bound=1.0, score_form=None, dtype=np.float32,
          options_version=OPTIONS_VERSION, keep_options=False, edge_popup=None,
          weight_init="signed_constant", score_bound=None, padding="same",
          dropout_at="after", bias=False):
    """Net `name`, every weight drawn from one Generator seeded by `seed`; `net.config` holds
    these arguments. slot: K options per connection chosen by `selection` (slot=False: learned
    weights; `edge_popup`, a kept fraction: edge-popup layers, weights by `weight_init`).
    `shared`: one set of K values per "layer" (or True) or for the "network". Options
    U(-b*sigma, b*sigma), b = `option_bound` (the paper: 1; the authors' code: sqrt(3)); scores
    U(0, score_bound*sigma) (default: the paper's lambda). `dropout`: after the first two FC
    layers (default DEFAULT_DROPOUT), or on their inputs (`dropout_at` "before"); `image_size`:
    smaller CIFAR inputs; `score_form`, `options_version`, `keep_options`: slot.make_slots.
    `bias`: every convolution and FC layer adds a learned bias (the paper's nets have none).
    """
    steps = plan(name, image_size, padding)    # checks the name, image size and padding
    if slot and edge_popup is not None:
        raise ValueError("a net is a slot machine or an edge-popup net, not both: pass "
                         "slot=False with edge_popup")
    # K, selection, score_form and option_bound are checked by the first slot layer (Slots).
    dropout = DEFAULT_DROPOUT[name] if dropout is None else dropout
    if dropout_at not in DROPOUT_PLACES:
        raise ValueError(f"unknown dropout_at {dropout_at!r}; choose one of "
                         f"{', '.join(DROPOUT_PLACES)}")
    if score_form is None:
        score_form = "factored" if twins.find("slots") is not None else "explicit"
    if shared not in (False, None, True, "layer", "network"):
        raise ValueError(f"shared must be 'layer' or 'network', got {shared!r}")
    # what each slot layer shares: nothing, its own K values, or the net's (at its own scale)
    values = init.network_options(seed, K, option_bound) if shared == "network" else \
        bool(shared)
    rng = np.random.default_rng(seed)

    slot_args = dict(K=K, selection=selection, shared=values, rng=rng, dtype=dtype,
                     option_bound=option_bound, score_form=score_form,
                     options_version=options_version, keep_options=keep_options, bias=bias)
    popup_args = dict(keep=edge_popup, weight_init=weight_init, rng=rng, dtype=dtype, bias=bias)

    def linear(n_in, n_out):
        if edge_popup is not None:
            return EdgePopupLinear(n_in, n_out, **popup_args)
        if slot:
            return SlotLinear(n_in, n_out, score_bound=0.1 if score_bound is None else score_bound,
                              **slot_args)
        return Linear(n_in, n_out, rng=rng, dtype=dtype, bias=bias)

    def conv(c_in, c_out, pad):
        if edge_popup is not None:
            return EdgePopupConv2d(c_in, c_out, 3, padding=pad, **popup_args)
        if slot:
            return SlotConv2d(c_in, c_out, 3, padding=pad, **slot_args,
                              score_bound=1.0 if score_bound is None else score_bound)
        return Conv2d(c_in, c_out, 3, padding=pad, rng=rng, dtype=dtype, bias=bias)

    n_fc = sum(kind == "fc" for kind, _, _ in steps)
    layers = []
    for kind, layer_name, shape in steps:
        if kind == "flatten":
            layers.append((layer_name, Flatten()))
        elif kind == "conv":
            index = layer_name[4:]
            layers.append((layer_name, conv(shape[1], shape[0], conv_padding(name, int(index),
                                                                             padding))))
            if name in NORMALISED:
                layers.append((f"norm{index}", BatchNorm2d(shape[0], dtype=dtype)))
            layers.append((f"relu{index}", ReLU()))
        elif kind == "pool":
            # Max pooling goes before the preceding ReLU: the two commute, gradients too,
            # and the ReLU then touches a quarter of the values.
            layers.insert(len(layers) - 1, (layer_name, MaxPool2d(2)))
        elif kind == "avgpool":
            layers.append((layer_name, AvgPool2d(shape)))
        else:                                                    # "fc", shape (out, in)
            i = int(layer_name[2:])
            dropped = i <= 2 and i < n_fc and dropout > 0    # the first two hidden FC layers
            if dropped and dropout_at == "before":
                layers.append((f"dropout{i}", Dropout(dropout)))
            layers.append((layer_name, linear(shape[1], shape[0])))
            if i < n_fc:
                layers.append((f"fc_relu{i}", ReLU()))
                if dropped and dropout_at == "after":
                    layers.append((f"dropout{i}", Dropout(dropout)))
    net = Sequential(layers)
    if any(kind == "pool" for kind, _, _ in steps):
        net.note = ("each max pool sits before its convolution's ReLU, where the paper has it "
                    "after: the two commute, and ReLU then touches a quarter of the values")
    net.reseed(seed)
    net.config = dict(name=name, slot=slot, K=K, selection=selection, seed=seed, shared=shared,
                      image_size=image_size, dropout=dropout, option_bound=option_bound,
                      score_form=score_form, dtype=np.dtype(dtype).name,
                      options_version=options_version, edge_popup=edge_popup,
                      weight_init=weight_init, score_bound=score_bound, padding=padding,
                      dropout_at=dropout_at, bias=bias)
    return net


def conv_padding(name, index, padding="same"):
    """The padding of convolution `index` (from 1) of net `name`: 1, or 0 where the authors'
    code leaves it unpadded (padding="authors")."""
    return 0 if padding == "authors" and index <= UNPADDED.get(name, 0) else 1


def plan(name, image_size=None, padding="same"):
    """The layers of net `name` unbuilt, (kind, layer name, shape) in order: "conv" (F, C, 3, 3),
    "fc" (out, in), "pool" and "avgpool" (the window side), "flatten" (None)."""
    if name not in NETS:
        raise ValueError(f"unknown net {name!r}; choose one of {', '.join(NETS)}")
    if padding not in PADDINGS:
        raise ValueError(f"unknown padding {padding!r}; choose one of {', '.join(PADDINGS)}")
    steps = []
    if name == "lenet":
        widths = [28 * 28, 300, 100, OUTPUTS]
        steps.append(("flatten", "flatten", None))
    else:
        size = 32 if image_size is None else check_int(image_size, "image_size")
        channels, n_conv, n_pool = 3, 0, 0
        for item in CONV_STACKS[name]:
            if item == "P":
                n_pool += 1
                steps.append(("pool", f"pool{n_pool}", 2))
                size //= 2
            else:
                n_conv += 1
                steps.append(("conv", f"conv{n_conv}", (item, channels, 3, 3)))
                channels = item
                size -= 2 * (1 - conv_padding(name, n_conv, padding))
        if size < 1:
            smallest, index = 1, n_conv      # back from one pixel at the end of the stack
            for item in reversed(CONV_STACKS[name]):
                if item == "P":
                    smallest *= 2
                else:                        # an unpadded convolution takes 2 pixels
                    smallest += 2 * (1 - conv_padding(name, index, padding))
                    index -= 1
            raise ValueError(f"{name} (padding {padding!r}) needs images of at least {smallest} "
                             f"pixels a side, got {image_size}")
        if name == "vgg19":
            steps += [("avgpool", "avgpool", size), ("flatten", "flatten", None)]
            widths = [channels, OUTPUTS]
        else:
            steps.append(("flatten", "flatten", None))
            widths = [channels * size * size, 256, 256, OUTPUTS]
    steps += [("fc", f"fc{i + 1}", (widths[i + 1], widths[i])) for i in range(len(widths) - 1)]
    return steps


def slot_layers(net):
    """(name, layer) for every slot layer of a Sequential."""
    return [(name, layer) for name, layer in net.named_layers() if hasattr(layer, "slots")]


def freeze(net, selections=None):
    """A copy of a slot (or edge-popup) net whose such layers are dense, holding the selected
    weights (or the options `selections` names by layer), for fine-tuning."""
    selections = selections or {}
    frozen = Sequential([(name, layer.freeze(selections.get(name)) if hasattr(layer, "freeze")
                          else layer) for name, layer in net.named_layers()])
    frozen.config = dict(net.config, slot=False, frozen_from_slots=True)
    frozen.note = net.note
    return frozen
