"""Greedy layers that keep no options (slot_intervals.py) select exactly as the others do."""
import numpy as np
import pytest

from slotnp import backend, init
from slotnp.slots import SlotConv2d, SlotLinear
from slotnp.fast.slot_factored import FactoredSlots
from slotnp.fast import draws, slot_intervals, threads
from slotnp.fast import slots as fast_slots
from slotnp.fast.slot_intervals import (IntervalSlots, interval_of, interval_of_uniform,
                                          winners)
from slotnp.core.optim import SGD

F64 = np.float64


def device(a):
    return backend.to_device(np.asarray(a))


@pytest.fixture
def tied_values(monkeypatch):
    """Slot values with exact ties that any exact selection must break alike: options on a
    grid of 5 levels (many parallel lines), and the last option of every connection a twin of
    its first (same option, same initial score; the first must win). Initial scores stay
    distinct otherwise: equal ones with unequal options tie at a = 0, where the explicit form's
    own rounding (one ulp of a score) decides, not the selection rule."""
    def tied(draw):
        def drawn(key, shape, K, bound, scale, *args):
            options, scores = draw(key, shape, K, bound, scale, *args)
            limit = bound * init.glorot_sigma(shape)
            options = np.round(options / limit * 2) / 2 * limit
            options[:, -1], scores[:, -1] = options[:, 0], scores[:, 0]
            return options, scores
        return drawn
    monkeypatch.setattr(init, "slot_values", tied(init.slot_values))
    monkeypatch.setattr(draws, "slot_values_range", tied(draws.slot_values_range))
    monkeypatch.setattr(draws, "slot_values_at", tied(draws.slot_values_at))


def test_options_version_2_draws_any_range_of_connections_alone():
    """Version 2: each block of connections has its own stream, so any range (cut anywhere,
    across blocks) equals the same range of the whole layer; keys make layers independent."""
    key = init.slot_key(np.random.default_rng(5))
    shape, K = (7, 3, 3, 3), 600                 # 189 connections, 13 per block at K = 600
    assert init.block_connections(K) == 13
    options, scores = init.slot_values(key, shape, K, 1.0, 1.0)
    for start, stop in ((0, 189), (5, 6), (12, 14), (13, 26), (100, 189), (40, 40)):
        part = draws.slot_values_range(key, shape, K, 1.0, 1.0, start, stop)
        assert np.array_equal(part[0], options[start:stop])
        assert np.array_equal(part[1], scores[start:stop])
    sigma = init.glorot_sigma(shape)
    assert -sigma <= options.min() < -0.99 * sigma and 0.99 * sigma < options.max() <= sigma
    assert 0 <= scores.min() and 0.99 * sigma < scores.max() <= sigma
    other = init.slot_values(init.slot_key(np.random.default_rng(6)), shape, K, 1.0, 1.0)
    assert not np.array_equal(other[0], options)


def uniform_margins(W, S0, line):
    """interval_of_uniform with the rows' bounds, called as interval_of."""
    return interval_of_uniform(W, S0, line, float(abs(W).max()), float(abs(S0).max()))


def assert_r_inside_but_near_a_crossing(r, low, high):
    """Each r lies in its winner's interval, but where it is within rounding of a crossing,
    which the interval ends short of by its margin (then the layer selects anew)."""
    r, low, high = (backend.to_host(a) for a in (r, low, high))
    outside = ~((r >= low) & (r <= high))
    with np.errstate(invalid="ignore"):
        near = np.minimum(np.abs(r - low), np.abs(r - high)) <= 1e-4 * (1 + np.abs(r))
    assert near[outside].all() and outside.mean() < 0.01


@pytest.mark.parametrize("interval_of", [interval_of, uniform_margins],
                         ids=["per-line margins", "uniform margins"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inside_an_interval_the_streamed_argmax_is_its_line(xp, rng, dtype, interval_of):
    """Every r of the dtype strictly inside a line's interval gives that line as the first
    argmax of fl(fl(W r) + S0), for the winner and both neighbours, twins and parallels too."""
    n, K = 3000, 12
    W = rng.uniform(-1, 1, (n, K)).astype(dtype)
    S0 = rng.uniform(0, 1, (n, K)).astype(dtype)
    W[:300, 3], S0[:300, 3] = W[:300, 7], S0[:300, 7]           # twins
    W[300:600, 2] = W[300:600, 5]                                 # parallel lines
    W[600:900] = np.round(W[600:900] * 2) / 2                     # many equal slopes
    r = (rng.standard_normal(n) * 3).astype(dtype)
    W, S0, r = device(W), device(S0), device(r)
    line = winners(W, S0, r)
    low, high, left, right = interval_of(W, S0, line)
    assert_r_inside_but_near_a_crossing(r, low, high)
    checked = 0
    for k in (line, left, right):
        lo, hi = interval_of(W, S0, k)[:2]
        lo, hi = backend.to_host(lo), backend.to_host(hi)
        for _ in range(40):
            with np.errstate(invalid="ignore", over="ignore"):
                base = np.where(np.isfinite(lo), lo, hi - 10)
                span = np.where(np.isfinite(hi - lo), hi - lo, 10.0)
                trial = (base + span * rng.random(n)).astype(dtype)
            inside = np.isfinite(trial) & (trial > lo) & (trial < hi)
            values = backend.to_host(W) * trial[:, None]
            values += backend.to_host(S0)
            assert np.array_equal(values.argmax(axis=1)[inside], backend.to_host(k)[inside])
            checked += inside.sum()
    assert checked > 100_000



@pytest.mark.parametrize("K", [2, 8, 64, 1024])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_margins_give_the_same_lines_and_hardly_narrower_intervals(xp, rng, dtype, K):
    """The fast interval (one margin per row) against the plain one (a margin per line): the
    same neighbours, and ends never wider (beyond rounding) and narrower only by where the two
    lines meeting there differ by less than the larger margin (in value, not in r: near-parallel
    lines move their crossing far for a small margin)."""
    n = 40_000 // K + 50
    W = device(rng.uniform(-1, 1, (n, K)).astype(dtype))
    S0 = device(rng.uniform(0, 1, (n, K)).astype(dtype))
    r = device((rng.standard_normal(n) * 2).astype(dtype))
    line = winners(W, S0, r)
    plain = [backend.to_host(a) for a in interval_of(W, S0, line)]
    fast = [backend.to_host(a) for a in uniform_margins(W, S0, line)]
    assert np.array_equal(plain[2], fast[2]) and np.array_equal(plain[3], fast[3])
    W, S0, rows = backend.to_host(W), backend.to_host(S0), np.arange(n)
    w = backend.to_host(line)
    margin = slot_intervals.SAFETY * slot_intervals.UNIT_ROUNDOFF[np.dtype(dtype)]
    for ours, theirs, other, narrower in ((fast[0], plain[0], plain[2], 1),
                                          (fast[1], plain[1], plain[3], -1)):
        assert np.array_equal(np.isfinite(ours), np.isfinite(theirs))
        finite = np.isfinite(theirs)
        with np.errstate(invalid="ignore"):
            gap = ((ours - theirs) * narrower)[finite]        # > 0: the fast one is narrower
        assert (gap / (1 + np.abs(theirs[finite]))).min() > -8 * np.finfo(dtype).eps
        apart = np.abs(W[rows, other] - W[rows, w])[finite]
        larger = 2 * margin * (2 * np.abs(theirs[finite]) * 2 * np.abs(W).max() + 2 * S0.max())
        assert (gap * apart <= larger).all()
        assert np.median(gap / (1 + np.abs(theirs[finite]))) < 1e-5
    assert_r_inside_but_near_a_crossing(r, fast[0], fast[1])



def test_a_build_shared_among_cores_equals_one_on_one_core(monkeypatch, rng):
    """Every chunk's window is the same whichever core draws it (threads.in_parts)."""
    states, coefficients = [], rng.standard_normal((40, 60)).astype(np.float32)
    for cores in (1, 2):
        monkeypatch.setattr(threads, "CPU_CORES", cores)
        monkeypatch.setattr(threads, "_threads", None)
        layer = SlotLinear(60, 40, K=1024, rng=0)
        layer.params["coef_options"][...] = coefficients
        layer.selected()
        states.append([a.copy() for lines in layer.slots._state for a in vars(lines).values()])
    assert len(states[0]) == 15
    assert all(np.array_equal(a, b) for a, b in zip(*states))


def test_greedy_layers_keep_no_options(rng):
    small, large = SlotLinear(30, 20, K=2, rng=0), SlotConv2d(3, 4, 3, K=1024, rng=0)
    assert type(small.slots) is IntervalSlots and type(large.slots) is IntervalSlots
    assert type(SlotLinear(30, 20, K=64, selection="sample", rng=0).slots) is FactoredSlots
    assert type(SlotLinear(30, 20, K=64, shared=True, rng=0).slots) is FactoredSlots
    assert type(SlotLinear(30, 20, K=64, keep_options=True, rng=0).slots) is FactoredSlots
    large.forward(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), train=True)
    held = [v for v in vars(large.slots).values() if isinstance(v, np.ndarray)]
    held += [a for lines in large.slots._state for a in vars(lines).values()]
    held += list(large.params.values())
    assert held and all(1024 not in a.shape for a in held)        # nothing K-sized is kept
    assert sum(a.nbytes for a in held) < 60 * 108                  # ~52 bytes a connection
    # asked for, the options are drawn again: the same as a layer that keeps them
    kept = SlotConv2d(3, 4, 3, K=1024, rng=0, keep_options=True)
    assert np.array_equal(large.options, kept.options)
    assert np.array_equal(large.scores, kept.scores)


@pytest.mark.parametrize("K, redraw", [(16, None), (64, None), (64, 0.0), (64, 1.0)])
def test_float32_selections_equal_the_streamed_ones_over_training(xp, rng, monkeypatch, K,
                                                                  redraw):
    """Bit for bit, over 60 SGD steps at a large rate: the same selections, weights and
    coordinates as the layer that keeps its options and streams over them; whichever way
    connections are selected anew (redraw 0: always the whole layer, 1: always one by one)."""
    if redraw is not None:
        monkeypatch.setattr(slot_intervals, "REDRAW_SHARE", redraw)
    twins = [SlotLinear(60, 40, K=K, rng=3, keep_options=keep) for keep in (True, False)]
    optimizers = [SGD(layer.params, lr=2.0, momentum=0.9, weight_decay=1e-4) for layer in twins]
    x = device(rng.standard_normal((16, 60)).astype(np.float32))
    start = backend.to_host(twins[0].selected()).copy()
    for step in range(60):
        dout = device(rng.standard_normal((16, 40)).astype(np.float32))
        outputs = []
        for layer, optimizer in zip(twins, optimizers):
            outputs.append(backend.to_host(layer.forward(x, train=True)))
            layer.backward(dout)
            optimizer.step(layer.grads)
        assert np.array_equal(outputs[0], outputs[1]), step
    kept, intervals = twins
    assert np.array_equal(backend.to_host(kept.selected()), backend.to_host(intervals.selected()))
    assert np.array_equal(backend.to_host(kept.params["coef_options"]),
                          backend.to_host(intervals.params["coef_options"]))
    assert (backend.to_host(kept.selected()) != start).mean() > 0.2     # selections moved



def test_drifting_connections_advance_to_their_pending_neighbour(rng, monkeypatch):
    """A connection that keeps moving one way crosses into its neighbour (free), then past it,
    where the line beyond is known but not its interval: that one interval is found (_advance)
    instead of a whole window, and the selections stay the streamed ones."""
    found = {"advanced": 0, "windows": 0}
    advance, window = IntervalSlots._advance, IntervalSlots._window

    def counted_advance(self, lost, ratio):
        still = advance(self, lost, ratio)
        found["advanced"] += len(lost) - len(still)
        return still

    def counted_window(self, connections, r):
        found["windows"] += len(connections)
        return window(self, connections, r)

    monkeypatch.setattr(IntervalSlots, "_advance", counted_advance)
    monkeypatch.setattr(IntervalSlots, "_window", counted_window)
    twins = [SlotLinear(60, 40, K=256, rng=5, keep_options=keep) for keep in (True, False)]
    optimizers = [SGD(layer.params, lr=0.05, momentum=0.9) for layer in twins]
    x = rng.standard_normal((16, 60)).astype(np.float32)
    dout = rng.standard_normal((16, 40)).astype(np.float32)     # the same push every step
    for step in range(30):
        outputs = []
        for layer, optimizer in zip(twins, optimizers):
            outputs.append(layer.forward(x, train=True))
            layer.backward(dout)
            optimizer.step(layer.grads)
        assert np.array_equal(outputs[0], outputs[1]), step
    assert found["advanced"] > max(100, found["windows"] / 2)   # (1,618 and 1,794 here)


def small_net(K, score_form, keep_options=False):
    """A small conv net (conv 3x3, ReLU, max pool, two FC layers) of slot layers, float64."""
    from slotnp.core import Flatten, MaxPool2d, ReLU, Sequential
    rng = np.random.default_rng(4)
    make = dict(K=K, rng=rng, dtype=F64, score_form=score_form, keep_options=keep_options)
    return Sequential([("conv1", SlotConv2d(3, 6, 3, padding=1, **make)), ("pool1", MaxPool2d(2)),
                       ("relu1", ReLU()), ("flatten", Flatten()),
                       ("fc1", SlotLinear(6 * 4 * 4, 12, **make)), ("fc_relu1", ReLU()),
                       ("fc2", SlotLinear(12, 10, **make))])


@pytest.mark.parametrize("K", [2, 8, 64, 1024])
def test_30_sgd_steps_equal_the_explicit_form_in_float64_ties_included(xp, rng, K,
                                                                       tied_values):
    """Selections and scores of the explicit form (all K scores, plain argmax) after each of 30
    SGD steps, on values with exact ties, through the intervals (on NumPy; a GPU streams over
    the options) and through the streamed factored form that keeps its options."""
    from slotnp.core.losses import softmax_cross_entropy
    nets_ = [small_net(K, "explicit"), small_net(K, "factored"),
             small_net(K, "factored", keep_options=True)]
    layers = [dict(net.named_layers()) for net in nets_]
    intervals = fast_slots.keeps_no_options("factored", "greedy", False, 2, K)
    assert intervals == (xp is np)
    assert (type(layers[1]["fc1"].slots) is IntervalSlots) == intervals
    assert type(layers[2]["fc1"].slots) is FactoredSlots
    optimizers = [SGD(net.params, lr=0.5, momentum=0.9, weight_decay=1e-3) for net in nets_]
    x = device(rng.standard_normal((8, 3, 8, 8)))
    labels = device(rng.integers(0, 10, 8))
    names = ("conv1", "fc1", "fc2")
    start = {name: backend.to_host(layers[0][name].selected()).copy() for name in names}
    for step in range(30):
        losses = []
        for net, optimizer in zip(nets_, optimizers):
            loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), labels)
            net.backward(dlogits)
            optimizer.step(net.grads, lr=2.0 / (1 + 0.1 * step))
            losses.append(float(loss))
        assert losses[0] == pytest.approx(losses[1], rel=1e-12), step
        assert losses[0] == pytest.approx(losses[2], rel=1e-12), step
        for name in names:
            expected = backend.to_host(layers[0][name].selected())
            for twin in layers[1:]:
                chosen = backend.to_host(twin[name].selected())
                assert np.array_equal(expected, chosen), (step, name)
                assert K == 2 or not (chosen == K - 1).any()     # a twin never beats its first
    for name in names:                                      # equal up to float64 rounding
        explicit = backend.to_host(layers[0][name].scores)
        for twin in layers[1:]:
            factored = backend.to_host(twin[name].scores)
            assert np.abs(factored - explicit).max() < 1e-13 * np.abs(explicit).max(), name
        moved = (backend.to_host(layers[0][name].selected()) != start[name]).mean()
        assert K == 2 or moved > 0.05, (name, moved)       # (at K = 2 both are twins)


def test_when_b_is_not_positive_the_scores_themselves_are_compared(xp, rng):
    layer = SlotLinear(20, 10, K=32, rng=5, dtype=F64)
    kept = SlotLinear(20, 10, K=32, rng=5, dtype=F64, keep_options=True)
    for b in (1.0, 0.0, -0.7, 1e-300, 2.0):          # 1e-300: a / b overflows to inf
        for twin in (layer, kept):
            twin.params["coef_options"][...] = device(np.linspace(-3, 3, 200).reshape(10, 20))
            twin.params["coef_initial"][...] = b
        expected = backend.to_host(kept.scores).argmax(axis=-1)
        assert np.array_equal(backend.to_host(layer.selected()), expected), b
        assert np.array_equal(backend.to_host(layer.weight()), backend.to_host(kept.weight()))


def test_a_net_without_options_in_memory_resumes_exactly(tmp_path):
    """The existing resume test's contract at K = 1024, through train.py."""
    import train
    flags = ["--net", "lenet", "--dataset", "synthetic", "--K", "1024", "--batch-size", "250",
             "--lr", "0.003",
             "--no-progress", "--epochs", "2"]
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    assert train.main(flags + ["--out", str(whole)]) == 0
    assert train.main(flags + ["--out", str(pieces), "--time-limit", "1e-6"]) == 0
    assert train.main(["--resume", "--out", str(pieces), "--no-progress"]) == 0
    import json
    rows = [[{k: v for k, v in json.loads(line).items() if k not in ("seconds", "train_seconds")}
             for line in open(folder / "metrics.jsonl")] for folder in (whole, pieces)]
    assert rows[0] == rows[1] and len(rows[0]) == 2
    assert fast_slots.INTERVALS_MIN_OPTIONS <= 1024


def test_a_run_saved_with_options_in_memory_resumes_in_interval_layers(tmp_path, monkeypatch):
    """Greedy layers at K < 16 kept their options until interval layers took every K: a run
    saved then (its digest is of all the options) resumes now, to the same metrics."""
    import json
    import train
    flags = ["--net", "lenet", "--dataset", "synthetic", "--K", "8", "--batch-size", "250",
             "--no-progress", "--epochs", "2"]
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    assert train.main(flags + ["--out", str(whole)]) == 0
    with monkeypatch.context() as before:
        before.setattr(fast_slots, "INTERVALS_MIN_OPTIONS", 16)
        assert train.main(flags + ["--out", str(pieces), "--time-limit", "1e-6"]) == 0
    from slotnp.run import checkpoint
    saved, now = (checkpoint.load(str(folder / "last.npz"))[0]["options_digest"]
                  for folder in (pieces, whole))
    assert saved != now                           # it was saved with its options in memory
    assert train.main(["--resume", "--out", str(pieces), "--no-progress"]) == 0
    rows = [[{k: v for k, v in json.loads(line).items() if k not in ("seconds", "train_seconds")}
             for line in open(folder / "metrics.jsonl")] for folder in (whole, pieces)]
    assert rows[0] == rows[1] and len(rows[0]) == 2
    kept = SlotLinear(30, 20, K=8, rng=0, keep_options=True)
    drawn = SlotLinear(30, 20, K=8, rng=0)
    assert type(drawn.slots) is IntervalSlots
    from slotnp.core import Sequential
    kept_net, drawn_net = Sequential([("fc", kept)]), Sequential([("fc", drawn)])
    digest = checkpoint.options_digest(drawn_net)
    assert digest != checkpoint.options_digest(kept_net)
    assert checkpoint.digest_matches(drawn_net, digest, checkpoint.options_digest(kept_net))
    other = Sequential([("fc", SlotLinear(30, 20, K=8, rng=1, keep_options=True))])
    assert not checkpoint.digest_matches(drawn_net, digest, checkpoint.options_digest(other))
