"""The fast twin of the slot layers (slotnp/fast/slot_factored.py): factored scores follow the
explicit ones, selection streamed in chunks, gathers and draws on K-first memory."""
import numpy as np
import pytest

from shared import SLOT_CONV_CASES, device, slot_conv_straight_through, \
    slot_linear_straight_through
from slotnp import backend
from slotnp.core.gradcheck import rel_error
from slotnp.slots.straight_through import straight_through_errors
from slotnp.core.optim import SGD
from slotnp.fast import slot_factored, threads
from slotnp.fast.slot_factored import factored_scores, gather, k_last_on_device
from slotnp.slots import SlotConv2d, SlotLinear
from slotnp.slots.slot import pick, sampled_index

F64 = np.float64



@pytest.mark.parametrize("selection", ["greedy", "sample"])
@pytest.mark.parametrize("shared", [False, True])
def test_slot_linear_straight_through_gradient(xp, rng, selection, shared):
    slot_linear_straight_through(rng, selection, shared, "factored")


@pytest.mark.parametrize("selection", ["greedy", "sample"])
@pytest.mark.parametrize("case", SLOT_CONV_CASES)
def test_slot_conv_straight_through_gradient(xp, rng, selection, case):
    slot_conv_straight_through(rng, selection, case, "factored")


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_learned_biases_beside_factored_scores_in_float64(xp, rng, selection):
    slot_linear_straight_through(rng, selection, False, "factored", bias=True)
    slot_conv_straight_through(rng, selection, SLOT_CONV_CASES[0], "factored", bias=True)


def test_factored_greedy_selection_exact_values(xp):
    """scores = a * options + b * initial: the argmax of those, also when b is not positive."""
    layer = SlotLinear(2, 1, K=3, dtype=F64, keep_options=True)
    layer.slots.options[...] = device([[[0.5, -1.0, 2.0], [3.0, 4.0, -5.0]]])
    layer.slots.initial_scores[...] = device([[[0.1, 0.3, 0.2], [0.9, 0.0, 0.9]]])
    layer.params["coef_options"][...] = device([[0.0, 0.2]])
    # connection 0 has a = 0: the argmax of b * initial; b = 0 ties all three (the first wins)
    for b, expected in ((1.0, [[1, 0]]), (0.01, [[1, 1]]), (0.0, [[0, 1]]), (-1.0, [[0, 1]])):
        layer.params["coef_initial"][...] = b
        scores = backend.to_host(layer.scores)
        assert np.allclose(scores, [[[0.1 * b, 0.3 * b, 0.2 * b],
                                     [0.6 + 0.9 * b, 0.8, -1.0 + 0.9 * b]]])
        assert backend.to_host(layer.selected()).tolist() == expected, b
        assert backend.to_host(layer.selected()).tolist() == scores.argmax(axis=-1).tolist()
    assert backend.to_host(layer.weight()).tolist() == [[0.5, 4.0]]


def test_factored_greedy_selection_when_a_over_b_overflows(xp):
    """Weight decay at lr 25 shrinks b towards 0; once a / b overflows float32, an infinite
    ratio would tie all options of one sign. The selection must stay the argmax of the scores."""
    layer = SlotLinear(2, 1, K=3, keep_options=True)
    layer.slots.options[...] = device(np.array([[[-0.3, 0.5, 2.0], [0.5, -0.3, -1.0]]],
                                                np.float32))
    layer.params["coef_options"][...] = device(np.array([[1.0, -1.0]], np.float32))
    layer.params["coef_initial"][...] = 1e-40                   # a float32 subnormal
    assert backend.to_host(layer.selected()).tolist() == [[2, 2]]   # a*W: [-.3 .5 2], [-.5 .3 1]
    assert backend.to_host(layer.weight()).tolist() == [[2.0, -1.0]]


def test_greedy_selection_in_chunks_equals_one_pass(xp, rng, monkeypatch):
    """Chunks are whole rows of the weight (its first axis; 36 connections each here), at least
    one: chunks of 1, 2 and 3 of the 5 rows, the last chunk of each core's part shorter, give the
    same greedy choice, index and option, as one pass over the whole layer. (The layer keeps its
    options, so the factored selection itself runs, not the interval twin's.)"""
    layer = SlotConv2d(4, 5, 3, K=6, rng=rng, keep_options=True)
    assert type(layer.slots) is slot_factored.FactoredSlots
    layer.params["coef_options"][...] = device(
        rng.standard_normal(layer.weight_shape).astype(np.float32))
    passes = []                                  # the argmax passes: one per chunk on NumPy
    real_first_argmax = slot_factored.first_argmax
    monkeypatch.setattr(slot_factored, "first_argmax",
                        lambda *a, **k: passes.append(1) or real_first_argmax(*a, **k))
    monkeypatch.setattr(slot_factored, "SELECTION_CHUNK_VALUES", 10 ** 9)
    whole = [backend.to_host(a).copy() for a in layer.slots.greedy(layer.params)]
    chunks_in_one_pass = len(passes)
    for chunk, rows in ((7, 1), (72, 2), (108, 3)):   # 7 values round up to one row
        monkeypatch.setattr(slot_factored, "SELECTION_CHUNK_VALUES", chunk)
        del passes[:]
        chunked = [backend.to_host(a) for a in layer.slots.greedy(layer.params)]
        assert np.array_equal(chunked[0], whole[0]) and np.array_equal(chunked[1], whole[1])
        if xp is np:                             # the GPU compares all options at once
            assert len(passes) >= -(-5 // rows) > chunks_in_one_pass
    scores = backend.to_host(layer.scores)
    assert np.array_equal(whole[0], scores.argmax(axis=-1))


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_factored_scores_follow_the_explicit_trajectory_under_sgd(xp, rng, selection):
    """The factored form is exact: 30 SGD steps (momentum, weight decay, large and changing
    rates) leave it with the explicit form's scores, selections and outputs (float64)."""
    twins = [SlotConv2d(3, 4, 3, K=5, padding=1, selection=selection, rng=1, dtype=F64,
                        score_form=form) for form in ("explicit", "factored")]
    optimizers = [SGD(layer.params, lr=1.0, momentum=0.9, weight_decay=1e-2) for layer in twins]
    x = device(rng.standard_normal((2, 3, 5, 5)))
    start = backend.to_host(twins[0].selected()).copy()
    for step in range(30):
        dout = device(rng.standard_normal((2, 4, 5, 5)))
        outputs = []
        for layer, optimizer in zip(twins, optimizers):
            layer.reseed(step)
            outputs.append(backend.to_host(layer.forward(x, train=True)))
            layer.backward(dout)
            optimizer.step(layer.grads, lr=3.0 / (1 + step))
        assert np.array_equal(outputs[0], outputs[1]), step
    explicit, factored = twins
    assert rel_error(factored.scores, explicit.scores) < 1e-10
    assert np.array_equal(backend.to_host(factored.selected()),
                          backend.to_host(explicit.selected()))
    assert (backend.to_host(explicit.selected()) != start).mean() > 0.3   # selections did move


@pytest.mark.parametrize("K", [4, 1024])          # options kept, and interval layers
def test_evaluation_reuses_a_selection_only_while_the_coefficients_are_unchanged(xp, rng, K):
    layer = SlotLinear(6, 5, K=K, rng=rng, keep_options=K < 16)
    x = device(rng.standard_normal((3, 6)).astype(np.float32))
    first = layer.weight()
    assert layer.weight() is first                          # reused: nothing changed
    first = backend.to_host(first).copy()                   # (interval layers: a live array)
    layer.params["coef_options"][...] = device(rng.standard_normal((5, 6)).astype(np.float32))
    changed = layer.forward(x, train=False)                 # in place, as SGD does
    fresh = factored_scores(layer.params["coef_options"], layer.params["coef_initial"],
                            layer.options, layer.slots.initial_scores)
    expected = gather(layer.options, fresh.argmax(axis=-1))
    assert rel_error(changed, x @ expected.T) == 0.0
    assert (backend.to_host(expected) != first).any()       # the weight did move
    layer.params["coef_initial"][...] = -1.0                # b alone changes the argmax too
    assert np.array_equal(backend.to_host(layer.selected()),
                          backend.to_host(layer.scores.argmax(axis=-1)))


@pytest.mark.parametrize("storage", ["k_first", "k_last", "shared"])
def test_gather_picks_the_indexed_option(xp, rng, monkeypatch, storage):
    """gather's three routes (K-first flat index, any layout, shared values) agree with plain
    indexing; tiny parts make the K-first route run in several threads."""
    monkeypatch.setattr(threads, "MIN_PART_VALUES", 4)
    K, shape = 5, (6, 7)
    values = rng.standard_normal(shape + (K,))
    if storage == "k_first":
        options = xp.moveaxis(device(np.ascontiguousarray(np.moveaxis(values, -1, 0))), 0, -1)
    elif storage == "k_last":
        options = device(values)
    else:
        values = np.broadcast_to(values[0, 0], shape + (K,))
        options = xp.broadcast_to(device(values[0, 0]), shape + (K,))
    index = rng.integers(0, K, shape)
    expected = np.take_along_axis(values, index[..., None], axis=-1)[..., 0]
    chosen = gather(options, device(index).astype(np.uint8))
    assert chosen.shape == shape
    assert np.array_equal(backend.to_host(chosen), expected)


def same_draws(xp, got, expected, scores, uniform):
    """Equal draws: exactly on NumPy (the same float32 operations in the same order); on a GPU,
    where exp and the parallel scan of the CDF round differently, equal wherever the uniform
    is not within 1e-5 (of the total) of a step of the CDF."""
    got, expected = backend.to_host(got), backend.to_host(expected)
    if xp is np:
        return np.array_equal(got, expected)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True)).astype(np.float64)
    cdf = np.cumsum(p, axis=-1)
    threshold = uniform * cdf[..., -1]
    near = (np.abs(cdf - threshold[..., None]) / cdf[..., -1:]).min(axis=-1) < 1e-5
    return bool(np.all((got == expected) | near))


def test_sampled_index_on_k_first_memory_equals_the_plain_one_exactly(xp, rng):
    """The running-sum CDF makes the same additions as cumsum, so the draws are identical
    (on a GPU, up to the rounding of its exp and scan: `same_draws`)."""
    scores = rng.standard_normal((30, 20, 7)).astype(np.float32) * 3
    uniform = rng.random((30, 20)).astype(np.float32)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    cdf = np.cumsum(p, axis=-1)
    expected = np.minimum((cdf < (uniform * cdf[..., -1])[..., None]).sum(axis=-1), 6)
    plain = backend.to_host(sampled_index(device(scores), device(uniform)))
    fast = backend.to_host(slot_factored.sampled_index_k_first(k_last_on_device(scores),
                                                               device(uniform)))
    assert same_draws(xp, plain, expected, scores, uniform)
    assert same_draws(xp, fast, expected, scores, uniform)


@pytest.mark.parametrize("chunk", [1, 7, 10 ** 9])
def test_sampling_the_factored_scores_in_chunks_draws_what_the_plain_rule_draws(xp, rng,
                                                                                monkeypatch,
                                                                                chunk):
    """Formed chunk by chunk of connections (each chunk's scores in cache), the same values
    go through the same operations: the draws equal sampled_index of the full scores."""
    monkeypatch.setattr(slot_factored, "SAMPLE_CHUNK_VALUES", chunk * 5)
    options = rng.uniform(-1, 1, (9, 13, 5)).astype(np.float32)
    initial = rng.uniform(0, 1, (9, 13, 5)).astype(np.float32)
    a = (rng.standard_normal((9, 13)) * 4).astype(np.float32)
    b = np.float32(0.7)
    uniform = rng.random((9, 13)).astype(np.float32)
    scores = a[..., None] * options
    scores += b * initial
    expected = backend.to_host(sampled_index(device(scores), device(uniform)))
    got = slot_factored.factored_sampled_index(device(a), device(np.asarray(b)),
                                               k_last_on_device(options),
                                               k_last_on_device(initial), device(uniform))
    assert got.shape == (9, 13) and same_draws(xp, got, expected, scores, uniform)
    assert len(set(expected.ravel())) == 5     # every option drawn somewhere: a real test


def test_gather_on_k_first_memory_equals_pick(xp, rng):
    options = rng.standard_normal((6, 5, 4))
    index = rng.integers(0, 4, (6, 5))
    expected = np.take_along_axis(options, index[..., None], -1)[..., 0]
    assert np.array_equal(backend.to_host(pick(device(options), device(index))), expected)
    assert np.array_equal(backend.to_host(gather(k_last_on_device(options), device(index))),
                          expected)


@pytest.mark.parametrize("score_form", ["factored"])
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


def test_factored_gradients_through_options_shared_network_wide_in_float64(xp, rng):
    from slotnp.core import init
    values = init.network_options(3, 6, 1.73205)
    layer = SlotLinear(7, 5, K=6, shared=values, rng=rng, dtype=F64)
    assert layer.slots.score_form == "factored" and layer.slots.shared
    x, dout = device(rng.standard_normal((4, 7))), device(rng.standard_normal((4, 5)))
    assert max(straight_through_errors(layer, x, dout).values()) < 1e-7
