"""run/evaluation.py: evaluation of learned, greedy and sampled nets (modes, draws, seeds)."""
import numpy as np
import pytest

from slotnp import backend, fast, nets, training
from slotnp.core import Linear, Sequential
from slotnp.core.gradcheck import rel_error
from slotnp.core.optim import SGD
from slotnp.run import evaluation
from slotnp.slots import SlotLinear
from slotnp.slots.slot import pick, sampled_index


def data(rng, n=60):
    x = backend.to_device(rng.standard_normal((n, 1, 28, 28)).astype(np.float32))
    y = backend.to_device(rng.integers(0, 10, n))
    return x, y


def test_sampled_net_evaluation_is_the_mean_over_seeded_draws(xp, rng):
    net = nets.build("lenet", K=4, selection="sample", seed=3)
    splits = {"val": data(rng), "test": data(rng)}
    by_argmax = training.accuracy(net, *splits["test"])
    mean = evaluation.evaluate(net, splits, "sample", draws=3, seed=7)
    again = evaluation.evaluate(net, splits, "sample", draws=3, seed=7)
    assert mean == again                                      # a fixed seed reproduces it
    singles = []
    for draw in range(3):                                     # draw d uses seeds (7, d, layer)
        layers, index = [], 0
        for name, layer in net.named_layers():
            if hasattr(layer, "slots"):
                seed = int(np.random.SeedSequence([7, draw, index]).generate_state(1)[0])
                uniform = backend.uniform(backend.random_generator(seed), layer.weight_shape,
                                          np.float32)
                dense = Linear(layer.in_features, layer.out_features)
                dense.params["W"] = pick(layer.options, sampled_index(layer.scores, uniform))
                layer, index = dense, index + 1
            layers.append((name, layer))
        dense = Sequential(layers)
        singles.append({k: training.accuracy(dense, *v) for k, v in splits.items()})
    for split in splits:
        assert mean[split] == pytest.approx(np.mean([s[split] for s in singles]), abs=1e-12)
    assert len({s["test"] for s in singles}) > 1               # the draws are different nets
    other = evaluation.evaluate(net, splits, "sample", draws=3, seed=8)
    assert other != mean
    assert training.accuracy(net, *splits["test"]) == by_argmax    # the net itself is untouched


def test_sampled_accuracy_is_the_count_over_every_draw(monkeypatch):
    """Draws of 55, 52, 49, 55 and 51 right of 150: 262 / 750 exactly, where the mean of the
    five shares rounds to another float (0.3493333333333334), so two epochs with the same
    count always compare equal (the first of them stays the best)."""
    counts = iter([55, 52, 49, 55, 51])
    monkeypatch.setattr(evaluation, "sampled_layers", lambda net: ["fc1"])
    monkeypatch.setattr(evaluation, "evaluation_net", lambda net, mode, seed, draw: None)
    monkeypatch.setattr(evaluation, "accuracy", lambda net, x, y: next(counts) / len(y))
    y = np.zeros(150, np.int64)
    assert evaluation.evaluate(None, {"val": (None, y)}, "sample", draws=5) == \
        {"val": 262 / 750}
    assert sum(c / 150 for c in (55, 52, 49, 55, 51)) / 5 != 262 / 750


def test_greedy_and_learned_nets_evaluate_one_way(xp, rng):
    splits = {"test": data(rng)}
    for net in (nets.build("lenet", K=4, seed=1), nets.build("lenet", slot=False, seed=1)):
        plain = training.accuracy(net, *splits["test"])
        for mode in ("sample", "expected", "argmax"):
            assert evaluation.evaluate(net, splits, mode, draws=4)["test"] == plain


def test_expected_weight_exact_values(xp):
    scores = backend.to_device(np.log([[[1.0, 3.0]], [[1.0, 1.0]]]))        # (2, 1, 2)
    options = backend.to_device(np.array([[[4.0, -8.0]], [[2.0, 6.0]]]))
    got = backend.to_host(evaluation.expected_weight(scores, options))
    assert np.allclose(got, [[0.25 * 4 - 0.75 * 8], [4.0]], rtol=1e-12)


@pytest.mark.parametrize("form", ["explicit", "factored"])
def test_evaluation_layers_of_a_sampled_layer(xp, rng, form):
    """argmax holds the best score's option; expected the softmax mean; sample one draw from
    softmax(scores), the same again for the same seed; training draws go on undisturbed."""
    with fast.on(form == "factored"):
        layer, twin = (SlotLinear(40, 30, K=8, selection="sample", rng=1, score_form=form,
                                  dtype=np.float64) for _ in range(2))
        for _ in range(3):                                  # scores away from their start
            x, dout = (backend.to_device(rng.standard_normal(s)) for s in ((4, 40), (4, 30)))
            for each in (layer, twin):
                each.forward(x, train=True)
                each.backward(dout)
                SGD(each.params, lr=20.0).step(each.grads)
        scores, options = backend.to_host(layer.scores), backend.to_host(layer.options)
        weight = {mode: backend.to_host(evaluation.evaluation_layer(layer, mode, 5).params["W"])
                  for mode in evaluation.EVALUATIONS}
        best = np.take_along_axis(options, scores.argmax(-1)[..., None], -1)[..., 0]
        assert np.array_equal(weight["argmax"], best)
        p = np.exp(scores - scores.max(-1, keepdims=True))
        assert np.allclose(weight["expected"], (p * options).sum(-1) / p.sum(-1), rtol=1e-12)
        chosen = (weight["sample"][..., None] == options).argmax(-1)   # the draw's options
        assert np.array_equal(np.take_along_axis(options, chosen[..., None], -1)[..., 0],
                              weight["sample"])
        assert (chosen != scores.argmax(-1)).mean() > 0.1          # a draw, not the argmax
        again = backend.to_host(evaluation.evaluation_layer(layer, "sample", 5).params["W"])
        other = backend.to_host(evaluation.evaluation_layer(layer, "sample", 6).params["W"])
        assert np.array_equal(again, weight["sample"]) and (other != again).mean() > 0.3
        x = backend.to_device(rng.standard_normal((3, 40)))
        layer.forward(x, train=True)                 # evaluating in between changes no draw
        twin.forward(x, train=True)
        assert np.array_equal(backend.to_host(layer.slots.last_index),
                              backend.to_host(twin.slots.last_index))
    with pytest.raises(ValueError, match="unknown evaluation"):
        evaluation.evaluate(nets.build("lenet", K=2, selection="sample"), {}, "mean")


@pytest.mark.parametrize("form", ["explicit", "factored"])
@pytest.mark.parametrize("shared", [False, "network"])
def test_evaluation_nets_hold_the_draws_of_every_form(xp, rng, form, shared):
    """A sampled CONV-2's evaluation nets, built here by hand from the plain rule (uniforms of
    the seeds (seed, draw, layer), inverted through softmax(scores), then pick), give the
    same logits in either score form, shared options too; "expected" the softmax means."""
    with fast.on(form == "factored"):
        net = nets.build("conv2", K=4, selection="sample", seed=2, image_size=8,
                         score_form=form, shared=shared, dtype=np.float64)
        x = backend.to_device(rng.standard_normal((3, 3, 8, 8)))
        for mode, draw in (("sample", 0), ("sample", 1), ("expected", 0)):
            layers, i = [], 0
            for name, layer in net.named_layers():
                if hasattr(layer, "slots"):
                    scores, options = layer.scores, layer.slots.options
                    if mode == "expected":           # sum_k softmax(scores)_k options_k
                        s, w = backend.to_host(scores), backend.to_host(options)
                        p = np.exp(s - s.max(axis=-1, keepdims=True))
                        weight = backend.to_device((p * w).sum(axis=-1) / p.sum(axis=-1))
                    else:
                        seed = int(np.random.SeedSequence([9, draw, i]).generate_state(1)[0])
                        uniform = backend.uniform(backend.random_generator(seed),
                                                  layer.weight_shape, np.float64)
                        weight = pick(options, sampled_index(scores, uniform))
                    layer, i = layer.dense_with(weight), i + 1
                layers.append((name, layer))
            expected = Sequential(layers).forward(x, train=False)
            got = evaluation.evaluation_net(net, mode, seed=9, draw=draw).forward(x, train=False)
            assert rel_error(got, expected) < 1e-12, (mode, draw)
