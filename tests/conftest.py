"""Shared fixtures: every engine test runs once per backend; cupy skips cleanly without a GPU.

tests/ mirrors the package: core/, slots/, fast/ (whose tests run with the fast twins switched
on, tests/fast/conftest.py), run/; the scripts' tests (train.py, sweep.py) and the README's and
the tour's sit here. naive.py holds the loop oracles."""
import os
import sys

import numpy as np
import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path[:0] = [ROOT, TESTS]

from slotnp import backend  # noqa: E402

from shared import BACKENDS  # noqa: E402


@pytest.fixture(params=BACKENDS)
def xp(request):
    """The array module of the backend under test (made active for the test's duration)."""
    backend.use(request.param)
    yield backend.xp()
    backend.use("numpy")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def twins_on():
    """The fast twins switched on for the test's duration."""
    from slotnp import fast
    with fast.on():
        yield
