"""The one place that chooses the array module: NumPy on the CPU or CuPy on the GPU.

Layers never import cupy: they ask their input (`xp = backend.xp_of(x)`), so the same code runs
on both devices. The CLI picks one with `use("numpy")` or `use("cupy")`.
"""
import numpy

_name = "numpy"
_xp = numpy
_cupy = None    # the cupy module once `use("cupy")` has succeeded
_others = {}    # name -> another array module that registered itself (run/counting.py)


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


def _import_cupy():
    install = ("install the GPU extra (`pip install -r requirements-gpu.txt`) or use "
               "--backend numpy")
    try:
        import cupy
    except ImportError as error:
        raise BackendError(f"CuPy is not installed, so --backend cupy cannot run: {install} "
                           f"({error})") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError, or a missing driver library
        raise BackendError(f"CuPy is installed but no CUDA GPU is usable ({error}): check the "
                           "driver with `nvidia-smi`, or use --backend numpy") from None
    if count == 0:
        raise BackendError("CuPy is installed but no CUDA GPU is visible; use --backend numpy")
    try:   # NVRTC (kernel compilation), cuBLAS and cuRAND load on first use: use them now
        a = cupy.arange(4, dtype=cupy.float32)
        float((a @ a) + cupy.exp(a).sum() + cupy.random.RandomState(0).random_sample(1).sum())
    except Exception as error:
        raise BackendError(f"CuPy sees a GPU but cannot run on it ({type(error).__name__}: "
                           f"{error}): its CUDA libraries (NVRTC, cuBLAS, cuRAND) are missing "
                           f"or do not match; {install}") from None
    return cupy


def use(name):
    """Choose the array module from now on: "numpy", "cupy", or a registered one."""
    global _name, _xp, _cupy
    if name == "numpy":
        _name, _xp = "numpy", numpy
    elif name == "cupy":
        _cupy = _import_cupy()
        _name, _xp = "cupy", _cupy
    elif name in _others:
        _name, _xp = name, _others[name].module
    else:
        raise BackendError(f"unknown backend {name!r}; choose 'numpy' or 'cupy'")


def register(name, other):
    """Offer another array module under `name` (run/counting.py): `other` has `module` (with
    `asnumpy`), `Array` (its array type), and `Generator(seed)` with `random(shape, dtype)`."""
    _others[name] = other


def name():
    """The name of the active backend: "numpy", "cupy" or a registered one."""
    return _name


def xp():
    """The active array module (numpy or cupy)."""
    return _xp


def cupy_available():
    """True when CuPy imports and runs on a GPU (never raises)."""
    try:
        _import_cupy()
        return True
    except BackendError:
        return False


def xp_of(array):
    """The array module an array belongs to: cupy's or a registered one's, else numpy."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    return next((o.module for o in _others.values() if isinstance(array, o.Array)), numpy)


def to_device(array):
    """Copy a host array onto the active device (no copy on the numpy backend)."""
    return _xp.asarray(array)


def to_host(array):
    """A NumPy copy of any array (no copy for NumPy arrays)."""
    xp = xp_of(array)
    return numpy.asarray(array) if xp is numpy else xp.asnumpy(array)


def read(value):
    """A 0-d array's value as a Python number (on CuPy, waits for the device)."""
    host = to_host(value)
    return host.item() if host.ndim == 0 else host


def sync():
    """Wait for the device to finish queued work (a no-op on the CPU)."""
    if _name == "cupy":
        _cupy.cuda.get_current_stream().synchronize()


def random_generator(seed):
    """A generator on the active device for run-time randomness (dropout, sampled slots);
    initial values are drawn on the host instead (init.py)."""
    if _name == "cupy":
        return _cupy.random.RandomState(seed)
    if _name in _others:
        return _others[_name].Generator(seed)
    return numpy.random.default_rng(seed)


def uniform(generator, shape, dtype):
    """U[0, 1) samples of `dtype` from a generator made by `random_generator`."""
    if isinstance(generator, numpy.random.Generator):
        return generator.random(shape, dtype=dtype)
    if any(isinstance(generator, other.Generator) for other in _others.values()):
        return generator.random(shape, dtype)
    return generator.random_sample(shape, dtype=dtype)
