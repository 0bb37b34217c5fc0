"""The backend switch: names, errors, host/device round trips, no cupy import in layer code."""
import pathlib

import numpy as np
import pytest

from slotnp import backend

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(backend.BackendError, match="choose 'numpy' or 'cupy'"):
        backend.use("torch")


def test_cupy_without_gpu_names_the_missing_piece(monkeypatch):
    if backend.cupy_available():
        pytest.skip("a GPU is present")
    with pytest.raises(backend.BackendError, match="CuPy|GPU"):
        backend.use("cupy")
    assert backend.name() == "numpy"


def test_round_trip_and_array_module(xp):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    on_device = backend.to_device(a)
    assert backend.xp_of(on_device) is xp
    assert np.array_equal(backend.to_host(on_device), a)
    backend.sync()


def test_random_generator_is_seeded(xp):
    first = backend.uniform(backend.random_generator(3), (5,), np.float32)
    again = backend.uniform(backend.random_generator(3), (5,), np.float32)
    assert first.dtype == np.float32 and np.array_equal(backend.to_host(first), backend.to_host(again))


def test_only_backend_imports_cupy():
    importers = [p.relative_to(ROOT).as_posix() for p in (ROOT / "slotnp").rglob("*.py")
                 if "import cupy" in p.read_text()]
    assert importers == ["slotnp/backend.py"]


@pytest.mark.parametrize("length, per_item, cores, expected_parts", [
    (10, 1, 4, 1),                        # too little work to split
    (1000, 1 << 16, 4, 4),                # one part per core
    (3, 1 << 20, 8, 3),                   # never more parts than items
])
def test_in_parts_covers_every_item_once(monkeypatch, length, per_item, cores,
                                         expected_parts):
    monkeypatch.setattr(backend, "CPU_CORES", cores)
    monkeypatch.setattr(backend, "_threads", None)
    seen, parts = np.zeros(length, dtype=int), []

    def work(start, stop):
        parts.append((start, stop))
        seen[start:stop] += 1

    backend.in_parts(np, work, length, per_item)
    assert len(parts) == expected_parts
    assert seen.tolist() == [1] * length


def test_in_parts_passes_on_a_part_error(monkeypatch):
    monkeypatch.setattr(backend, "CPU_CORES", 2)

    def work(start, stop):
        if start > 0:
            raise ValueError("bad part")

    with pytest.raises(ValueError, match="bad part"):
        backend.in_parts(np, work, 4, 1 << 16)
