"""Sequential: layers applied in order, their parameters exposed under stable names."""
import numpy as np

from .base import Layer, WeightedLayer


class Sequential(Layer):
    """A chain of layers. Build it from layers or from (name, layer) pairs.

    `params` and `grads` are flat dicts keyed "<layer name>.<key>" (e.g. "conv1.scores",
    "fc1.W") that hold the layers' own arrays, so an optimizer updating them in place updates
    the layers.
    """

    def __init__(self, layers):   # not Layer.__init__: params, grads, buffers are gathered
        self.names, self.layers = [], []
        for index, item in enumerate(layers):
            name, layer = item if isinstance(item, tuple) else (str(index), item)
            if name in self.names:
                raise ValueError(f"Sequential: layer name {name!r} is used twice")
            self.names.append(name)
            self.layers.append(layer)

    def named_layers(self):
        return list(zip(self.names, self.layers))

    def _gathered(self, kind):
        """Every layer's `kind` dict ("params", "grads", "buffers": where a layer has them)."""
        gathered = {}
        for name, layer in self.named_layers():
            own = getattr(layer, kind, {}) if kind == "buffers" else getattr(layer, kind)
            gathered.update({f"{name}.{key}": value for key, value in own.items()})
        return gathered

    @property
    def params(self):
        return self._gathered("params")

    @property
    def grads(self):
        return self._gathered("grads")

    @property
    def buffers(self):
        return self._gathered("buffers")

    def forward(self, x, train=True):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward_steps(self, input_grad=True):
        """(name, layer, flags) in the order backward calls `layer.backward(dout, **flags)`:
        last first. With input_grad=False (no one needs the data's gradient) it stops at the
        first layer with parameters, which skips its dx where it can (flags
        {"input_grad": False})."""
        first = 0 if input_grad else next(
            (index for index, layer in enumerate(self.layers) if layer.params), len(self.layers))
        for index in range(len(self.layers) - 1, first - 1, -1):
            layer = self.layers[index]
            skips_dx = not input_grad and index == first and isinstance(layer, WeightedLayer)
            yield self.names[index], layer, {"input_grad": False} if skips_dx else {}

    def backward(self, dout, input_grad=True):
        """dout: the gradient at the output -> dx at the input, or None with input_grad=False
        (backward_steps)."""
        for _, layer, flags in self.backward_steps(input_grad):
            dout = layer.backward(dout, **flags)
        return dout if input_grad else None

    def reseed(self, seed):
        """Restart the run-time randomness (dropout, sampled slots) of every layer from `seed`."""
        for index, layer in enumerate(self.layers):
            if hasattr(layer, "reseed"):
                layer.reseed(int(np.random.SeedSequence([seed, index]).generate_state(1)[0]))

    note = None   # a remark printed with the layers (nets.build: the order of pool and ReLU)

    def __repr__(self):
        lines = [f"  ({name}): {layer!r}" for name, layer in self.named_layers()]
        note = f"  # {self.note}\n" if self.note else ""
        return "Sequential(\n" + note + "\n".join(lines) + "\n)"
