"""The backend switch: names, errors, host/device round trips, no cupy import in layer code."""


import pathlib


import sys


import numpy as np


import pytest


from slotnp import backend


ROOT = pathlib.Path(__file__).resolve().parents[2]


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
    assert importers == ["slotnp/core/backend.py"]


def test_cupy_that_cannot_run_kernels_is_one_clear_error(monkeypatch):
    """A driver but no CUDA libraries: getDeviceCount works, the first kernel does not."""
    import types
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))

    def no_nvrtc(*args, **kwargs):
        raise RuntimeError("libnvrtc.so.12: cannot open shared object file")
    fake.arange, fake.float32 = no_nvrtc, np.float32
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(backend.BackendError, match="NVRTC, cuBLAS, cuRAND.*--backend numpy"):
        backend.use("cupy")
    assert backend.name() == "numpy"
