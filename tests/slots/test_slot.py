"""Slot layers, plain (explicit scores): initialisation, selection, the straight-through score
gradient, variants. Their fast twin's tests: tests/fast/test_slot_factored.py."""
import math

import numpy as np
import pytest

from shared import SLOT_CONV_CASES, device, slot_conv_straight_through, \
    slot_linear_straight_through
from slotnp import backend
from slotnp.core import Conv2d, Linear
from slotnp.core.gradcheck import rel_error
from slotnp.slots.straight_through import straight_through_errors
from slotnp.slots import SlotConv2d, SlotLinear
from slotnp.slots import slot as slot_module
from slotnp.slots.slot import sampled_index

F64 = np.float64



@pytest.mark.parametrize("selection", ["greedy", "sample"])
@pytest.mark.parametrize("shared", [False, True])
def test_slot_linear_straight_through_gradient(xp, rng, selection, shared):
    slot_linear_straight_through(rng, selection, shared, "explicit")


@pytest.mark.parametrize("selection", ["greedy", "sample"])
@pytest.mark.parametrize("case", SLOT_CONV_CASES)
def test_slot_conv_straight_through_gradient(xp, rng, selection, case):
    slot_conv_straight_through(rng, selection, case, "explicit")


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_learned_biases_beside_the_scores_in_float64(xp, rng, selection):
    """--bias learned: the bias's gradient (checked numerically through the dense twin) beside
    the straight-through score gradient."""
    slot_linear_straight_through(rng, selection, False, "explicit", bias=True)
    slot_conv_straight_through(rng, selection, SLOT_CONV_CASES[0], "explicit", bias=True)


def test_a_learned_bias_adds_to_each_output_exactly(xp):
    layer = SlotLinear(2, 2, K=2, dtype=F64, score_form="explicit", bias=True)
    assert backend.to_host(layer.params["b"]).tolist() == [0.0, 0.0]        # starts at 0
    layer.slots.options = device([[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.5], [0.0, 2.0]]])
    layer.params["scores"] = device([[[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    layer.params["b"] = device([0.25, -2.0])                  # w = [[2, 3], [-1, 2]]
    y = layer.forward(device([[1.0, 1.0], [2.0, 0.0]]))
    assert backend.to_host(y).tolist() == [[5.25, -1.0], [4.25, -4.0]]
    layer.backward(device([[1.0, 2.0], [3.0, -1.0]]))
    assert backend.to_host(layer.grads["b"]).tolist() == [4.0, 1.0]        # summed over N
    assert "bias=True" in repr(layer)
    frozen = layer.freeze()
    assert backend.to_host(frozen.params["b"]).tolist() == [0.25, -2.0]
    frozen.params["b"] += 1.0                                # a copy
    assert backend.to_host(layer.params["b"]).tolist() == [0.25, -2.0]


def test_greedy_selection_exact_values(xp):
    layer = SlotLinear(2, 1, K=3, dtype=F64, score_form="explicit")
    layer.slots.options = device([[[0.5, -1.0, 2.0], [3.0, 4.0, -5.0]]])
    layer.params["scores"] = device([[[0.1, 0.3, 0.2], [0.9, 0.0, 0.9]]])
    assert backend.to_host(layer.selected()).tolist() == [[1, 0]]   # ties: first maximum
    assert backend.to_host(layer.weight()).tolist() == [[-1.0, 3.0]]
    y = layer.forward(device([[2.0, 1.0]]))
    assert backend.to_host(y).tolist() == [[-2.0 + 3.0]]
    layer.backward(device([[10.0]]))                                # dL/dw = 10 * x = [20, 10]
    expected = [[[20 * 0.5, 20 * -1.0, 20 * 2.0], [10 * 3.0, 10 * 4.0, 10 * -5.0]]]
    assert backend.to_host(layer.grads["scores"]).tolist() == expected


def test_initial_options_and_scores_follow_the_paper(xp):
    conv = SlotConv2d(16, 32, 3, K=5, rng=0)
    sigma = math.sqrt(2.0 / (9 * 16 + 9 * 32))
    options, scores = backend.to_host(conv.options), backend.to_host(conv.scores)
    assert options.shape == scores.shape == (32, 16, 3, 3, 5)
    assert options.dtype == scores.dtype == np.float32
    assert -sigma <= options.min() < -0.99 * sigma and 0.99 * sigma < options.max() <= sigma
    assert 0.0 <= scores.min() < 0.01 * sigma and 0.99 * sigma < scores.max() <= sigma
    fc = SlotLinear(300, 100, K=5, rng=0)
    sigma = math.sqrt(2.0 / 400)
    scores = backend.to_host(fc.scores)
    assert 0.099 * sigma < scores.max() <= 0.1 * sigma                      # lambda = 0.1
    assert abs(backend.to_host(fc.options).std() - sigma / math.sqrt(3)) < 0.01 * sigma


def test_option_bound_widens_the_same_draws():
    """option_bound b draws U(-b sigma, b sigma): the paper's options times b, scores unchanged."""
    paper = SlotLinear(300, 100, K=5, rng=0, dtype=F64)
    wide = SlotLinear(300, 100, K=5, rng=0, dtype=F64, option_bound=math.sqrt(3))
    assert np.allclose(wide.options, math.sqrt(3) * paper.options, rtol=1e-12)
    assert np.array_equal(wide.scores, paper.scores)
    sigma = math.sqrt(2.0 / 400)
    assert 0.99 * math.sqrt(3) * sigma < np.abs(wide.options).max() <= math.sqrt(3) * sigma


def test_same_seed_same_slots_in_float32_and_float64():
    a, b = SlotLinear(5, 4, K=3, rng=7), SlotLinear(5, 4, K=3, rng=7, dtype=F64)
    assert np.allclose(a.options, b.options, rtol=1e-7) and b.options.dtype == F64
    assert np.array_equal(a.scores, SlotLinear(5, 4, K=3, rng=7).scores)


def test_sampling_follows_softmax_of_scores(xp):
    scores = device(np.tile(np.log([1.0, 2.0, 3.0, 4.0]), (200_000, 1)))
    uniform = device(np.random.default_rng(0).random(200_000))
    counts = np.bincount(backend.to_host(sampled_index(scores, uniform)), minlength=4)
    assert np.allclose(counts / 200_000, [0.1, 0.2, 0.3, 0.4], atol=0.005)


def test_sample_selection_redraws_in_training_and_uses_argmax_in_evaluation(xp, rng):
    layer = SlotLinear(40, 30, K=8, selection="sample", rng=rng)
    x = device(rng.standard_normal((2, 40)).astype(np.float32))
    layer.forward(x, train=True)
    first = backend.to_host(layer.slots.last_index).copy()
    layer.forward(x, train=True)
    assert (first != backend.to_host(layer.slots.last_index)).mean() > 0.5
    y_eval = layer.forward(x, train=False)
    assert np.array_equal(backend.to_host(layer.slots.last_index),
                          backend.to_host(layer.selected()))
    assert rel_error(y_eval, x @ layer.weight().T) == 0.0


def test_weight_sharing_uses_one_set_of_K_values(xp):
    layer = SlotConv2d(3, 4, 3, K=6, shared=True, rng=0)
    options = backend.to_host(layer.options)
    assert options.shape == (4, 3, 3, 3, 6)
    assert np.all(options == options[0, 0, 0, 0])
    assert len(np.unique(backend.to_host(layer.weight()))) <= 6


@pytest.mark.parametrize("make, shape", [
    (lambda: SlotLinear(6, 5, K=4, rng=1), (3, 6)),
    (lambda: SlotConv2d(2, 3, 3, K=4, stride=2, padding=1, rng=1), (2, 2, 7, 5)),
])
def test_freeze_gives_a_dense_layer_with_the_same_output(xp, make, shape):
    layer = make()
    x = backend.to_device(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    dense = layer.freeze()
    assert type(dense) in (Linear, Conv2d) and set(dense.params) == {"W"}
    assert np.array_equal(backend.to_host(dense.forward(x, train=False)),
                          backend.to_host(layer.forward(x, train=False)))
    dense.params["W"] += 1.0
    assert not np.array_equal(backend.to_host(dense.params["W"]), backend.to_host(layer.weight()))


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_slot_layers_keep_float32(xp, rng, selection):
    for layer, shape in ((SlotLinear(6, 5, 4, selection, rng=rng), (3, 6)),
                         (SlotConv2d(2, 3, 3, 4, padding=1, selection=selection, rng=rng),
                          (2, 2, 5, 4))):
        y = layer.forward(backend.to_device(rng.standard_normal(shape).astype(np.float32)))
        assert y.dtype == np.float32
        assert layer.backward(xp.ones_like(y)).dtype == np.float32
        assert all(g.dtype == np.float32 for g in layer.grads.values())
        assert all(p.dtype == np.float32 for p in layer.params.values())


@pytest.mark.parametrize("make, message", [
    (lambda: SlotLinear(3, 2, K=0), "K"),
    (lambda: SlotConv2d(3, 2, 3, K=-1), "K"),
    (lambda: SlotLinear(3, 2, K=2.5), "K"),
    (lambda: SlotLinear(3, 2, K=2, selection="best"), "unknown selection"),
    (lambda: SlotLinear(3, 2, K=2, score_form="dense"), "unknown score_form"),
    (lambda: SlotConv2d(3, 2, 3, K=2, option_bound=-1.0), "option_bound must be positive"),
])
def test_bad_slot_arguments_give_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("score_form", ["explicit"])
def test_slot_linear_against_the_loop_oracle(xp, rng, score_form):
    """choose -> pick -> dense forward; backward dx and g * option for every k (naive.py)."""
    import naive
    layer = SlotLinear(6, 4, K=5, rng=rng, dtype=F64, score_form=score_form)
    if score_form == "factored":          # scores away from their start, in both forms
        layer.params["coef_options"][...] = device(rng.standard_normal((4, 6)))
    x, dout = rng.standard_normal((3, 6)), rng.standard_normal((3, 4))
    scores, options = backend.to_host(layer.scores), backend.to_host(layer.options)
    index, _ = naive.slot_choice(scores, options)
    y = backend.to_host(layer.forward(device(x), train=True))
    assert np.array_equal(backend.to_host(layer.slots.last_index), index)
    assert rel_error(y, naive.slot_linear_forward(x, scores, options)) < 1e-12
    dx = layer.backward(device(dout))
    expected_dx, expected_dscores = naive.slot_linear_backward(x, dout, scores, options)
    assert rel_error(dx, expected_dx) < 1e-12
    assert rel_error(layer.score_grad(), expected_dscores) < 1e-12


def test_the_plain_slot_layer_reads_in_about_sixty_lines():
    """The method in slot.py's plain form, read alone: choosing (argmax or sampling), picking,
    the straight-through gradient, and the two hooks that turn a dense layer into a slot layer,
    about as short as the authors' 30-line PyTorch layer, which autograd completes. Code lines
    only: docstrings, comments and blank lines aside."""
    import ast
    path = slot_module.__file__
    source = open(path).read()
    lines = source.splitlines()
    core = {None: {"greedy_index", "sampled_index", "pick", "straight_through"},
            "Slots": {"initial_params", "scores", "greedy", "choose", "sample",
                      "pick", "gradients"},
            "SlotWeightMixin": {"_forward_weight", "_store_weight_grad"}}

    def code_lines(node):
        skip = set()
        if ast.get_docstring(node):
            skip = set(range(node.body[0].lineno, node.body[0].end_lineno + 1))
        return sum(1 for i in range(node.lineno, node.end_lineno + 1) if i not in skip
                   and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#"))

    counted, total = set(), 0
    for node in ast.parse(source).body:
        members = [(None, node)] if isinstance(node, ast.FunctionDef) else \
            [(node.name, item) for item in node.body if isinstance(item, ast.FunctionDef)] \
            if isinstance(node, ast.ClassDef) else []
        for owner, function in members:
            if function.name in core.get(owner, ()):
                counted.add((owner, function.name))
                total += code_lines(function)
    assert counted == {(owner, name) for owner, names in core.items() for name in names}
    assert total <= 60, total


@pytest.mark.parametrize("score_form", ["explicit"])
def test_gradients_through_options_shared_network_wide_in_float64(xp, rng, score_form):
    """Straight-through with the net's K values (init.network_options) at the layer's scale."""
    from slotnp.core import init
    values = init.network_options(3, 6, 1.73205)
    layer = SlotLinear(7, 5, K=6, shared=values, rng=rng, dtype=F64, score_form=score_form)
    assert layer.slots.shared and np.allclose(
        backend.to_host(layer.options)[2, 3] / init.glorot_sigma((5, 7)), values)
    x, dout = device(rng.standard_normal((4, 7))), device(rng.standard_normal((4, 5)))
    assert max(straight_through_errors(layer, x, dout).values()) < 1e-7
