"""run/evaluation.py: evaluation of learned, greedy and sampled nets (modes, draws, seeds)."""
import numpy as np
import pytest

from slotnp import backend, nets, training
from slotnp.run import evaluation


def data(rng, n=60):
    x = backend.to_device(rng.standard_normal((n, 1, 28, 28)).astype(np.float32))
    y = backend.to_device(rng.integers(0, 10, n))
    return x, y


def test_sampled_net_evaluation_is_the_mean_over_seeded_draws(xp, rng):
    net = nets.build("lenet", K=4, selection="sample", seed=3)
    splits = {"val": data(rng), "test": data(rng)}
    mean = evaluation.evaluate(net, splits, "sample", draws=3, seed=7)
    again = evaluation.evaluate(net, splits, "sample", draws=3, seed=7)
    assert mean == again                                      # a fixed seed reproduces it
    singles = []
    for draw in range(3):                                     # draw d uses seeds (7, d, layer)
        for index, layer in enumerate(evaluation.sampled_layers(net)):
            seed = np.random.SeedSequence([7, draw, index]).generate_state(1)[0]
            layer.slots.set_evaluation("sample", int(seed))
        singles.append({k: training.accuracy(net, *v) for k, v in splits.items()})
    for split in splits:
        assert mean[split] == pytest.approx(np.mean([s[split] for s in singles]), abs=1e-12)
    assert len({s["test"] for s in singles}) > 1               # the draws are different nets
    other = evaluation.evaluate(net, splits, "sample", draws=3, seed=8)
    assert other != mean
    # afterwards the net evaluates by argmax again
    assert all(layer.slots.evaluation == "argmax" for layer in evaluation.sampled_layers(net))


def test_greedy_and_learned_nets_evaluate_one_way(xp, rng):
    splits = {"test": data(rng)}
    for net in (nets.build("lenet", K=4, seed=1), nets.build("lenet", slot=False, seed=1)):
        plain = training.accuracy(net, *splits["test"])
        for mode in ("sample", "expected", "argmax"):
            assert evaluation.evaluate(net, splits, mode, draws=4)["test"] == plain
