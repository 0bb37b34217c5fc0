"""The backend switch: names, errors, host/device round trips, no cupy import in layer code."""
import pathlib
import sys

import numpy as np
import pytest

from slotnp import backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(backend.BackendError, match="choose 'numpy' or 'cupy'"):
        backend.use("torch")


def test_cupy_without_gpu_names_the_missing_piece(monkeypatch):
    if backend.cupy_available():
        pytest.skip("a GPU is present")
    with pytest.raises(backend.BackendError, match="CuPy|GPU"):
        backend.use("cupy")
    assert backend.name() == "numpy"


def test_round_trip_and_array_module(xp):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    on_device = backend.to_device(a)
    assert backend.xp_of(on_device) is xp
    assert np.array_equal(backend.to_host(on_device), a)
    backend.sync()


def test_random_generator_is_seeded(xp):
    first = backend.uniform(backend.random_generator(3), (5,), np.float32)
    again = backend.uniform(backend.random_generator(3), (5,), np.float32)
    assert first.dtype == np.float32 and np.array_equal(backend.to_host(first), backend.to_host(again))


def test_only_backend_imports_cupy():
    importers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "slotnp").rglob("*.py")
                 if "import cupy" in p.read_text()]
    assert importers == ["slotnp/backend.py"]


@pytest.mark.parametrize("length, per_item, cores, expected_parts", [
    (10, 1, 4, 1),                        # too little work to split
    (1000, 1 << 16, 4, 4),                # one part per core
    (3, 1 << 20, 8, 3),                   # never more parts than items
])
def test_in_parts_covers_every_item_once(monkeypatch, length, per_item, cores,
                                         expected_parts):
    monkeypatch.setattr(backend, "CPU_CORES", cores)
    monkeypatch.setattr(backend, "_threads", None)
    seen, parts = np.zeros(length, dtype=int), []

    def work(start, stop):
        parts.append((start, stop))
        seen[start:stop] += 1

    backend.in_parts(np, work, length, per_item)
    assert len(parts) == expected_parts
    assert seen.tolist() == [1] * length


def test_in_parts_passes_on_a_part_error(monkeypatch):
    monkeypatch.setattr(backend, "CPU_CORES", 2)

    def work(start, stop):
        if start > 0:
            raise ValueError("bad part")

    with pytest.raises(ValueError, match="bad part"):
        backend.in_parts(np, work, 4, 1 << 16)


@pytest.fixture
def counting():
    """The counting backend (slotnp/counting.py), which takes CuPy's paths on NumPy."""
    from slotnp import counting as module
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
    from slotnp.losses import softmax_cross_entropy
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


sys.path.insert(0, str(ROOT / "bench"))
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


def test_cupy_that_cannot_run_kernels_is_one_clear_error(monkeypatch):
    """A driver but no CUDA libraries: getDeviceCount works, the first kernel does not."""
    import types
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))

    def no_nvrtc(*args, **kwargs):
        raise RuntimeError("libnvrtc.so.12: cannot open shared object file")
    fake.arange, fake.float32 = no_nvrtc, np.float32
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(backend.BackendError, match="NVRTC, cuBLAS, cuRAND.*--backend numpy"):
        backend.use("cupy")
    assert backend.name() == "numpy"


def test_shared_options_cannot_be_changed_through_the_layer(xp):
    from slotnp.layers import SlotLinear
    layer = SlotLinear(5, 4, K=3, shared=True, rng=0)
    before = backend.to_host(layer.weight()).copy()
    options = layer.options
    try:
        options[0, 0, 0] = 99.0           # NumPy: a read-only view; CuPy: a copy
    except ValueError:
        assert xp is np
    layer.params["coef_options"][...] += 0        # (the same selection is made again)
    assert np.array_equal(backend.to_host(layer.slots.greedy(layer.params)[1]), before)
