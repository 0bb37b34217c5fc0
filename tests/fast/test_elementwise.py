"""The elementwise twins (slotnp/fast/elementwise.py) compute what their plain pieces compute:
the same values exactly (ReLU, max pooling, the SGD update; the dense layer's products, split by
output features and images, to the order in which BLAS adds each sum); on several cores as on
one."""
import numpy as np
import pytest

from slotnp.core import Flatten, Linear, MaxPool2d, ReLU, twins
from slotnp.core.optim import SGD
from slotnp.fast import elementwise, threads
from shared import batch_innermost


def plainly(call, *args):
    with twins.switched_on(False):
        return call(*args)


@pytest.fixture(params=[1, 2], ids=["1 core", "2 cores"])
def cores(request, monkeypatch):
    monkeypatch.setattr(threads, "CPU_CORES", request.param)
    monkeypatch.setattr(threads, "MIN_PART_VALUES", 8)       # parts even of tiny arrays
    return request.param


@pytest.mark.parametrize("layout", ["batch", "batch_inner"])
def test_relu_and_maxpool_give_the_plain_values_exactly(rng, cores, layout):
    x = rng.standard_normal((6, 5, 8, 4)).astype(np.float32)
    x = np.round(x * 4) / 4                                 # ties in the pooling windows
    if layout == "batch_inner":
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    for layer, shape in ((ReLU(), x.shape), (MaxPool2d(2), (6, 5, 4, 2))):
        twin = layer.forward(x)
        plain = plainly(layer.forward, x)
        assert np.array_equal(twin, plain)
        grad = dout[:, :, :shape[2], :shape[3]].copy() if shape != x.shape else dout
        expected = plainly(layer.backward, grad)
        layer.forward(x)
        dx = layer.backward(grad)
        assert np.array_equal(dx, expected)
        # the twin keeps x's memory order (pooling's dx too), which the convolutions around
        # it read fastest
        assert batch_innermost(twin) == (layout == "batch_inner")
        if isinstance(layer, MaxPool2d):
            assert batch_innermost(dx) == (layout == "batch_inner")
        assert np.array_equal(layer.forward(x, train=False), plainly(layer.forward, x, False))


@pytest.mark.parametrize("window, size", [(2, (8, 6)), (3, (9, 6))])
@pytest.mark.parametrize("compiled", ["compiled", "python"])
def test_compiled_max_pooling_gives_the_plain_values_exactly(rng, cores, monkeypatch, window,
                                                             size, compiled):
    """On batch-innermost memory, the compiled max pooling (pooling_compiled.py) gives the plain
    layer's outputs, taps and gradients exactly, ties to the first tap, float32 and float64;
    and so does its Python source run uncompiled."""
    from slotnp.fast import pooling_compiled
    if compiled == "compiled" and elementwise._compiled_pooling is None:
        pytest.skip("numba is not installed: the NumPy twin pools")
    if compiled == "python":
        kernels = [getattr(pooling_compiled, name) for name in ("pool_forward", "pool_backward")]
        monkeypatch.setattr(elementwise, "_compiled_pooling", type("Python", (), {
            kernel.__name__: staticmethod(getattr(kernel, "py_func", kernel))
            for kernel in kernels}))
    for dtype in (np.float32, np.float64):
        x = np.round(rng.standard_normal((3, 4) + size) * 2) / 2      # ties in the windows
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2).astype(dtype)
        layer = MaxPool2d(window)
        y = elementwise.compiled_maxpool_forward(layer, x, True)
        assert y is not None and batch_innermost(y)
        plain = MaxPool2d(window)
        assert np.array_equal(y, plainly(plain.forward, x))
        assert np.array_equal(layer.argmax, plain.argmax)
        dout = rng.standard_normal(y.shape).astype(dtype)
        dout = np.ascontiguousarray(dout.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
        dx = elementwise.compiled_maxpool_backward(layer, dout)
        assert dx is not None and np.array_equal(dx, plainly(plain.backward, dout))
        assert np.array_equal(elementwise.compiled_maxpool_forward(layer, x, False), y)
        # Not batch-innermost: declined, the NumPy twin pools.
        assert elementwise.compiled_maxpool_forward(layer, np.ascontiguousarray(x), True) is None
        # A NaN is its window's maximum, at its own tap (np.max, np.argmax), wherever it lies.
        x[1, 2, 0, window - 1] = np.nan
        y = elementwise.compiled_maxpool_forward(layer, x, True)
        assert np.isnan(y[1, 2, 0, 0]) and np.array_equal(y, plainly(plain.forward, x),
                                                          equal_nan=True)
        assert np.array_equal(layer.argmax, plain.argmax)
        # A NaN at tap 0 keeps it against larger values after it; of two NaNs the first wins.
        x[2, 1, 0, 0], x[2, 1, 0, 1], x[2, 1, window - 1, window - 1] = np.nan, 100, 200
        x[0, 3, 0, 1], x[0, 3, window - 1, window - 1] = np.nan, np.nan
        y = elementwise.compiled_maxpool_forward(layer, x, True)
        assert np.array_equal(y, plainly(plain.forward, x), equal_nan=True)
        assert layer.argmax[2, 1, 0, 0] == 0 and layer.argmax[0, 3, 0, 0] == 1
        assert np.array_equal(layer.argmax, plain.argmax)


def test_max_pooling_takes_the_compiled_kernels_where_registered(rng, monkeypatch):
    """MaxPool2d, twins on, batch-innermost input: the compiled forward and backward run."""
    if elementwise._compiled_pooling is None:
        pytest.skip("numba is not installed: the NumPy twin pools")
    calls = []
    for name in ("compiled_maxpool_forward", "compiled_maxpool_backward"):
        monkeypatch.setattr(elementwise, name, lambda *args, kernel=getattr(elementwise, name):
                            calls.append(kernel.__name__) or kernel(*args))
    x = rng.standard_normal((4, 3, 6, 6)).astype(np.float32)
    x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    layer = MaxPool2d(2)
    y = layer.forward(x)
    dout = np.ascontiguousarray(np.ones_like(y).transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    layer.backward(dout)
    assert calls == ["compiled_maxpool_forward", "compiled_maxpool_backward"]


def test_flatten_hands_back_its_gradient_in_the_memory_order_of_its_input(rng, cores):
    x = rng.standard_normal((3, 2, 4, 5)).astype(np.float32)
    x_batch_inner = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    layer = Flatten()
    layer.forward(x_batch_inner)
    dout = rng.standard_normal((3, 40)).astype(np.float32)
    dx = layer.backward(dout)
    assert batch_innermost(dx) and np.array_equal(dx, plainly(layer.backward, dout))
    assert not batch_innermost(plainly(layer.backward, dout))     # the plain one: a reshape
    layer.forward(x)                                  # C order already: the reshape, no copy
    assert np.shares_memory(layer.backward(dout), dout)


@pytest.mark.parametrize("lr_scale", [None, {"b": 0.05}])    # b: a bias at its own rate
def test_the_sgd_update_is_the_plain_one_exactly(rng, cores, monkeypatch, lr_scale):
    monkeypatch.setattr(elementwise, "SGD_CHUNK", 64)       # many chunks, one part-sized
    shapes = {"a": (300, 7), "b": (5,)}
    params = [{k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
              for _ in range(2)]
    params[1] = {k: v.copy() for k, v in params[0].items()}
    optimizers = [SGD(p, lr=0.3, momentum=0.9, weight_decay=1e-3, lr_scale=lr_scale)
                  for p in params]
    for _ in range(3):
        grads = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
        optimizers[0].step(grads)
        plainly(optimizers[1].step, grads)
    assert all(np.array_equal(params[0][k], params[1][k]) for k in shapes)


@pytest.mark.parametrize("order", ["C", "F"])   # F: as Flatten hands on batch-innermost memory
@pytest.mark.parametrize("batch", [1, 9])
def test_a_large_dense_layer_goes_by_halves_of_its_outputs(rng, cores, monkeypatch, order,
                                                           batch):
    monkeypatch.setattr(elementwise, "LARGE_PRODUCT", 10)
    layer = Linear(30, 20, rng=rng, dtype=np.float64)
    x = np.asarray(rng.standard_normal((batch, 30)), order=order)
    dout = rng.standard_normal((batch, 20))
    assert elementwise.linear_forward(layer, x, layer.params["W"]) is not None
    y, dx = layer.forward(x), layer.backward(dout)
    dw = layer.grads["W"].copy()
    close = lambda got, want: np.abs(got - want).max() <= 1e-14 * np.abs(want).max()  # noqa
    assert close(y, plainly(layer.forward, x))
    assert close(dx, plainly(layer.backward, dout))
    assert close(dw, layer.grads["W"])
    # Without dx (the first layer of a net in training): the same dW exactly.
    layer.forward(x)
    assert layer.backward(dout, input_grad=False) is None
    assert np.array_equal(layer.grads["W"], dw)


@pytest.fixture(autouse=True)
def numpy_only(xp):
    if xp is not np:
        pytest.skip("the elementwise twins decline on a GPU (one part there)")
    yield
