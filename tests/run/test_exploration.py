"""run/exploration.py: the statistics of how much a slot net still explores."""
import pytest

from slotnp import fast, nets
from slotnp.run import evaluation, exploration


@pytest.mark.parametrize("form", ["explicit", "factored"])
def test_draws_differ_estimates_one_minus_the_sum_of_squared_probabilities(xp, form):
    """PS's exploration: two draws of one connection differ with chance 1 - sum_k p_k^2."""
    with fast.on(form == "factored"):
        net = nets.build("lenet", K=4, selection="sample", seed=5, score_form=form)
        assert exploration.draws_differ(nets.build("lenet", K=4, seed=5), 0) is None   # GS
        for layer in evaluation.sampled_layers(net):      # every score equal: p = 1/4 each
            for array in layer.params.values():
                array[...] = 0
        assert exploration.draws_differ(net, 11) == pytest.approx(0.75, abs=0.005)
        assert exploration.draws_differ(net, 11) == exploration.draws_differ(net, 11)  # seeded
        if form == "explicit":                          # one option far ahead: p = (1, 0, ...)
            for layer in evaluation.sampled_layers(net):
                layer.params["scores"][..., 2] = 40
            assert exploration.draws_differ(net, 11) == 0
