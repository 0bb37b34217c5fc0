"""The one place that chooses the array module: NumPy on the CPU or CuPy on the GPU.

Layers never import cupy. They ask the array they were given which module it belongs to
(`xp = backend.xp_of(x)`), so the same code runs on both devices. The CLI picks the device
once with `use("numpy")` or `use("cupy")`; `to_device` then moves host arrays there.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy

_name = "numpy"
_xp = numpy
_cupy = None  # the cupy module once `use("cupy")` has succeeded
_counting = None  # slotnp.counting once `use("counting")` has run


class BackendError(RuntimeError):
    """The requested backend cannot be used on this machine."""


def _import_cupy():
    try:
        import cupy
    except ImportError as error:
        raise BackendError(
            "CuPy is not installed, so --backend cupy cannot run. Install the GPU extra with "
            "`pip install -r requirements-gpu.txt` (a CuPy build matching your CUDA), "
            f"or use --backend numpy. ({error})") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CUDARuntimeError, or a missing driver library
        raise BackendError(
            f"CuPy is installed but no CUDA GPU is usable ({error}). Check the NVIDIA driver "
            "with `nvidia-smi`, or use --backend numpy.") from None
    if count == 0:
        raise BackendError("CuPy is installed but no CUDA GPU is visible; use --backend numpy.")
    try:   # NVRTC (kernel compilation), cuBLAS and cuRAND load on first use: use them now
        a = cupy.arange(4, dtype=cupy.float32)
        float((a @ a) + cupy.exp(a).sum() + cupy.random.RandomState(0).random_sample(1).sum())
    except Exception as error:
        raise BackendError(
            f"CuPy sees a GPU but cannot run on it ({type(error).__name__}: {error}). The CUDA "
            "libraries CuPy needs (NVRTC, cuBLAS, cuRAND) are missing or do not match: install "
            "the GPU extra with its toolkit (`pip install -r requirements-gpu.txt`), or use "
            "--backend numpy.") from None
    return cupy


def use(name):
    """Choose the array module for everything created from now on: "numpy", "cupy", or
    "counting" (NumPy counting what a GPU would do, for tests and bench/op_count.py)."""
    global _name, _xp, _cupy, _counting
    if name == "numpy":
        _name, _xp = "numpy", numpy
    elif name == "cupy":
        _cupy = _import_cupy()
        _name, _xp = "cupy", _cupy
    elif name == "counting":
        from . import counting
        _counting = counting
        _name, _xp = "counting", counting.module
    else:
        raise BackendError(f"unknown backend {name!r}; choose 'numpy' or 'cupy'")


def name():
    """The name of the active backend: "numpy" or "cupy"."""
    return _name


def xp():
    """The active array module (numpy or cupy)."""
    return _xp


def cupy_available():
    """True when CuPy imports and sees at least one GPU (never raises)."""
    try:
        _import_cupy()
        return True
    except BackendError:
        return False


def xp_of(array):
    """The array module an array belongs to: cupy for a cupy array, numpy otherwise."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy
    if _counting is not None and isinstance(array, _counting.Array):
        return _counting.module
    return numpy


def to_device(array):
    """Copy a host array onto the active device (no copy on the numpy backend)."""
    return _xp.asarray(array)


def to_host(array):
    """A NumPy copy of any array (no copy for NumPy arrays): every read of device values back
    to the host goes through here or `read`."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return _cupy.asnumpy(array)
    if _counting is not None and isinstance(array, _counting.Array):
        return _counting.module.asnumpy(array)
    return numpy.asarray(array)


def read(value):
    """A 0-d array's value as a Python number (bool, int or float): a device-to-host read that
    waits for the device on CuPy; the engine reads values through here only."""
    host = to_host(value)
    return host.item() if host.ndim == 0 else host


def sync():
    """Wait for the device to finish queued work (a no-op on the CPU)."""
    if _name == "cupy":
        _cupy.cuda.get_current_stream().synchronize()


def random_generator(seed):
    """A generator on the active device for run-time randomness (dropout, sampled slots).

    Initial values are drawn on the host instead (see `slotnp.init`), so that one seed gives
    the same network on both backends.
    """
    if _name == "cupy":
        return _cupy.random.RandomState(seed)
    if _name == "counting":
        return _counting.Generator(seed)
    return numpy.random.default_rng(seed)


def uniform(generator, shape, dtype):
    """U[0, 1) samples of `dtype` from a generator made by `random_generator`."""
    if isinstance(generator, numpy.random.Generator):
        return generator.random(shape, dtype=dtype)
    if _counting is not None and isinstance(generator, _counting.Generator):
        return generator.random(shape, dtype)
    return generator.random_sample(shape, dtype=dtype)


def _cpu_cores():
    """The cores this process may use: its CPU affinity, capped by OMP_NUM_THREADS when set
    (so that runs side by side, each given a share of the cores, keep to their share)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        return max(1, min(cores or 1, int(os.environ.get("OMP_NUM_THREADS", ""))))
    except ValueError:
        return cores or 1


CPU_CORES = _cpu_cores()
MIN_PART_VALUES = 1 << 16  # smaller parts cost more in hand-off than a second core gains
_threads = None
threaded = True   # False: in_parts does every part on the calling thread (plain mode)


def in_parts(xp, work, length, values_per_item=1):
    """Call work(start, stop) on consecutive parts of range(length), the parts at once.

    NumPy runs an elementwise loop on one core but releases the GIL inside it, so on the CPU
    each core takes one part on a thread (a part is at least MIN_PART_VALUES values; the
    parts must not write to the same memory). On CuPy there is one part: the GPU is parallel
    already.
    """
    parts = 1
    if xp is numpy and threaded:
        parts = max(1, min(CPU_CORES or 1, length, length * values_per_item // MIN_PART_VALUES))
    bounds = [length * i // parts for i in range(parts + 1)]
    side_by_side(xp, work, list(zip(bounds, bounds[1:])))


# ---- Two halves of a batch side by side ---------------------------------------------------------

BATCH_PARTS = 2   # the CPU convolutions cut every batch into this many parts, whatever the cores


def batch_parts(xp, n):
    """[(start, stop), ...]: the parts of a batch of n that the convolutions work on apart.

    On the CPU always BATCH_PARTS of them, however many cores there are, so that the sums
    over the batch (a weight gradient: one per part, then added in order) come out the same
    on one core as on two. On a GPU, one: the whole batch is one large operation."""
    parts = BATCH_PARTS if xp is numpy and n >= BATCH_PARTS else 1
    return [(n * i // parts, n * (i + 1) // parts) for i in range(parts)]


def side_by_side(xp, work, parts):
    """work(start, stop) for every (start, stop) of `parts`, each on its own core where there
    are enough, else one after another. The parts must not write to the same memory."""
    if xp is not numpy or not threaded or len(parts) == 1 or CPU_CORES < len(parts):
        for start, stop in parts:
            work(start, stop)
        return
    for part in [_pool().submit(work, start, stop) for start, stop in parts]:
        part.result()


def _pool():
    """The helper threads, one per core. From their first use on, BLAS runs each product on
    CPU_CORES // BATCH_PARTS threads (one, on 2 cores): the cores are slotnp's to share out.
    BLAS threads left idle by a product keep spinning for a while (OpenBLAS: about 0.1 s),
    which took a core from the halves that ran next and made them no faster than one."""
    global _threads
    if _threads is None:
        _limit_blas_threads(max(1, CPU_CORES // BATCH_PARTS))
        _threads = ThreadPoolExecutor(CPU_CORES, thread_name_prefix="slotnp")
    return _threads


def _limit_blas_threads(count):
    """Make BLAS use at most `count` threads from now on (through threadpoolctl, where it is
    installed; without it, BLAS keeps its own count)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=count, user_api="blas")
