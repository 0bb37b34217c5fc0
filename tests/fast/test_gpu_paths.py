"""The fast twins on a GPU's paths, counted on the CPU by the counting backend
(slotnp/run/counting.py): no read from the device in a training step, a few hundred operations."""
import os
import sys

import numpy as np
import pytest

from slotnp import backend

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def counting():
    """The counting backend (slotnp/run/counting.py), which takes CuPy's paths on NumPy."""
    from slotnp.run import counting as module
    backend.use("counting")
    module.counts.reset()
    yield module.counts
    backend.use("numpy")


STEP_CASES = [("lenet", dict(K=8)), ("lenet", dict(K=64)), ("conv2", dict(K=8)),
              ("conv4", dict(K=64)), ("conv2", dict(K=8, selection="sample")),
              ("conv2", dict(K=8, score_form="explicit")), ("conv2", dict(K=8, shared=True)),
              ("conv6", dict(slot=False)), ("conv2", dict(slot=False, edge_popup=0.5))]


def one_step(name, kw, batch=16):
    from slotnp import nets, optim
    from slotnp.core.losses import softmax_cross_entropy
    net = nets.build(name, seed=0, image_size=None if name == "lenet" else 8, **kw)
    sgd = optim.SGD(net.params, lr=0.1, weight_decay=1e-4)
    shape = nets.INPUT_SHAPES[name] if name == "lenet" else (3, 8, 8)
    rng = np.random.default_rng(0)
    x = backend.to_device(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = backend.to_device(rng.integers(0, 10, batch))

    def step():
        loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), y)
        net.backward(dlogits)
        sgd.step(net.grads)
    return net, x, y, step


@pytest.mark.parametrize("name, kw", STEP_CASES)
def test_a_training_step_reads_nothing_from_the_device(counting, name, kw):
    """Zero device-to-host reads in a training step, in every slot form, learned and edge-popup
    nets; and one per evaluation (of several batches), not one per batch."""
    from slotnp import training
    net, x, y, step = one_step(name, kw)
    step()
    counting.reset()
    step()
    step()
    assert sum(counting.reads.values()) == 0, dict(counting.reads)
    assert sum(counting.ops.values()) > 20
    counting.reset()
    training.accuracy(net, x, y, batch_size=4)                 # 4 batches
    assert sum(counting.reads.values()) == 1, dict(counting.reads)


@pytest.mark.parametrize("mode, reads", [("sample", 3), ("expected", 1)])
def test_a_sampled_net_evaluation_reads_once_per_network_and_split(counting, mode, reads):
    """run/evaluation.py on the GPU path: building each drawn (or expected) network reads
    nothing; each accuracy reads its count once."""
    from slotnp.run import evaluation
    net, x, y, step = one_step("conv2", dict(K=8, selection="sample"))
    step()
    counting.reset()
    evaluation.evaluate(net, {"val": (x, y), "test": (x, y)}, mode, draws=3, seed=1)
    assert sum(counting.reads.values()) == 2 * reads, dict(counting.reads)


def test_a_whole_training_epoch_reads_only_for_progress(counting):
    """train_epoch itself: no read per step; progress (every 20 steps) and the result only."""
    from slotnp import optim, training
    net, x, y, _ = one_step("lenet", dict(K=8), batch=64)
    sgd = optim.SGD(net.params, lr=0.1)
    batches = [np.arange(i, i + 8) for i in range(0, 64, 8)]           # 8 steps
    schedule = optim.CosineWithRestarts(0.1, 10)
    counting.reset()
    training.train_epoch(net, sgd, schedule, 0, x, y, batches, np.random.default_rng(0))
    assert sum(counting.reads.values()) == 2, dict(counting.reads)     # loss and accuracy


sys.path.insert(0, os.path.join(ROOT, "bench"))
from op_count import OP_BUDGET  # noqa: E402  (operations per training step on the GPU path)


@pytest.mark.parametrize("name", ["conv2", "conv4", "conv6"])
@pytest.mark.parametrize("kw", [dict(K=8), dict(K=64), dict(slot=False)])
def test_a_training_step_launches_a_few_hundred_operations(counting, name, kw):
    _, _, _, step = one_step(name, kw)
    step()
    counting.reset()
    step()
    ops = sum(counting.ops.values())
    assert 50 < ops <= OP_BUDGET, (ops, counting.ops.most_common(8))


def test_the_counting_backend_counts_what_it_should(counting):
    xp = backend.xp()
    a = backend.to_device(np.arange(6.0))
    counting.reset()
    b = a * 2 + 1                         # two kernels
    c = b.reshape(2, 3).T                 # views: free
    assert sum(counting.ops.values()) == 2 and not counting.reads
    float(c.sum())                        # a reduction, then a read
    xp.nonzero(a > 2)                     # its size depends on the data: a read
    assert counting.ops["add.reduce"] == 1 and sum(counting.reads.values()) == 2
    assert backend.xp_of(c) is xp and np.array_equal(backend.to_host(c), (np.arange(6.0) * 2 + 1)
                                                     .reshape(2, 3).T)


def test_shared_options_cannot_be_changed_through_the_layer(xp):
    from slotnp.slots import SlotLinear
    layer = SlotLinear(5, 4, K=3, shared=True, rng=0)
    before = backend.to_host(layer.weight()).copy()
    options = layer.options
    try:
        options[0, 0, 0] = 99.0           # NumPy: a read-only view; CuPy: a copy
    except ValueError:
        assert xp is np
    layer.params["coef_options"][...] += 0        # (the same selection is made again)
    assert np.array_equal(backend.to_host(layer.slots.greedy(layer.params)[1]), before)
