"""A counting stand-in for CuPy, for machines without a GPU: NumPy underneath, counting what
would cost on a GPU.

  from slotnp.run import counting   # registers the backend "counting"
  backend.use("counting")           # arrays made from now on are counting.Array
  ... a training step ...
  counting.counts.ops, counting.counts.reads

Every array operation that would be a kernel launch on a GPU counts in `ops` (by name): each
ufunc call or reduction, each gather, scatter or copy, each allocation that fills memory. Views
(reshape, transpose, slicing) are free, as on a GPU. Every read of a value back to the host
counts in `reads`: float(), int(), bool() of an array, .item(), .tolist(), to_host(), and the
functions whose result size depends on the data (nonzero, unique, boolean-mask indexing), which
wait for the device on CuPy. The code takes CuPy's paths, since this module is not numpy
(`xp is numpy` is False): one part per `in_parts`, the GPU's choices of convolution and
selection. bench/op_count.py and tests/fast/test_gpu_paths.py use it.
"""
import collections
import sys

import numpy

from ..core import backend

# numpy functions that only make views or read metadata: no kernel
VIEWS = {"reshape", "transpose", "moveaxis", "swapaxes", "broadcast_to", "expand_dims",
         "squeeze", "result_type", "may_share_memory", "shares_memory", "ndim", "shape",
         "empty", "empty_like", "atleast_1d", "can_cast", "iscomplexobj", "isscalar",
         "min_scalar_type", "dtype", "promote_types"}
# functions whose results wait for the device (their size or value is needed on the host)
READS = {"nonzero", "flatnonzero", "argwhere", "unique", "array_equal", "allclose",
         "array_equiv", "count_nonzero", "asnumpy"}


class Counts:
    """ops and reads, each a Counter by operation name."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.ops, self.reads = collections.Counter(), collections.Counter()

    def total(self):
        return sum(self.ops.values()), sum(self.reads.values())


counts = Counts()


def _plain(value):
    """Counting arrays inside `value` (arrays, lists, tuples, dicts) as plain numpy arrays."""
    if isinstance(value, Array):
        return value.view(numpy.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _wrap(value):
    """numpy arrays (and numpy scalars, as 0-d arrays, as CuPy gives them) as counting arrays."""
    if isinstance(value, numpy.ndarray) and not isinstance(value, Array):
        return value.view(Array)
    if isinstance(value, numpy.generic):
        return numpy.asarray(value).view(Array)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _count(name):
    if name in READS:
        counts.reads[name] += 1
    elif name not in VIEWS:
        counts.ops[name] += 1


def _read(name):
    counts.reads[name] += 1


class Array(numpy.ndarray):
    """An array of the counting backend: a numpy array that counts what it is asked to do."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        counts.ops[ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"] += 1
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _plain(out)
        result = getattr(ufunc, method)(*_plain(inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        _count(func.__name__)
        return _wrap(func(*_plain(args), **_plain(kwargs)))

    def __getitem__(self, key):
        plain = _plain(key)
        keys = plain if isinstance(plain, tuple) else (plain,)
        arrays = [k for k in keys if isinstance(k, numpy.ndarray)]
        if any(k.dtype == bool for k in arrays):
            _read("boolean index")                        # its size depends on the data
        if arrays:
            counts.ops["gather"] += 1
        return _wrap(self.view(numpy.ndarray)[plain])

    def __setitem__(self, key, value):
        counts.ops["scatter" if any(isinstance(k, numpy.ndarray) for k in (
            _plain(key) if isinstance(key, tuple) else (_plain(key),))) else "copy"] += 1
        self.view(numpy.ndarray)[_plain(key)] = _plain(value)

    # reads back to the host
    def __float__(self):
        _read("float")
        return float(self.view(numpy.ndarray))

    def __int__(self):
        _read("int")
        return int(self.view(numpy.ndarray))

    def __index__(self):
        _read("index")
        return self.view(numpy.ndarray).__index__()

    def __bool__(self):
        _read("bool")
        return bool(self.view(numpy.ndarray))

    def item(self, *args):
        _read("item")
        return self.view(numpy.ndarray).item(*args)

    def tolist(self):
        _read("tolist")
        return self.view(numpy.ndarray).tolist()



def _counted_method(name):
    """An ndarray method numpy runs without dispatching to Array's overrides, counted."""
    def method(self, *args, **kwargs):
        _count(name)
        return _wrap(getattr(self.view(numpy.ndarray), name)(*_plain(args), **_plain(kwargs)))
    method.__name__ = name
    return method


for _name in ("argmax", "argmin", "astype", "copy", "take", "nonzero", "argpartition", "sort",
              "argsort", "fill", "cumsum", "repeat", "clip"):
    setattr(Array, _name, _counted_method(_name))


class Module:
    """The counting array module: numpy's names, counting each call and giving Arrays."""

    ndarray = Array
    __name__ = "slotnp.counting"

    def __getattr__(self, name):
        value = getattr(numpy, name)
        if isinstance(value, numpy.ufunc):
            return value                         # dispatches to Array.__array_ufunc__
        if not callable(value) or isinstance(value, type):
            return value                         # constants, dtypes, classes

        def call(*args, **kwargs):
            _count(name)
            return _wrap(value(*_plain(args), **_plain(kwargs)))
        call.__name__ = name
        return call

    def asarray(self, value, dtype=None, order=None):
        """Upload (host arrays) or pass through (counting arrays): an upload is not a read."""
        if isinstance(value, Array) and (dtype is None or value.dtype == dtype):
            return value
        counts.ops["upload" if not isinstance(value, Array) else "astype"] += 1
        return numpy.asarray(_plain(value), dtype=dtype, order=order).view(Array)

    def asnumpy(self, value):
        _read("to_host")
        return numpy.array(_plain(value))


module = Module()


class Generator:
    """Run-time randomness of the counting backend (backend.random_generator): numpy's, each
    draw one operation."""

    def __init__(self, seed):
        self.generator = numpy.random.default_rng(seed)

    def random(self, shape, dtype):
        counts.ops["random"] += 1
        return self.generator.random(shape, dtype=dtype).view(Array)


backend.register("counting", sys.modules[__name__])
