"""The fast twin of Conv2d (slotnp/fast/convolution.py): Winograd and batch-innermost im2col,
against the plain im2col path and the loop oracles, by float64 gradient checks, both backends."""
import numpy as np
import pytest

from shared import CONV_CASES, batch_innermost, conv_matches_the_loop_oracle
from slotnp import backend
from slotnp.core import Conv2d, twins
from slotnp.core.gradcheck import check_layer
from slotnp.fast import batch_inner, convolution, winograd
from slotnp.run import counting  # noqa: F401  (registers the "counting" backend)

F64 = np.float64


def device(a):
    return backend.to_device(np.asarray(a))


def largest_error(a, b):
    """max |a - b| relative to the largest entry of b (rounding makes entries near 0 noisy)."""
    a, b = backend.to_host(a), backend.to_host(b)
    return float(np.abs(a - b).max() / np.abs(b).max())


def plainly(call, *args):
    """call(*args) with the fast twins off: the plain path."""
    with twins.switched_on(False):
        return call(*args)


@pytest.mark.parametrize("path", ["winograd", "batch_inner"])
@pytest.mark.parametrize("shape, F, kernel, stride, padding", CONV_CASES)
def test_conv_gradients(xp, rng, monkeypatch, shape, F, kernel, stride, padding, path):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)  # Winograd on these small cases too
    monkeypatch.setattr(winograd, "MIN_TILES", 1)
    monkeypatch.setattr(convolution, "path", path)
    layer = Conv2d(shape[1], F, kernel, stride, padding, bias=True, rng=rng, dtype=F64)
    layer.params["b"][...] = device(rng.standard_normal(F))
    x = device(rng.standard_normal(shape))
    dout = device(rng.standard_normal(layer.forward(x).shape))
    # The loss is linear in x and in W, so centred differences are exact for any step, and a
    # large one keeps rounding noise (1e-9 at h = 1e-5) off the small, nearly cancelled entries.
    check_layer(layer, x, dout, h=0.1)
    # "winograd" takes batch_inner where Winograd does not apply: its layers are 3x3, stride 1,
    # with output sides that 4 divides
    out_sides = [side + 2 * padding - 2 for side in shape[2:]]
    winograd_applies = kernel == 3 and stride == 1 and all(side % 4 == 0 for side in out_sides)
    ran = layer.cache[2][0]
    assert ran is (winograd if path == "winograd" and winograd_applies else batch_inner)


@pytest.mark.parametrize("path", ["winograd", "batch_inner"])
@pytest.mark.parametrize("shape, F, kernel, stride, padding", CONV_CASES)
def test_conv_values_match_naive_loops(xp, rng, monkeypatch, shape, F, kernel, stride,
                                       padding, path):
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)  # Winograd on these small cases too
    monkeypatch.setattr(winograd, "MIN_TILES", 1)
    monkeypatch.setattr(convolution, "path", path)
    conv_matches_the_loop_oracle(rng, shape, F, kernel, stride, padding)


@pytest.mark.parametrize("shape, F, kernel, stride, padding", CONV_CASES)
@pytest.mark.parametrize("stack_values", [1, 100, batch_inner.STACK_VALUES])
def test_batch_inner_conv_equals_im2col_conv(xp, rng, monkeypatch, shape, F, kernel, stride,
                                             padding, stack_values):
    """The fast path gives the plain path's y, dW and dx also when the rows come in many small
    blocks, takes input and dout in any memory order, and hands y and dx on batch-innermost.
    The same sums in another order (and on a GPU, cuBLAS's): equal to 1e-12 of the largest
    entry, as entries near 0 are noisy relative to themselves."""
    monkeypatch.setattr(batch_inner, "STACK_VALUES", stack_values)
    monkeypatch.setattr(convolution, "path", "batch_inner")
    fast = Conv2d(shape[1], F, kernel, stride, padding, rng=rng, dtype=F64)
    plain = Conv2d(shape[1], F, kernel, stride, padding, dtype=F64)
    plain.params["W"][...] = fast.params["W"]
    x = device(rng.standard_normal(shape))
    y = fast.forward(x)
    assert batch_innermost(y)
    assert largest_error(y, plainly(plain.forward, x)) < 1e-12
    # The same values again, now from batch-innermost memory (as between layers of a net).
    x_batch_inner = xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    assert largest_error(fast.forward(x_batch_inner), y) < 1e-12
    dout = device(rng.standard_normal(y.shape))
    dx = fast.backward(dout)
    assert batch_innermost(dx)
    assert largest_error(dx, plainly(plain.backward, dout)) < 1e-12
    assert largest_error(fast.grads["W"], plain.grads["W"]) < 1e-12
    # Without dx (the first layer of a net in training): the same dW exactly.
    dW = fast.grads["W"].copy()
    fast.forward(x)
    assert fast.backward(dout, input_grad=False) is None
    assert xp.array_equal(fast.grads["W"], dW)


def test_row_parts_cut_the_rows_where_col2im_cannot_meet():
    """The two parts side by side read disjoint input rows, and with the rows run after them
    they cover every output row once; on a GPU, or with too few rows, one part."""
    assert batch_inner.row_parts(np, 32, 3, 1) == ([(0, 15), (17, 32)], [(15, 17)])
    assert batch_inner.row_parts(np, 16, 2, 2) == ([(0, 8), (8, 16)], [])
    assert batch_inner.row_parts(np, 3, 3, 1) == ([(0, 3)], [])
    assert batch_inner.row_parts(object(), 32, 3, 1) == ([(0, 32)], [])
    for rows in range(1, 13):
        for kernel in range(1, 6):
            for stride in range(1, 4):
                side, after = batch_inner.row_parts(np, rows, kernel, stride)
                covered = sorted(r for a, b in side + after for r in range(a, b))
                assert covered == list(range(rows))
                if len(side) == 2:
                    (a0, a1), (b0, b1) = side
                    assert (a1 - 1) * stride + kernel - 1 < b0 * stride   # input rows apart


WINOGRAD_CASES = [((2, 3, 8, 4), 5, 1), ((1, 4, 6, 10), 3, 0), ((3, 2, 8, 12), 4, 1),
                  ((2, 2, 6, 2), 3, 2)]      # (N, C, H, W), F, padding; 3x3 kernel, stride 1


def compiled_or_skip(xp):
    """Skip where the compiled transforms do not run: without numba, or on a GPU."""
    if xp is not np:
        pytest.skip("the compiled transforms are the CPU's")
    if winograd._compiled is None:
        pytest.skip("numba is not installed: the NumPy transforms run")


@pytest.mark.parametrize("shape, F, padding", WINOGRAD_CASES)
@pytest.mark.parametrize("tiles_per_block", ["one", "two", "all"])
@pytest.mark.parametrize("transforms", ["compiled", "numpy"])
def test_winograd_conv_equals_im2col_conv(xp, rng, monkeypatch, shape, F, padding,
                                          tiles_per_block, transforms):
    """Winograd gives the plain path's y, dW and dx (float64: to rounding; float32: to the
    transforms' rounding), with the compiled transforms and the NumPy ones, also when the tiles
    come in blocks of one or two (several rows of tiles, or pieces of a row of 3), takes input
    and dout in any memory order, and hands y and dx on batch-innermost; backward gives the
    same from the patches the forward kept as from patches transformed again."""
    if transforms == "compiled":
        compiled_or_skip(xp)
    monkeypatch.setattr(winograd, "use_compiled", transforms == "compiled")
    N, C = shape[:2]
    values_per_tile = winograd.PATCH ** 2 * C * N
    monkeypatch.setattr(winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(winograd, "MIN_TILES", 1)
    monkeypatch.setattr(winograd, "BLOCK_VALUES", {"one": 1, "two": 2 * values_per_tile,
                                                   "all": 10 ** 9}[tiles_per_block])

    for dtype, tolerance in [(F64, 1e-13), (np.float32, 1e-5)]:
        fast = Conv2d(C, F, 3, 1, padding, rng=rng, dtype=dtype)
        plain = Conv2d(C, F, 3, 1, padding, dtype=dtype)
        plain.params["W"][...] = fast.params["W"]
        x = device(rng.standard_normal(shape).astype(dtype))
        for x_order in (x, xp.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)):
            y = fast.forward(x_order)
            assert fast.cache[2][0] is winograd and batch_innermost(y)
            assert largest_error(y, plainly(plain.forward, x)) < tolerance
        dout = device(rng.standard_normal(y.shape).astype(dtype))
        dx = fast.backward(dout)
        assert batch_innermost(dx) and dx.dtype == dtype
        assert largest_error(dx, plainly(plain.backward, dout)) < tolerance
        assert largest_error(fast.grads["W"], plain.grads["W"]) < tolerance
        # The patches kept by the training forward, or computed again: the same numbers.
        dW = fast.grads["W"].copy()
        assert largest_error(fast.backward(dout), dx) == 0 and largest_error(fast.grads["W"], dW) == 0
        # Without dx (the first layer of a net in training): the same dW exactly.
        fast.forward(x)
        assert fast.backward(dout, input_grad=False) is None
        assert xp.array_equal(fast.grads["W"], dW)


KERNELS = ["input_transform", "output_transform", "output_adjoint", "input_adjoint"]


def kernel_case(rng, dtype, name, n0=1, n1=4):
    """Random inputs of one transform on a 2 x 3 block of tiles (rows 1-2, columns 0-2) of a
    batch of 5, images n0:n1, and the array it writes (the adjoint adds into a random one)."""
    C, N, n, tiles = 3, 5, n1 - n0, 6
    image = rng.standard_normal((C, 14, 14, N)).astype(dtype)     # (C, Hp, Wp, N) or (F, ...)
    per_tile = rng.standard_normal((36, C, tiles, n)).astype(dtype)
    block = (1, 3, 0, 3)
    return {"input_transform": (image, n0, n1, np.zeros_like(per_tile)),
            "output_transform": (per_tile, image[:, :12, :12].copy(), n0, n1),
            "output_adjoint": (image[:, :12, :12].copy(), n0, n1, np.zeros_like(per_tile)),
            "input_adjoint": (per_tile, image, n0, n1)}[name], block


@pytest.mark.parametrize("name", KERNELS)
def test_compiled_transforms_equal_the_numpy_ones(rng, name):
    """Each compiled transform writes what its NumPy twin writes, only there: float64 to 1e-13,
    float32 to 1e-5 (the sums go in another order). Its Python source, run uncompiled, does too:
    the code a reader sees is the code that is compiled."""
    from slotnp.fast import winograd_compiled
    compiled = getattr(winograd_compiled, name)
    for dtype, tolerance in [(F64, 1e-13), (np.float32, 1e-5)]:
        args, block = kernel_case(rng, dtype, name)
        written = [a for a in args if isinstance(a, np.ndarray)][-1]
        expected = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        getattr(winograd, name)(*expected, *block)
        expected = [a for a in expected if isinstance(a, np.ndarray)][-1]
        assert not np.array_equal(expected, written)
        runs = [getattr(compiled, "py_func", compiled)]
        if winograd._compiled is not None:
            runs.append(compiled)
        for run in runs:
            out = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
            run(*out, *block)
            assert largest_error([a for a in out if isinstance(a, np.ndarray)][-1],
                                 expected) < tolerance


def test_the_compiled_transforms_are_used_where_registered():
    """With numba, the CPU's Winograd takes the compiled transforms, and numpy_transforms()
    or a GPU the NumPy ones."""
    compiled_or_skip(np)
    assert winograd.kernels(np) is winograd._compiled
    with winograd.numpy_transforms():
        assert winograd.kernels(np) is winograd
    assert winograd.kernels(object()) is winograd


def test_winograd_applies_to_the_layers_it_is_fast_on():
    assert winograd.MIN_CHANNELS == 64
    assert winograd.applies((3, 3), 1, 64, 32, 32) and winograd.applies((3, 3), 1, 512, 4, 8)
    assert not winograd.applies((3, 3), 1, 3, 32, 32)      # CONV nets' first layer: too shallow
    assert not winograd.applies((3, 3), 1, 512, 2, 2)      # VGG-19's last block: 4 divides no side
    assert not winograd.applies((3, 3), 2, 64, 16, 16)
    assert not winograd.applies((3, 2), 1, 64, 16, 16)
    # too few tiles in a half of the batch: VGG-19's 4x4 layers at batch 16 (8 tiles), not
    # at batch 64 (32); CONV-2's 32x32 layers at any batch (64 tiles an image)
    assert winograd.MIN_TILES == 32 and not winograd.applies((3, 3), 1, 512, 4, 4, batch=16)
    assert winograd.applies((3, 3), 1, 512, 4, 4, batch=64)
    assert winograd.applies((3, 3), 1, 64, 32, 32, batch=1)


def test_a_small_batch_of_small_images_takes_batch_inner(rng):
    """The rule at work in a layer: VGG-19's conv10 shape at batch 16 takes batch_inner, and
    at batch 64 Winograd."""
    layer = Conv2d(512, 512, 3, 1, 1, rng=rng)
    for batch, path in ((16, batch_inner), (64, winograd)):
        layer.forward(rng.standard_normal((batch, 512, 4, 4)).astype(np.float32))
        assert layer.cache[2][0] is path


def test_an_unknown_path_is_refused():
    with pytest.raises(ValueError, match="path must be one of"):
        with convolution.using("fft"):
            pass


@pytest.mark.parametrize("backend_name, expected", [("numpy", {winograd, batch_inner}),
                                                    ("counting", {None})])
def test_conv_path_is_chosen_per_backend(backend_name, expected):
    """Path "auto": the CPU's blocked paths with NumPy; on a GPU (here the counting stand-in,
    which takes CuPy's paths) the plain path, one im2col and one GEMM per layer."""
    backend.use(backend_name)
    try:
        used = set()
        for c_in in (3, 64):
            layer = Conv2d(c_in, 8, 3, padding=1)
            layer.forward(backend.to_device(np.zeros((16, c_in, 8, 8), np.float32)))
            used.add(layer.cache[2][0] if layer.cache[0] else None)
        assert used == expected
    finally:
        backend.use("numpy")


