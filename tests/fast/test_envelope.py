"""Greedy selection from the upper-envelope candidates equals the first argmax over all options."""
import numpy as np

from slotnp import backend
from slotnp.slots import SlotLinear
from slotnp.fast import envelope
from slotnp.fast.envelope import envelope_candidates
from slotnp.fast.slot_factored import factored_greedy_choice, gather, k_last_on_device


def first_argmax_of_all(a, b, options, initial_scores):
    scores = backend.to_host(a)[..., None] * backend.to_host(options) + \
        backend.to_host(b) * backend.to_host(initial_scores)
    return scores.argmax(axis=-1)                 # NumPy's argmax: the first maximum


def candidate_choice(a, b, candidates):
    index, options, initial_scores = candidates
    which, chosen = factored_greedy_choice(a, b, options, initial_scores)
    return gather(index, which), chosen


def test_candidates_on_a_grid_keep_every_tie(xp, rng):
    """Options and scores on a coarse grid: many equal slopes, equal initial scores and whole
    duplicate lines, and ratios a/b that land exactly on crossings, where the first k must win.
    All values are exact in float64, so the expected argmax is exact too."""
    P, K = 4000, 40
    options = k_last_on_device(rng.integers(-4, 5, (P, K)) / 4.0)
    initial = k_last_on_device(rng.integers(0, 5, (P, K)) / 4.0)
    candidates = envelope_candidates(options, initial)
    assert candidates is not None and candidates[1].shape[-1] < K
    for ratio in [0.0, 0.25, -0.25, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 4.0, -4.0, 1e6, -1e6]:
        a = backend.to_device(rng.choice([ratio, ratio / 3, 0.0], P))
        b = backend.to_device(np.ones(()))
        index, chosen = candidate_choice(a, b, candidates)
        expected = first_argmax_of_all(a, b, options, initial)
        assert np.array_equal(backend.to_host(index), expected), ratio
        assert np.array_equal(backend.to_host(chosen),
                              np.take_along_axis(backend.to_host(options), expected[:, None], -1)[:, 0])


def test_candidates_on_random_float32_values(xp, rng):
    P, K = 20000, 64
    options = k_last_on_device(rng.uniform(-0.05, 0.05, (P, K)).astype(np.float32))
    initial = k_last_on_device(rng.uniform(0, 0.005, (P, K)).astype(np.float32))
    candidates = envelope_candidates(options, initial)
    E = candidates[1].shape[-1]
    assert E < 20                      # about 7 lines of 64 on average, 15 at most in 1M
    for scale in [0.0, 1e-3, 0.1, 1.0, 100.0]:
        a = backend.to_device((rng.standard_normal(P) * scale).astype(np.float32))
        b = backend.to_device(np.float32(0.9))
        index, chosen = candidate_choice(a, b, candidates)
        # the same float32 operations over all K options: fl(fl(r * W[k]) + S0[k]), r = a / b
        r = backend.to_host(a) / backend.to_host(b)
        scores = r[:, None] * backend.to_host(options) + backend.to_host(initial)
        expected = scores.argmax(axis=-1)
        assert np.array_equal(backend.to_host(index), expected), scale
        assert np.array_equal(backend.to_host(chosen), np.take_along_axis(
            backend.to_host(options), expected[:, None], -1)[:, 0])


def test_no_candidates_when_every_line_can_win(xp):
    options = k_last_on_device(np.array([[-1.0, 1.0]]))            # two lines that cross
    assert envelope_candidates(options, k_last_on_device(np.array([[0.0, 0.0]]))) is None


def test_slot_layer_selects_through_the_candidates(xp, rng, monkeypatch):
    """From MIN_OPTIONS options on, a layer uses the candidates while b > 0 and all options
    otherwise; its selection is the argmax of its scores either way."""
    monkeypatch.setattr(envelope, "CHUNK", 100)                     # several chunks
    from slotnp.fast import slot_factored
    compared = []                       # the options each greedy choice compares, per connection
    choice = slot_factored.factored_greedy_choice
    monkeypatch.setattr(slot_factored, "factored_greedy_choice",
                        lambda a, b, options, *rest: compared.append(options.shape[-1]) or
                        choice(a, b, options, *rest))
    layer = SlotLinear(30, 20, K=envelope.MIN_OPTIONS, rng=rng, dtype=np.float64,
                       keep_options=True)
    assert layer.slots.candidates() is not None
    assert SlotLinear(30, 20, K=envelope.MIN_OPTIONS - 1, rng=rng,
                      keep_options=True).slots.candidates() is None
    E = layer.slots.candidates()[1].shape[-1]
    assert E < envelope.MIN_OPTIONS
    for b in (1.0, 0.5, -0.5):
        layer.params["coef_options"][...] = backend.to_device(rng.standard_normal((20, 30)))
        layer.params["coef_initial"][...] = b
        expected = backend.to_host(layer.scores).argmax(axis=-1)
        compared.clear()
        assert np.array_equal(backend.to_host(layer.selected()), expected), b
        layer.forward(backend.to_device(rng.standard_normal((2, 30))), train=True)
        assert np.array_equal(backend.to_host(layer.slots.last_index), expected), b
        on_cpu = xp is np                         # (a GPU compares all options: no reads)
        assert compared and set(compared) == {E if b > 0 and on_cpu else envelope.MIN_OPTIONS}
