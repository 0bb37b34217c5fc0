"""Every test of a fast twin runs with the twins switched on."""
import pytest


@pytest.fixture(autouse=True)
def _twins_on(twins_on):
    yield
