"""SGD with momentum and weight decay (exact values), and the SGDR schedule."""
import math

import numpy as np
import pytest

from slotnp import backend
from slotnp.core.optim import SGD, ConstantRate, CosineWithRestarts


def test_sgd_momentum_weight_decay_exact_values(xp):
    param = xp.asarray([1.0, -2.0])
    sgd = SGD({"w": param}, lr=0.5, momentum=0.9, weight_decay=0.1)
    sgd.step({"w": xp.asarray([1.0, 1.0])})
    # v = g + 0.1 p = [1.1, 0.8]; p = p - 0.5 v = [0.45, -2.4]
    assert np.allclose(backend.to_host(param), [0.45, -2.4])
    sgd.step({"w": xp.asarray([0.0, 0.0])}, lr=1.0)
    # v = 0.9 [1.1, 0.8] + 0.1 [0.45, -2.4] = [1.035, 0.48]; p = [0.45 - 1.035, -2.4 - 0.48]
    assert np.allclose(backend.to_host(param), [-0.585, -2.88])
    assert np.allclose(sgd.state_dict()["w"], [1.035, 0.48])


def test_lr_scale_trains_an_array_at_its_own_rate_exactly(xp):
    """lr_scale {"b": 0.1}: b moves by 0.1 * lr * v, the rest by lr * v, with the same momentum
    and decay; a name that is not a param is refused."""
    params = {"w": xp.asarray([1.0, -2.0]), "b": xp.asarray([1.0, -2.0])}
    sgd = SGD(params, lr=0.5, momentum=0.9, weight_decay=0.1, lr_scale={"b": 0.1})
    for _ in range(2):
        sgd.step({"w": xp.asarray([1.0, 1.0]), "b": xp.asarray([1.0, 1.0])})
    # v1 = [1.1, 0.8]; w1 = [0.45, -2.4]; v2 = 0.9 v1 + 1 + 0.1 w1 = [2.035, 1.48]; w2 = w1 - 0.5 v2
    assert np.allclose(backend.to_host(params["w"]), [-0.5675, -3.14])
    # b1 = [0.945, -2.04]; v2 = [1.99 + 0.0945, 1.72 - 0.204]; b2 = b1 - 0.05 v2
    assert np.allclose(backend.to_host(params["b"]), [0.945 - 0.05 * 2.0845,
                                                      -2.04 - 0.05 * 1.516])
    with pytest.raises(ValueError, match="not params: \\['c'\\]"):
        SGD(params, lr=0.5, lr_scale={"c": 2.0})


def test_sgd_keeps_float32_and_round_trips_state(xp):
    param = xp.ones(3, dtype=np.float32)
    sgd = SGD({"a.scores": param}, lr=0.1)
    sgd.step({"a.scores": xp.ones(3, dtype=np.float32)})
    assert param.dtype == np.float32 and sgd.velocity["a.scores"].dtype == np.float32
    other = SGD({"a.scores": xp.ones(3, dtype=np.float32)}, lr=0.1)
    other.load_state_dict(sgd.state_dict())
    assert np.array_equal(backend.to_host(other.velocity["a.scores"]), sgd.state_dict()["a.scores"])
    with pytest.raises(ValueError, match="lacks"):
        other.load_state_dict({})


@pytest.mark.parametrize("name, value", [("lr", -0.1), ("momentum", float("nan")),
                                         ("weight_decay", -1)])
def test_sgd_rejects_bad_hyperparameters(name, value):
    with pytest.raises(ValueError, match=name):
        SGD({}, **{"lr": 0.1, name: value})


def test_cosine_schedule_with_restarts_at_25_and_75():
    schedule = CosineWithRestarts(0.2, total_epochs=200, restarts=(25, 75))
    assert schedule.lr(0) == pytest.approx(0.2)
    assert schedule.lr(12.5) == pytest.approx(0.1)
    assert schedule.lr(24.999) < 1e-6
    assert schedule.lr(25) == pytest.approx(0.2)                 # warm restart
    assert schedule.lr(50) == pytest.approx(0.1)
    assert schedule.lr(75) == pytest.approx(0.2)
    assert schedule.lr(137.5) == pytest.approx(0.1)
    assert schedule.lr(100) == pytest.approx(0.1 * (1 + math.cos(math.pi * 25 / 125)))


def test_schedule_ignores_restarts_past_the_end():
    schedule = CosineWithRestarts(1.0, total_epochs=10, restarts=(25, 75))
    assert schedule.lr(5) == pytest.approx(0.5)


def test_constant_rate_is_the_same_at_every_epoch():
    schedule = ConstantRate(0.1)
    assert [schedule.lr(epoch) for epoch in (0, 24.999, 25, 139.5)] == [0.1] * 4
