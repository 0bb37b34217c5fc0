"""Softmax cross-entropy: value against a loop oracle, gradient check, stability, dtype."""
import math

import numpy as np
import pytest

from slotnp import backend
from slotnp.core.losses import softmax_cross_entropy
from slotnp.core.gradcheck import numerical_gradient, rel_error
import naive


def test_value_and_gradient(xp, rng):
    logits = backend.to_device(rng.standard_normal((5, 7)))
    labels = backend.to_device(rng.integers(0, 7, 5))
    loss, dlogits = softmax_cross_entropy(logits, labels)
    expected = naive.softmax_cross_entropy(backend.to_host(logits), backend.to_host(labels))
    assert abs(float(loss) - expected) < 1e-12
    numeric = numerical_gradient(lambda: float(softmax_cross_entropy(logits, labels)[0]), logits)
    assert rel_error(dlogits, numeric) < 1e-7


def test_exact_value_for_uniform_logits(xp):
    loss, dlogits = softmax_cross_entropy(xp.zeros((2, 10), np.float32), xp.asarray([3, 7]))
    assert abs(float(loss) - math.log(10)) < 1e-6
    assert float(dlogits[0, 3]) == pytest.approx((0.1 - 1) / 2)


def test_large_logits_stay_finite_and_float32(xp):
    logits = xp.asarray([[1e4, -1e4, 0.0], [-3e4, 3e4, 1.0]], dtype=np.float32)
    loss, dlogits = softmax_cross_entropy(logits, xp.asarray([0, 0]))
    assert loss.dtype == dlogits.dtype == np.float32
    assert float(loss) == pytest.approx(6e4 / 2, rel=1e-6)
    assert bool(xp.isfinite(dlogits).all())


def test_bad_shapes_give_clear_errors():
    with pytest.raises(ValueError, match="logits must have shape"):
        softmax_cross_entropy(np.zeros(10), np.zeros(10, int))
    with pytest.raises(ValueError, match="labels must be integers"):
        softmax_cross_entropy(np.zeros((4, 10)), np.zeros(3, int))
    with pytest.raises(ValueError, match="labels must be integers"):
        softmax_cross_entropy(np.zeros((4, 10)), np.zeros(4))
