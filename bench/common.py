"""What the benchmarks share: a slotnp net with its training step and inference forward on a
random batch, and the PyTorch twin's (bench.py on the CPU, gpu.py on CUDA, op_count.py)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from slotnp import backend, fast, losses, nets, optim  # noqa: E402


def slotnp_step(net, sgd, x, y):
    """One training step as train.py takes it, with the fast twins on."""
    with fast.on():
        loss, dlogits = losses.softmax_cross_entropy(net.forward(x, train=True), y)
        net.backward(dlogits, input_grad=False)     # as train.py: no dx for the images
        sgd.step(net.grads)


def slotnp_case(name, batch, dtype=np.float32, lr=0.01, **build):
    """(net, x, y, step, infer) on the active backend: nets.build(name, seed=0, **build), a
    random batch, one SGD step (momentum 0.9, weight decay 1e-4) and one evaluation forward,
    with the fast twins on, as train.py runs them."""
    with fast.on():
        net = nets.build(name, seed=0, dtype=dtype, **build)
    sgd = optim.SGD(net.params, lr, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    x = backend.to_device(rng.standard_normal((batch,) + nets.INPUT_SHAPES[name]).astype(dtype))
    y = backend.to_device(rng.integers(0, 10, batch))

    def step():
        slotnp_step(net, sgd, x, y)

    def infer():
        with fast.on():
            return net.forward(x, train=False)

    return net, x, y, step, infer


def torch_calls(net, x, y, device="cpu", threads=None):
    """(step, infer) of the PyTorch twin of `net` on host arrays x, y, on `device`."""
    import torch
    from torch_twin import twin
    if threads:
        torch.set_num_threads(threads)
    model = twin(net).to(device)
    sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    tx, ty = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)

    def step():
        sgd.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(tx), ty).backward()
        sgd.step()

    def infer():
        with torch.no_grad():
            model.eval()
            model(tx)
            model.train()

    return step, infer
