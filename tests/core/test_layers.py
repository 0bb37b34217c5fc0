"""Dense layers: gradient checks (float64) and values against the loop oracles, both backends."""
import numpy as np
import pytest

from shared import CONV_CASES, conv_matches_the_loop_oracle
from slotnp import backend
from slotnp.core import (AvgPool2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU,
                         Sequential)
from slotnp.core.gradcheck import check_layer, rel_error
import naive

F64 = np.float64


def device(a):
    return backend.to_device(np.asarray(a))


def spread(rng, shape):
    """Distinct values at least 0.1 apart and away from 0, so a +-1e-5 nudge flips no max or
    ReLU sign: a random permutation of +-(1, 1.1, 1.2, ...)."""
    size = int(np.prod(shape))
    magnitudes = 1.0 + 0.1 * np.arange(size)
    signs = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    return (rng.permutation(magnitudes) * signs).reshape(shape)


@pytest.mark.parametrize("bias", [False, True])
def test_linear_gradients(xp, rng, bias):
    layer = Linear(7, 5, bias=bias, rng=rng, dtype=F64)
    if bias:
        layer.params["b"][...] = device(rng.standard_normal(5))
    check_layer(layer, device(rng.standard_normal((3, 7))), device(rng.standard_normal((3, 5))))


def test_linear_values(xp, rng):
    layer = Linear(4, 3, bias=True, rng=rng, dtype=F64)
    x = rng.standard_normal((2, 4))
    W, b = backend.to_host(layer.params["W"]), backend.to_host(layer.params["b"])
    expected = [[sum(x[n, i] * W[o, i] for i in range(4)) + b[o] for o in range(3)] for n in range(2)]
    assert rel_error(layer.forward(device(x)), np.array(expected)) < 1e-12


@pytest.mark.parametrize("make, shape", [
    (lambda **kw: Linear(4, 3, **kw), (3, 4)),
    (lambda **kw: Conv2d(2, 3, (3, 2), stride=2, padding=1, **kw), (3, 2, 3, 2)),
])
def test_a_given_weight_is_held_and_copies_keep_the_geometry(xp, rng, make, shape):
    """weight=: held as given, in its own dtype, on the device; dense_with gives a plain layer
    of the same geometry; a weight of another shape is refused in one line."""
    weight = rng.standard_normal(shape)                          # float64
    layer = make(weight=weight, dtype=np.float32)
    assert layer.params["W"].dtype == F64
    assert np.array_equal(backend.to_host(layer.params["W"]), weight)
    assert backend.xp_of(layer.params["W"]) is xp
    other = device(rng.standard_normal(shape))
    copy = layer.dense_with(other)
    assert type(copy) is type(layer) and repr(copy) == repr(layer)
    assert copy.params["W"] is other
    with pytest.raises(ValueError, match=r"needs a weight of shape"):
        make(weight=rng.standard_normal(shape[:-1] + (shape[-1] + 1,)))



@pytest.mark.parametrize("shape, F, kernel, stride, padding", CONV_CASES)
def test_conv_gradients(xp, rng, shape, F, kernel, stride, padding):
    layer = Conv2d(shape[1], F, kernel, stride, padding, bias=True, rng=rng, dtype=F64)
    layer.params["b"][...] = device(rng.standard_normal(F))
    x = device(rng.standard_normal(shape))
    dout = device(rng.standard_normal(layer.forward(x).shape))
    # The loss is linear in x and in W, so centred differences are exact for any step, and a
    # large one keeps rounding noise (1e-9 at h = 1e-5) off the small, nearly cancelled entries.
    check_layer(layer, x, dout, h=0.1)


@pytest.mark.parametrize("shape, F, kernel, stride, padding", CONV_CASES)
def test_conv_values_match_naive_loops(xp, rng, shape, F, kernel, stride, padding):
    conv_matches_the_loop_oracle(rng, shape, F, kernel, stride, padding)


def test_relu_gradient_and_values(xp, rng):
    x = device(spread(rng, (3, 4, 5)))
    check_layer(ReLU(), x, device(rng.standard_normal((3, 4, 5))), tolerance=1e-6)
    for train in (True, False):
        y = ReLU().forward(device([-2.0, 0.0, 3.0]), train)
        assert backend.to_host(y).tolist() == [0.0, 0.0, 3.0]


def test_relu_backward_leaves_dout_untouched(xp):
    layer = ReLU()
    layer.forward(device([-1.0, 2.0]))
    dout = device([5.0, 7.0])
    assert backend.to_host(layer.backward(dout)).tolist() == [0.0, 7.0]
    assert backend.to_host(dout).tolist() == [5.0, 7.0]


POOL_CASES = [((2, 3, 4, 6), 2, None), ((2, 3, 5, 7), 2, None), ((1, 2, 7, 6), 3, 2), ((2, 1, 4, 6), (2, 3), 1)]


@pytest.mark.parametrize("pool", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize("shape, kernel, stride", POOL_CASES)
def test_pool_gradients(xp, rng, pool, shape, kernel, stride):
    layer = pool(kernel, stride)
    x = device(spread(rng, shape))
    dout = device(rng.standard_normal(layer.forward(x).shape))
    check_layer(layer, x, dout, tolerance=1e-6)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("pool, reduce", [(MaxPool2d, np.max), (AvgPool2d, np.mean)])
@pytest.mark.parametrize("shape, kernel, stride", POOL_CASES)
def test_pool_values_match_naive_loops(xp, rng, pool, reduce, shape, kernel, stride, train):
    x = rng.standard_normal(shape)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    expected = naive.pool_forward(x, kh, kw, stride or kh, reduce)
    assert rel_error(pool(kernel, stride).forward(device(x), train), expected) < 1e-12


@pytest.mark.parametrize("shape, kernel, stride", POOL_CASES)
def test_maxpool_backward_matches_the_loop_oracle(xp, rng, shape, kernel, stride):
    """Ties included: values on a coarse grid, so many windows hold their maximum twice."""
    x = np.round(rng.standard_normal(shape) * 2) / 2
    layer = MaxPool2d(kernel, stride)
    dout = rng.standard_normal(layer.forward(device(x)).shape)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    expected = naive.maxpool_backward(x, dout, kh, kw, stride or kh)
    assert rel_error(layer.backward(device(dout)), expected) < 1e-12


@pytest.mark.parametrize("pool", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize("shape, kernel, stride", [c for c in POOL_CASES if c[0][0] > 1])
def test_pool_reads_any_memory_order(xp, rng, pool, shape, kernel, stride):
    """Batch-innermost input (as a fast convolution hands it on) gives the same values as from
    (N, C, H, W) memory. (Keeping that order for the next layer is the fast twin's business:
    tests/fast/test_elementwise.py.)"""
    x = device(spread(rng, shape))
    x_batch_inner = xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    plain, layer = pool(kernel, stride), pool(kernel, stride)
    y_eval = layer.forward(x_batch_inner, train=False)
    y = layer.forward(x_batch_inner)
    dout = device(rng.standard_normal(y.shape))
    dx = layer.backward(dout)
    assert rel_error(y, plain.forward(x)) == 0 and rel_error(y_eval, y) == 0
    assert rel_error(dx, plain.backward(dout)) == 0


@pytest.mark.parametrize("layer", [ReLU(), MaxPool2d(2)], ids=repr)
def test_backward_after_an_evaluation_forward_says_what_to_do(xp, layer):
    """Evaluation keeps no mask or index, so a backward after it must fail clearly, not use a
    stale cache from an earlier training forward."""
    x = device(np.arange(8.0).reshape(1, 2, 2, 2) - 4)
    with pytest.raises(RuntimeError, match="needs a forward with train=True"):
        layer.backward(x)
    layer.forward(x, train=True)
    layer.forward(x, train=False)
    with pytest.raises(RuntimeError, match="needs a forward with train=True"):
        layer.backward(device(np.ones((1, 2, 1, 1))))


def test_flatten_reads_any_memory_order(xp, rng):
    x = device(rng.standard_normal((3, 2, 4, 5)))
    x_batch_inner = xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    layer = Flatten()
    assert rel_error(layer.forward(x_batch_inner), x.reshape(3, -1)) == 0
    dout = device(rng.standard_normal((3, 40)))
    assert rel_error(layer.backward(dout), dout.reshape(3, 2, 4, 5)) == 0


def test_maxpool_sends_gradient_to_first_maximum(xp):
    layer = MaxPool2d(2)
    x = device(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]))
    layer.forward(x)
    dx = layer.backward(device(np.array([[[[5.0]]]])))
    assert backend.to_host(dx).tolist() == [[[[0.0, 5.0], [0.0, 0.0]]]]


def test_dropout_gradient_with_fixed_mask(xp, rng):
    layer = Dropout(0.5)
    x = device(rng.standard_normal((4, 6)))
    mask = device((rng.random((4, 6)) > 0.5) * 2.0)
    check_layer(layer, x, device(rng.standard_normal((4, 6))),
                forward=lambda: layer.forward(x, train=True, mask=mask))


def test_dropout_statistics_and_evaluation(xp):
    layer = Dropout(0.25, seed=3)
    x = backend.to_device(np.ones((200, 500), np.float32))
    y = backend.to_host(layer.forward(x, train=True))
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    assert layer.forward(x, train=False) is x
    layer.reseed(3)
    assert np.array_equal(backend.to_host(layer.forward(x, train=True)), y)


def test_flatten_and_sequential_gradients(xp, rng):
    net = Sequential([("conv", Conv2d(2, 3, 3, 2, 1, rng=rng, dtype=F64)), ("relu", ReLU()),
                      ("flat", Flatten()), ("fc", Linear(3 * 3 * 2, 4, rng=rng, dtype=F64))])
    x = device(rng.standard_normal((2, 2, 5, 4)))
    assert net.forward(x).shape == (2, 4)
    assert sorted(net.params) == ["conv.W", "fc.W"]
    check_layer(net, x, device(rng.standard_normal((2, 4))), tolerance=1e-6)


@pytest.mark.parametrize("first", ["conv", "flatten then linear"])
def test_a_net_without_input_gradient_gives_the_same_weight_gradients(xp, rng, monkeypatch,
                                                                       first):
    """backward(dout, input_grad=False), as training calls it: the same gradients exactly and
    None for dx; no layer before the first with a weight runs backward, and that one skips
    its dx."""
    if first == "conv":
        layers = [Conv2d(2, 3, 3, 2, 1, bias=True, rng=rng, dtype=F64), ReLU(), Flatten(),
                  Linear(18, 4, rng=rng, dtype=F64)]
        shape, first_weighted = (2, 2, 5, 4), 0
    else:
        layers = [Flatten(), Linear(20, 6, bias=True, rng=rng, dtype=F64), ReLU(),
                  Linear(6, 4, rng=rng, dtype=F64)]
        shape, first_weighted = (2, 4, 5), 1
    net = Sequential(layers)
    x = device(rng.standard_normal(shape))
    dout = device(rng.standard_normal((2, 4)))
    net.forward(x)
    assert net.backward(dout).shape == shape
    expected = {name: grad.copy() for name, grad in net.grads.items()}

    calls = []
    for index, layer in enumerate(layers):
        def recorded(dout, index=index, backward=layer.backward, **input_grad):
            dx = backward(dout, **input_grad)
            calls.append((index, input_grad, dx is None))
            return dx
        monkeypatch.setattr(layer, "backward", recorded)
    monkeypatch.setattr("slotnp.core.conv.im2col_input_grad", None)   # calling it would fail
    net.forward(x)
    assert net.backward(dout, input_grad=False) is None
    assert calls == [(index, {}, False) for index in range(3, first_weighted, -1)] + \
        [(first_weighted, {"input_grad": False}, True)]
    assert sorted(net.grads) == sorted(expected)
    for name, grad in net.grads.items():
        assert xp.array_equal(grad, expected[name]), name


@pytest.mark.parametrize("make, shape", [
    (lambda rng: Linear(6, 4, bias=True, rng=rng), (3, 6)),
    (lambda rng: Conv2d(3, 4, 3, 2, 1, bias=True, rng=rng), (2, 3, 7, 5)),
    (lambda rng: ReLU(), (2, 3)),
    (lambda rng: MaxPool2d(2), (2, 3, 5, 4)),
    (lambda rng: AvgPool2d(2), (2, 3, 5, 4)),
    (lambda rng: Dropout(0.3), (4, 5)),
    (lambda rng: Flatten(), (2, 3, 4)),
])
def test_float32_in_float32_out(xp, rng, make, shape):
    layer = make(rng)
    x = backend.to_device(rng.standard_normal(shape).astype(np.float32))
    y = layer.forward(x, train=True)
    assert y.dtype == np.float32
    assert layer.backward(xp.ones_like(y)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())


@pytest.mark.parametrize("layer, x_shape, message", [
    (Linear(4, 3), (2, 5), "expects 4 input"),
    (Linear(4, 3), (2, 4, 1), "2 dimensions"),
    (Conv2d(3, 4, 3), (2, 1, 8, 8), "expects 3 input"),
    (Conv2d(3, 4, 3), (3, 8, 8), "4 dimensions"),
    (Conv2d(3, 4, 5), (1, 3, 4, 4), "smaller than"),
    (MaxPool2d(2), (2, 8), "4 dimensions"),
    (MaxPool2d(3), (1, 1, 2, 2), "smaller than"),
])
def test_wrong_input_shapes_give_clear_errors(layer, x_shape, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros(x_shape, np.float32))


@pytest.mark.parametrize("make, message", [
    (lambda: Linear(0, 3), "in_features"),
    (lambda: Conv2d(3, 4, 3, stride=0), "stride"),
    (lambda: Conv2d(3, 4, 3, padding=-1), "padding"),
    (lambda: Dropout(1.0), "p_drop"),
    (lambda: MaxPool2d((2, 2, 2)), "kernel_size"),
])
def test_bad_layer_arguments_give_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_maxpool_then_relu_equals_relu_then_maxpool(xp, rng):
    """nets.build pools before the ReLU; both orders give the same values and gradients, also
    for windows whose maximum is negative or zero."""
    x = rng.standard_normal((2, 3, 4, 6))
    x[0, 0, :2, :2] = -1.0                      # a window of negatives
    x[0, 1, :2, :2] = [[0.0, -2.0], [0.0, -1.0]]  # a window whose maximum, 0, is tied
    dout = device(rng.standard_normal((2, 3, 2, 3)))
    results = []
    for order in [(ReLU(), MaxPool2d(2)), (MaxPool2d(2), ReLU())]:
        y = order[1].forward(order[0].forward(device(x)))
        dx = order[0].backward(order[1].backward(dout))
        results.append((backend.to_host(y), backend.to_host(dx)))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    assert results[0][1][0, :2, :2, :2].tolist() == [[[0.0, 0.0], [0.0, 0.0]]] * 2


BN_CASES = [(3, 4, 5, 2), (2, 3, 2, 1), (4, 2, 3, 5)]   # M = N*H*W per channel: 30, 4, 60


@pytest.mark.parametrize("shape", BN_CASES)
def test_batchnorm_gradients_and_the_loop_oracle(xp, rng, shape):
    from slotnp.core import BatchNorm2d
    x = rng.standard_normal(shape) * 3 + 1
    dout = rng.standard_normal(shape)
    layer = BatchNorm2d(shape[1], dtype=F64)
    check_layer(layer, device(x), device(dout), tolerance=1e-6)
    y_expected, dx_expected = naive.batchnorm(x, dout)
    assert rel_error(layer.forward(device(x)), y_expected) < 1e-10
    assert rel_error(layer.backward(device(dout)), dx_expected) < 1e-10


def test_batchnorm_of_two_values_a_channel_gives_plus_minus_one_and_almost_no_gradient(xp, rng):
    """M = 2: each channel's two values normalise to -1 and +1 (short of them by eps), whatever
    they were, so the output hardly depends on x: dL/dx is of order eps."""
    from slotnp.core import BatchNorm2d
    x = rng.standard_normal((2, 3, 1, 1)) * 3 + 1
    layer = BatchNorm2d(3, dtype=F64)
    y = backend.to_host(layer.forward(device(x)))
    assert np.allclose(np.abs(y), 1, atol=1e-5) and np.allclose(y.sum(axis=0), 0)
    dx = backend.to_host(layer.backward(device(rng.standard_normal(x.shape))))
    assert np.abs(dx).max() < 1e-4


def test_batchnorm_keeps_running_averages_for_evaluation(xp, rng):
    """Training forwards move the running averages (the variance unbiased, as PyTorch's);
    evaluation normalises with them, not with the batch; checkpoints keep them (buffers)."""
    from slotnp.core import BatchNorm2d
    layer = BatchNorm2d(3, momentum=0.5, dtype=F64)
    x = rng.standard_normal((4, 3, 2, 2)) * 2 + 5
    layer.forward(device(x))
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    assert np.allclose(backend.to_host(layer.buffers["running_mean"]), 0.5 * mean)
    assert np.allclose(backend.to_host(layer.buffers["running_var"]), 0.5 + 0.5 * var)
    y = backend.to_host(layer.forward(device(x), train=False))
    expected = (x - 0.5 * mean.reshape(1, 3, 1, 1)) / np.sqrt(
        0.5 + 0.5 * var.reshape(1, 3, 1, 1) + 1e-5)
    assert np.allclose(y, expected)
    assert set(Sequential([("norm1", layer)]).buffers) == {"norm1.running_mean",
                                                           "norm1.running_var"}
    with pytest.raises(RuntimeError, match="backward needs a forward with train=True"):
        layer.backward(device(x))
