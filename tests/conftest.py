"""Shared fixtures: every engine test runs once per backend; cupy skips cleanly without a GPU."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slotnp import backend  # noqa: E402

HAS_GPU = backend.cupy_available()
BACKENDS = ["numpy", pytest.param("cupy", marks=pytest.mark.skipif(
    not HAS_GPU, reason="CuPy with a visible GPU is not available"))]


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module of the backend under test (made active for the test's duration)."""
    backend.use(request.param)
    yield backend.xp()
    backend.use("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
