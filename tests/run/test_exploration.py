"""run/exploration.py: the statistics of how much a slot net still explores."""
import pytest

from slotnp import fast, nets
from slotnp.run import evaluation, exploration


@pytest.mark.parametrize("form", ["explicit", "factored"])
def test_draws_differ_estimates_one_minus_the_sum_of_squared_probabilities(xp, form):
    """PS's exploration: two draws of one connection differ with chance 1 - sum_k p_k^2."""
    with fast.on(form == "factored"):
        net = nets.build("lenet", K=4, selection="sample", seed=5, score_form=form)
        assert exploration.draws_differ(nets.build("lenet", K=4, seed=5), 0) == {}   # GS
        for layer in evaluation.sampled_layers(net):      # every score equal: p = 1/4 each
            for array in layer.params.values():
                array[...] = 0
        differ = exploration.draws_differ(net, 11)
        assert differ["draws_differ"] == pytest.approx(0.75, abs=0.005)
        by_layer = differ["draws_differ_by_layer"]
        assert sorted(by_layer) == ["fc1", "fc2", "fc3"]
        assert by_layer["fc1"] == pytest.approx(0.75, abs=0.005)   # (235,200 connections)
        assert by_layer["fc3"] == pytest.approx(0.75, abs=0.05)    # (1,000)
        assert exploration.draws_differ(net, 11) == differ                           # seeded
        if form == "explicit":        # fc1: one option far ahead, p = (1, 0, ...); the rest flat
            dict(net.named_layers())["fc1"].params["scores"][..., 2] = 40
            differ = exploration.draws_differ(net, 11)
            assert differ["draws_differ_by_layer"]["fc1"] == 0
            assert differ["draws_differ_by_layer"]["fc2"] == by_layer["fc2"]
            sizes = {"fc1": 235_200, "fc2": 30_000, "fc3": 1_000}
            assert differ["draws_differ"] == pytest.approx(sum(
                differ["draws_differ_by_layer"][n] * sizes[n] for n in sizes) / sum(sizes.values()))
