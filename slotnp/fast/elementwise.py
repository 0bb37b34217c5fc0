"""Fast twins of the layers that touch every value once (ReLU, max pooling), of the dense layer's
products and of the SGD update: the same operations on parts of the memory, one part per core
(threads.py). NumPy runs each elementwise loop on one core; these keep both busy. They, and
flatten's gradient, keep each gradient in its activation's memory order (batch innermost between
the convolutions, batch_inner.py), so that elementwise work on the two runs along contiguous
memory.

Every twin computes exactly what its plain piece computes, value for value (the same float
operations on the same values; the dense layer's products up to the order in which BLAS adds
each sum, which it may choose by the shape of the part). One exception: where a pooling
window holds a NaN, the NumPy max-pool twin (first_argmax, argmax.py) outputs the NaN, as the
plain layer does, but sends the gradient to another tap; the compiled kernel
(pooling_compiled.py) matches the plain layer there too. Each declines (returns None) where
its parts would not be plain blocks of memory, and the plain piece runs.
tests/fast/test_elementwise.py compares each with its plain piece.
"""
from types import SimpleNamespace

import numpy as np

from ..core import backend, twins
from . import threads
from .argmax import first_argmax

LARGE_PRODUCT = 1 << 20   # a dense layer's weights from which its products go by halves
# (CONV-2's fc1, 256 x 16384, batch 128, alone: forward and backward 8.7 + 22.8 ms by halves
# of the batch, the halves' weight gradients then added; 6.7 + 18.0 ms by halves of the output
# features. Within a training step, `bench/profile_step.py conv2 K8`: 1.7-3.3 ms less.)
# The SGD update's four passes go chunk by chunk, each chunk's three arrays (1.5 MB) in a
# core's cache: VGG-19's 21 M weights on both cores, 25.0 -> 21.1 ms (2^15: 31.7, the helper
# threads then wait on each other for Python's lock; 2^18: 23.1).
SGD_CHUNK = 1 << 17


def outermost_first(strides):
    """The axes in their memory order: the largest stride (outermost) first."""
    return sorted(range(len(strides)), key=lambda axis: -strides[axis])


def in_memory_order(make, shape, strides, dtype):
    """make(...) of `shape` with its axes laid out in memory in the order that `strides` has
    them, largest outermost (a gradient in its activation's memory order)."""
    order = outermost_first(strides)
    memory = make(tuple(shape[axis] for axis in order), dtype=dtype)
    return memory.transpose([order.index(axis) for axis in range(len(shape))])


def memory_order(array):
    """(axes, view): `array` transposed so that its axes run from outermost to innermost in
    memory."""
    axes = outermost_first(array.strides)
    return axes, array.transpose(axes)


def in_blocks(work, *arrays):
    """work(*blocks) on consecutive blocks of the outermost axis in memory of `arrays` (one
    shape, one memory order), one block per core. False where their orders differ."""
    views = [memory_order(a) for a in arrays]
    if any(axes != views[0][0] for axes, _ in views):
        return False
    views = [view for _, view in views]
    threads.in_parts(np, lambda a, b: work(*(v[a:b] for v in views)), len(views[0]),
                     views[0][0].size if views[0].ndim else 1)
    return True


# ---- ReLU ---------------------------------------------------------------------------------------

def relu_forward(layer, x, train):
    """y = max(x, 0) and (training) the mask x > 0, block by block."""
    if backend.xp_of(x) is not np:
        return None
    y = in_memory_order(np.empty, x.shape, x.strides, x.dtype)
    mask = in_memory_order(np.empty, x.shape, x.strides, bool) if train else None
    zero = x.dtype.type(0)

    def work(xs, ys, *masks):
        np.maximum(xs, zero, out=ys)
        if masks:
            np.greater(xs, zero, out=masks[0])
    if not in_blocks(work, x, y, *([mask] if train else [])):
        return None
    layer.mask = mask
    return y


def relu_backward(layer, dout):
    """dx = dout * mask, block by block."""
    if backend.xp_of(dout) is not np or layer.mask is None:
        return None
    dx = in_memory_order(np.empty, dout.shape, dout.strides, dout.dtype)
    done = in_blocks(lambda d, m, out: np.multiply(d, m, out=out), dout, layer.mask, dx)
    return dx if done else None


# ---- Max pooling --------------------------------------------------------------------------------

def pooled_axis(x):
    """The batch or channel axis, whichever is outermost in memory (blocks of it are blocks of
    memory), or None when a spatial axis is."""
    outermost = max(range(4), key=lambda axis: x.strides[axis])
    return outermost if outermost in (0, 1) else None


def part(axis, start, stop):
    return (slice(None),) * axis + (slice(start, stop),)


_compiled_pooling = None   # compiled max pooling, where one has registered


def register_compiled_pooling(kernels):
    """Offer compiled max pooling (a module with pool_forward and pool_backward) for
    batch-innermost memory."""
    global _compiled_pooling
    _compiled_pooling = kernels


def tiles_by_windows(layer, x_shape, out_sides):
    """Whether the windows tile the input x_shape (N, C, H, W) into (OH, OW) = out_sides:
    window = stride, and no row or column left over."""
    (kh, kw), s = layer.kernel_size, layer.stride
    OH, OW = out_sides
    return s == kh == kw and tuple(x_shape[2:]) == (s * OH, s * OW)


def batch_innermost(array):
    """array (N, C, H, W) as its (C, H, W, N) memory, or None where that is not C order."""
    view = array.transpose(1, 2, 3, 0)
    return view if view.flags.c_contiguous else None


def compiled_maxpool_forward(layer, x, train):
    """The compiled forward where x is batch-innermost and the windows tile it, else None."""
    OH, OW = layer._geometry(x)
    x4 = batch_innermost(x)
    if x4 is None or not tiles_by_windows(layer, x.shape, (OH, OW)) or \
            layer.stride ** 2 > 256:                       # the taps' index is one byte
        return None
    C, N = x4.shape[0], x4.shape[3]
    y = np.empty((C, OH, OW, N), dtype=x.dtype)
    index = np.empty((C, OH, OW, N), dtype=np.uint8)
    threads.in_parts(np, lambda c0, c1: _compiled_pooling.pool_forward(
        x4, layer.stride, y, index, c0, c1), C, y.size // C)
    layer.argmax = index.transpose(3, 0, 1, 2) if train else None
    return y.transpose(3, 0, 1, 2)


def compiled_maxpool_backward(layer, dout):
    """The compiled backward where dout and the taps are batch-innermost, else None."""
    d4, index4 = batch_innermost(dout), batch_innermost(layer.argmax)
    if d4 is None or index4 is None or index4.dtype != np.uint8 or \
            not tiles_by_windows(layer, layer.x_shape, dout.shape[2:]):
        return None
    C, OH, OW, N = d4.shape
    s = layer.stride
    dx = np.empty((C, s * OH, s * OW, N), dtype=dout.dtype)
    threads.in_parts(np, lambda c0, c1: _compiled_pooling.pool_backward(
        d4, index4, s, dx, c0, c1), C, dx.size // C)
    return dx.transpose(3, 0, 1, 2)


def maxpool_forward(layer, x, train):
    """The plain forward on blocks of the batch or channel axis, one per core (compiled where
    registered and x is batch-innermost)."""
    axis = pooled_axis(x)
    if backend.xp_of(x) is not np or axis is None:
        return None
    if _compiled_pooling is not None:
        y = compiled_maxpool_forward(layer, x, train)
        if y is not None:
            return y
    OH, OW = layer._geometry(x)
    taps = list(layer._taps(OH, OW))
    y = np.empty_like(x[taps[0]])                          # x's memory order
    index = in_memory_order(np.empty, y.shape, y.strides,
                            np.min_scalar_type(len(taps) - 1)) if train else None

    def work(start, stop):
        block = part(axis, start, stop)
        windows = [x[block][tap] for tap in taps]
        if train:
            y[block], index[block], _ = first_argmax(windows)
        else:                                              # the maxima alone
            y[block] = windows[0]
            for window in windows[1:]:
                np.maximum(y[block], window, out=y[block])
    threads.in_parts(np, work, x.shape[axis], y.size // x.shape[axis])
    layer.argmax = index
    return y


def maxpool_backward(layer, dout):
    """The plain backward, where the windows tile x, on blocks, one per core."""
    OH, OW = dout.shape[2:]
    axis = pooled_axis(layer.argmax)
    if backend.xp_of(dout) is not np or axis is None or not \
            tiles_by_windows(layer, layer.x_shape, (OH, OW)):
        return None
    if _compiled_pooling is not None:
        dx = compiled_maxpool_backward(layer, dout)
        if dx is not None:
            return dx
    dx = in_memory_order(np.empty, layer.x_shape, layer.x_strides, dout.dtype)
    taps = list(layer._taps(OH, OW))

    def work(start, stop):
        block = part(axis, start, stop)
        for t, tap in enumerate(taps):
            np.multiply(dout[block], layer.argmax[block] == t, out=dx[block][tap])
    threads.in_parts(np, work, dout.shape[axis], dout.size // dout.shape[axis])
    return dx


# ---- Flatten ------------------------------------------------------------------------------------

def flatten_backward(layer, dout):
    """dx: dout reshaped, copied into the memory order of Flatten's input (one copy, in blocks
    of that memory, one per core); None where that order is C order, which the plain reshape
    gives for free."""
    strides = list(layer.x_strides)
    if backend.xp_of(dout) is not np or strides == sorted(strides, reverse=True):
        return None
    dx = in_memory_order(np.empty, layer.x_shape, layer.x_strides, dout.dtype)
    axes, memory = memory_order(dx)
    source = dout.reshape(layer.x_shape).transpose(axes)
    threads.in_parts(np, lambda a, b: np.copyto(memory[a:b], source[a:b]), len(memory),
                     memory[0].size)
    return dx


# ---- The dense layer's products, by halves of the output features -------------------------------

def linear_forward(layer, x, w):
    """y = x w^T, each core computing half of the output features (rows of y^T = w x^T) for
    the whole batch, so each product keeps the batch whole (large layers only; x in C order,
    or in F order as Flatten hands on batch-innermost memory: either is one BLAS operand).
    y comes back in F order, a view of y^T; the layers after it take either order."""
    if backend.xp_of(x) is not np or w.size < LARGE_PRODUCT or not \
            (x.flags.c_contiguous or x.flags.f_contiguous):
        return None
    y_t = np.empty((w.shape[0], x.shape[0]), dtype=np.result_type(x, w))
    threads.side_by_side(np, lambda a, b: np.matmul(w[a:b], x.T, out=y_t[a:b]),
                         threads.batch_parts(np, len(w)))
    return y_t.T


def linear_backward(layer, dout, x, w, input_grad=True):
    """(dW, dx): each core takes half of dW's rows (summed over the whole batch: no halves to
    add) and half of the batch's dx (None without input_grad)."""
    if backend.xp_of(dout) is not np or w.size < LARGE_PRODUCT:
        return None
    dw = np.empty(w.shape, dtype=np.result_type(dout, x))
    threads.side_by_side(np, lambda a, b: np.matmul(dout[:, a:b].T, x, out=dw[a:b]),
                         threads.batch_parts(np, len(w)))
    if not input_grad:
        return dw, None
    dx = np.empty((len(x), w.shape[1]), dtype=np.result_type(dout, w))
    threads.side_by_side(np, lambda a, b: np.matmul(dout[a:b], w, out=dx[a:b]),
                         threads.batch_parts(np, len(x)))
    return dw, dx


# ---- SGD ----------------------------------------------------------------------------------------

def sgd_step(optimizer, grads, lr):
    """SGD.step's update of every array, in blocks of memory, one per core; the same float
    operations in the same order. False (the plain step runs) where an array is not one
    contiguous block."""
    arrays = [(optimizer.params[n], optimizer.velocity[n], grads[n],
               lr * optimizer.lr_scale.get(n, 1.0)) for n in optimizer.params]
    if any(backend.xp_of(p) is not np or not all(a.flags.c_contiguous for a in (p, v, g))
           or g.shape != p.shape for p, v, g, _ in arrays):
        return False
    momentum, decay = optimizer.momentum, optimizer.weight_decay
    for param, velocity, grad, rate in arrays:
        flat = [a.reshape(-1) for a in (param, velocity, grad)]

        def work(a, b, p=flat[0], v=flat[1], g=flat[2], rate=rate):
            for start in range(a, b, SGD_CHUNK):       # each chunk's four passes in cache
                part = slice(start, min(start + SGD_CHUNK, b))
                v[part] *= momentum
                v[part] += g[part]
                if decay:
                    v[part] += decay * p[part]
                p[part] -= rate * v[part]
        threads.in_parts(np, work, param.size)
    return True


twins.register("relu", SimpleNamespace(forward=relu_forward, backward=relu_backward))
twins.register("maxpool", SimpleNamespace(forward=maxpool_forward, backward=maxpool_backward))
twins.register("linear", SimpleNamespace(forward=linear_forward, backward=linear_backward))
twins.register("flatten", SimpleNamespace(backward=flatten_backward))
twins.register("sgd", sgd_step)
