"""SGD with momentum and weight decay; the learning-rate schedules: the cosine with warm restarts
(the paper's) and a constant rate (the authors' released code)."""
import math

from . import backend, twins


class SGD:
    """Updates arrays in place (PyTorch's convention):
        v <- momentum * v + (grad + weight_decay * param);   param <- param - lr * v
    `params` is a dict name -> array (e.g. `model.params`); the velocity is keyed the same way.
    `lr_scale`: name -> factor, for arrays that train at factor * lr (a slot machine's learned
    biases: scores and biases take rates of different sizes); the others at lr.
    """

    def __init__(self, params, lr, momentum=0.9, weight_decay=1e-4, lr_scale=None):
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"SGD {name} must be a finite number >= 0, got {value!r}")
        self.params = params
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self.lr_scale = dict(lr_scale or {})
        unknown = set(self.lr_scale) - set(params)
        if unknown:
            raise ValueError(f"lr_scale names arrays that are not params: {sorted(unknown)}")
        self.velocity = {name: backend.xp_of(p).zeros_like(p) for name, p in params.items()}

    def step(self, grads, lr=None):
        """One update from `grads` (same keys as params) at `lr` (default: self.lr)."""
        lr = self.lr if lr is None else float(lr)
        twin = twins.find("sgd")                   # (the same update, on every core)
        if twin is not None and twin(self, grads, lr):
            return
        for name, param in self.params.items():
            velocity = self.velocity[name]
            velocity *= self.momentum
            velocity += grads[name]
            if self.weight_decay:
                velocity += self.weight_decay * param
            param -= lr * self.lr_scale.get(name, 1.0) * velocity

    def state_dict(self):
        """Host copies of the velocities, keyed by parameter name."""
        return {name: backend.to_host(v) for name, v in self.velocity.items()}

    def load_state_dict(self, state):
        missing = set(self.velocity) - set(state)
        if missing:
            raise ValueError(f"optimizer state lacks {sorted(missing)}; was it saved for another net?")
        for name, velocity in self.velocity.items():
            velocity[...] = backend.to_device(state[name])


class CosineWithRestarts:
    """SGDR: within each cycle the rate falls from base_lr to 0 along half a cosine.

    Cycles start at epoch 0 and at each epoch in `restarts`; the last one ends at total_epochs.
    `lr(epoch)` takes fractional epochs, so it can be called every step.
    """

    def __init__(self, base_lr, total_epochs, restarts=(25, 75)):
        starts = [0] + sorted(r for r in restarts if 0 < r < total_epochs)
        self.base_lr = float(base_lr)
        self.cycles = list(zip(starts, starts[1:] + [total_epochs]))

    def lr(self, epoch):
        for start, end in reversed(self.cycles):
            if epoch >= start:
                progress = min((epoch - start) / (end - start), 1.0)
                return self.base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.base_lr


class ConstantRate:
    """The same rate at every epoch (the authors' released code trains the CONV nets so)."""

    def __init__(self, base_lr):
        self.base_lr = float(base_lr)

    def lr(self, epoch):
        return self.base_lr
