"""The paper's networks: shapes, initial loss, overfitting a small batch, seeds, errors."""
import contextlib
import math

import numpy as np
import pytest

from slotnp import backend, nets
from slotnp.core.losses import softmax_cross_entropy
from slotnp.core.optim import SGD


def random_batch(name, n, rng, image_size=None):
    shape = nets.INPUT_SHAPES[name] if image_size is None else (3, image_size, image_size)
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    return backend.to_device(x), backend.to_device(rng.integers(0, 10, n))


@pytest.mark.parametrize("name", nets.NETS)
@pytest.mark.parametrize("slot", [True, False])
def test_logits_shape_dtype_and_initial_loss(xp, rng, name, slot):
    net = nets.build(name, slot=slot, K=2)
    x, labels = random_batch(name, 8 if name == "vgg19" else 32, rng)
    logits = net.forward(x, train=False)
    assert logits.shape == (len(labels), 10) and logits.dtype == np.float32
    loss, dlogits = softmax_cross_entropy(logits, labels)
    assert abs(float(loss) - math.log(10)) < 0.6
    net.forward(x, train=True)                       # evaluation keeps nothing for backward
    dx = net.backward(dlogits)
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert set(net.grads) == set(net.params)
    assert all(g.dtype == np.float32 for g in net.grads.values())


@pytest.mark.parametrize("name, slot, lr", [
    ("lenet", True, 0.2), ("lenet", False, 0.05), ("conv2", True, 0.2), ("conv2", False, 0.05)])
def test_overfits_64_examples(xp, twins_on, name, slot, lr):
    """The full-size nets (CONV-2 on 3x32x32) fit 64 random examples with random labels (with
    the fast twins, for time: test_plain.py shows the plain engine computes the same)."""
    rng = np.random.default_rng(0)
    net = nets.build(name, slot=slot, K=8)
    x, labels = random_batch(name, 64, rng)
    sgd = SGD(net.params, lr=lr)
    for step in range(300):
        loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), labels)
        net.backward(dlogits)
        sgd.step(net.grads)
        if step % 5 == 4 and float((net.forward(x, train=False).argmax(1) == labels).mean()) == 1:
            break
    assert float((net.forward(x, train=False).argmax(1) == labels).mean()) == 1.0


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("device", ["active", "counting"])
def test_same_seed_same_network_on_every_backend(xp, device, shared):
    """Built on the backend under test (on NumPy: a second build, so determinism) and on the
    counting stand-in for CuPy (run/counting.py, whose arrays are not NumPy's, so a CPU-only
    machine checks it too), a seed gives NumPy's network."""
    if device == "counting" and xp is not np:
        pytest.skip("the counting stand-in is checked beside NumPy; here CuPy is the device")
    if device == "counting":
        from slotnp.run import counting  # noqa: F401  (registers the backend)
        backend.use("counting")
    reference = nets.build("conv2", K=3, seed=5, image_size=8, shared=shared)
    assert device == "active" or backend.xp_of(reference.layers[0].slots.options) is not np
    backend.use("numpy")
    host = nets.build("conv2", K=3, seed=5, image_size=8, shared=shared)
    for name, layer in nets.slot_layers(reference):
        twin = dict(nets.slot_layers(host))[name]
        assert np.array_equal(backend.to_host(layer.options), twin.options)
        assert np.array_equal(backend.to_host(layer.scores), twin.scores)
    other = dict(nets.slot_layers(nets.build("conv2", K=3, seed=6, image_size=8)))
    assert not np.array_equal(other["conv1"].scores, dict(nets.slot_layers(host))["conv1"].scores)


def test_paper_layer_sizes():
    conv6 = nets.build("conv6", slot=False)
    shapes = {k: v.shape for k, v in conv6.params.items()}
    assert shapes["conv1.W"] == (64, 3, 3, 3) and shapes["conv6.W"] == (256, 256, 3, 3)
    assert shapes["fc1.W"] == (256, 256 * 4 * 4) and shapes["fc3.W"] == (10, 256)
    lenet = nets.build("lenet", K=2)
    assert [layer.scores.shape for _, layer in nets.slot_layers(lenet)] == \
        [(300, 784, 2), (100, 300, 2), (10, 100, 2)]
    vgg = nets.build("vgg19", slot=False)
    assert sum(k.startswith("conv") for k in vgg.params) == 16 and vgg.params["fc1.W"].shape == (10, 512)
    dropouts = [n for n, layer in conv6.named_layers() if type(layer).__name__ == "Dropout"]
    assert dropouts == ["dropout1", "dropout2"]


def test_freeze_net_matches_slot_machine_in_evaluation(rng):
    net = nets.build("conv2", K=4, image_size=8)
    x, _ = random_batch("conv2", 4, rng, 8)
    frozen = nets.freeze(net)
    assert set(frozen.params) == {name + ".W" for name, _ in nets.slot_layers(net)}
    assert np.array_equal(frozen.forward(x, train=False), net.forward(x, train=False))


@pytest.mark.parametrize("method", [dict(), dict(slot=False), dict(slot=False, edge_popup=0.5)])
def test_biases_add_one_per_output_to_every_weighted_layer_and_change_no_draw(rng, method):
    """bias=True (--bias learned): conv2's five weighted layers each gain a zero bias of their
    outputs, and the options, scores and weights drawn are the ones of the net without."""
    plain = nets.build("conv2", K=4, image_size=8, **method)
    biased = nets.build("conv2", K=4, image_size=8, bias=True, **method)
    biases = {name: p.shape for name, p in biased.params.items() if name.endswith(".b")}
    assert biases == {"conv1.b": (64,), "conv2.b": (64,), "fc1.b": (256,), "fc2.b": (256,),
                      "fc3.b": (10,)}
    assert all(np.array_equal(biased.params[n], p) for n, p in plain.params.items())
    x, _ = random_batch("conv2", 4, rng, 8)
    assert np.array_equal(biased.forward(x, train=False), plain.forward(x, train=False))
    assert biased.config["bias"] is True and "bias=True" in repr(biased)
    if method.get("edge_popup") is None:
        frozen = nets.freeze(biased) if method.get("slot", True) else biased
        assert set(biases) <= set(frozen.params)


def test_biases_through_the_fast_twins_as_through_the_plain_net(rng):
    """conv2 with biases, plain (explicit scores, im2col) and with the fast twins on (factored
    scores, their convolutions): the same logits and bias gradients, up to float32 rounding."""
    from slotnp import fast
    x, y = random_batch("conv2", 8, rng, 16)
    results = []
    for switched in (False, True):
        with fast.on() if switched else contextlib.nullcontext():
            net = nets.build("conv2", K=4, image_size=16, bias=True, dropout=0.0)
            for name, b in net.params.items():
                if name.endswith(".b"):
                    b[...] = np.random.default_rng(len(name)).standard_normal(b.shape)
            logits = net.forward(x, train=True)
            _, dlogits = softmax_cross_entropy(logits, y)
            net.backward(dlogits)
            results.append((logits, {n: g for n, g in net.grads.items() if n.endswith(".b")}))
    (plain, plain_grads), (quick, quick_grads) = results
    assert np.allclose(quick, plain, rtol=1e-4, atol=1e-4)
    assert set(plain_grads) == set(quick_grads) and len(plain_grads) == 5
    for name in plain_grads:
        assert np.allclose(quick_grads[name], plain_grads[name], rtol=1e-3, atol=1e-6), name


@pytest.mark.parametrize("kwargs, message", [
    (dict(name="resnet"), "unknown net"), (dict(name="lenet", K=0), "K"),
    (dict(name="conv2", selection="softmax"), "unknown selection"),
    (dict(name="conv6", image_size=4), "at least 8 pixels"),
    # the authors' unpadded convolutions: 20 -> 18 -> 16 -> 8 -> 6 -> 4 -> 2 -> 2 -> 2 -> 1
    (dict(name="conv6", image_size=19, padding="authors"), "at least 20 pixels a side, got 19"),
    (dict(name="lenet", option_bound=0.0), "option_bound must be positive")])
def test_bad_build_arguments_give_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nets.build(**kwargs)


def test_wrong_input_to_a_net_gives_clear_error():
    net = nets.build("conv2", image_size=8)
    with pytest.raises(ValueError, match="expects 3 input channels"):
        net.forward(np.zeros((2, 1, 8, 8), np.float32))


@pytest.mark.parametrize("name", ["lenet", "conv2"])
def test_options_shared_network_wide_are_one_set_of_K_values_at_each_layers_scale(xp, name):
    """--shared network: every connection of every layer draws from the same K numbers, each
    layer scaled by its own sigma; --shared (layer) gives each layer its own K values."""
    from slotnp.core import init
    net = nets.build(name, K=5, shared="network", image_size=8, option_bound=1.5)
    layers = nets.slot_layers(net)
    units = [backend.to_host(layer.options) / init.glorot_sigma(layer.weight_shape)
             for _, layer in layers]
    values = units[0].reshape(-1, 5)[0]
    assert np.all(np.abs(values) <= 1.5) and len(set(values.round(6))) == 5
    for unit in units:                                  # the same five numbers everywhere
        assert np.allclose(unit, np.broadcast_to(values, unit.shape), rtol=1e-6)
    assert net.config["shared"] == "network"
    per_layer = [backend.to_host(layer.options).reshape(-1, 5)[0] / init.glorot_sigma(
        layer.weight_shape) for _, layer in nets.slot_layers(nets.build(name, K=5, shared=True,
                                                                        image_size=8))]
    assert not np.allclose(per_layer[0], per_layer[1])  # each layer its own set
    with pytest.raises(ValueError, match="'layer' or 'network'"):
        nets.build(name, K=5, shared="everything", image_size=8)


def test_vgg19_is_the_authors_net_and_the_conv_nets_unpad_as_theirs():
    """VGG-19: 16 convolutions, each followed by batch normalisation without scale or shift,
    5 pools, a global average pool and one FC layer. --padding authors: the released code's
    unpadded CONV-2/4 and CONV-6's first four convolutions (FC inputs 12,544 / 3,200 / 1,024)."""
    from slotnp.core import BatchNorm2d, Conv2d
    net = nets.build("vgg19", K=2)
    kinds = [type(layer).__name__ for _, layer in net.named_layers()]
    assert kinds.count("SlotConv2d") == 16 and kinds.count("BatchNorm2d") == 16
    assert kinds.count("MaxPool2d") == 5 and kinds[-3:] == ["AvgPool2d", "Flatten", "SlotLinear"]
    layers = net.named_layers()
    assert all(isinstance(layers[i + 1][1], BatchNorm2d) for i, (_, l) in enumerate(layers)
               if isinstance(l, Conv2d))
    assert "affine=False" in repr(net)
    widths = {name: nets.plan(name, padding="authors")[-3][2][1] for name in
              ("conv2", "conv4", "conv6")}
    assert widths == {"conv2": 12544, "conv4": 3200, "conv6": 1024}
    paddings = [layer.padding for _, layer in nets.build("conv6", slot=False,
                                                         padding="authors").named_layers()
                if isinstance(layer, Conv2d)]
    assert paddings == [0, 0, 0, 0, 1, 1]
    assert nets.build("conv2", slot=False).named_layers()[0][1].padding == 1


def test_dropout_after_the_fc_layers_or_on_their_inputs_as_the_authors():
    """The first two hidden FC layers' dropout: after their ReLU (the paper's text) or on their
    inputs, the flattened features and fc1's output (the authors' code); nowhere else."""
    after = nets.build("conv2", slot=False).names[-8:]
    assert after == ["flatten", "fc1", "fc_relu1", "dropout1", "fc2", "fc_relu2", "dropout2",
                     "fc3"]
    before = nets.build("conv2", slot=False, dropout_at="before")
    assert before.names[-8:] == ["flatten", "dropout1", "fc1", "fc_relu1", "dropout2", "fc2",
                                 "fc_relu2", "fc3"]
    assert before.config["dropout_at"] == "before"
    assert "Dropout" not in repr(nets.build("vgg19", K=2, dropout_at="before", image_size=32))
    assert "Dropout" not in repr(nets.build("lenet", dropout_at="before"))     # Lenet's is 0
    with pytest.raises(ValueError, match="unknown dropout_at 'inside'; choose one of after"):
        nets.build("conv2", dropout_at="inside")
