"""Sequential: layers applied in order, their parameters exposed under stable names."""
import numpy as np

from .base import Layer, WeightedLayer


class Sequential(Layer):
    """A chain of layers. Build it from layers or from (name, layer) pairs.

    `params` and `grads` are flat dicts keyed "<layer name>.<key>" (e.g. "conv1.scores",
    "fc1.W") that hold the layers' own arrays, so an optimizer updating them in place updates
    the layers.
    """

    def __init__(self, layers):
        super().__init__()
        self.names, self.layers = [], []
        for index, item in enumerate(layers):
            name, layer = item if isinstance(item, tuple) else (str(index), item)
            if name in self.names:
                raise ValueError(f"Sequential: layer name {name!r} is used twice")
            self.names.append(name)
            self.layers.append(layer)

    def named_layers(self):
        return list(zip(self.names, self.layers))

    @property
    def params(self):
        return {f"{name}.{key}": value for name, layer in self.named_layers()
                for key, value in layer.params.items()}

    @property
    def grads(self):
        return {f"{name}.{key}": value for name, layer in self.named_layers()
                for key, value in layer.grads.items()}

    @property
    def buffers(self):
        return {f"{name}.{key}": value for name, layer in self.named_layers()
                for key, value in getattr(layer, "buffers", {}).items()}

    @params.setter
    def params(self, value):  # Layer.__init__ assigns {}; the real dict is derived
        pass

    @grads.setter
    def grads(self, value):
        pass

    @buffers.setter
    def buffers(self, value):
        pass

    def forward(self, x, train=True):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def backward(self, dout, input_grad=True):
        """dout: the gradient at the output -> dx at the input. With input_grad=False (training
        on data, whose gradient no one uses) backward stops at the first layer with
        parameters, which skips its own dx where it can (Conv2d, Linear), and returns None."""
        if input_grad:
            for layer in reversed(self.layers):
                dout = layer.backward(dout)
            return dout
        trained = [index for index, layer in enumerate(self.layers) if layer.params]
        if trained:
            for layer in reversed(self.layers[trained[0] + 1:]):
                dout = layer.backward(dout)
            first = self.layers[trained[0]]
            if isinstance(first, WeightedLayer):
                first.backward(dout, input_grad=False)
            else:
                first.backward(dout)
        return None

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
