"""What several test files share: the backends to run on, the convolution cases, a layout check."""
import numpy as np
import pytest

from slotnp import backend
from slotnp.core import Conv2d
from slotnp.core.gradcheck import rel_error
from slotnp.slots import SlotConv2d, SlotLinear
from slotnp.slots.straight_through import straight_through_errors

HAS_GPU = backend.cupy_available()
BACKENDS = ["numpy", pytest.param("cupy", marks=pytest.mark.skipif(
    not HAS_GPU, reason="CuPy with a visible GPU is not available"))]


CONV_CASES = [  # (N, C, H, W), F, kernel, stride, padding: odd, non-square, stride/pad != 1
    ((2, 3, 7, 5), 4, 3, 2, 2),
    ((1, 2, 6, 9), 3, (2, 3), 3, 0),
    ((2, 3, 5, 5), 2, 3, 1, 1),
    ((1, 16, 10, 12), 3, (1, 2), 1, 0),
    ((2, 17, 3, 4), 2, (2, 2), 1, 1),
    ((2, 2, 5, 4), 3, (3, 4), 1, 2),     # padding as large as the kernel
    ((2, 3, 8, 4), 5, 3, 1, 1),          # Winograd's: 3x3, stride 1, output sides 4 divides
    ((1, 4, 6, 10), 3, 3, 1, 0),
]


def batch_innermost(a):
    """Whether the batch axis of an (N, C, H, W) array is the innermost one in memory."""
    return a.strides[0] == a.itemsize and a.strides[3] == a.shape[0] * a.itemsize


def device(a):
    return backend.to_device(np.asarray(a))


def conv_matches_the_loop_oracle(rng, shape, F, kernel, stride, padding):
    """A float64 Conv2d's y, dx and dW against naive.py's loops, each below 1e-10."""
    import naive
    layer = Conv2d(shape[1], F, kernel, stride, padding, rng=rng, dtype=np.float64)
    x = rng.standard_normal(shape)
    w = backend.to_host(layer.params["W"])
    y = layer.forward(device(x))
    assert rel_error(y, naive.conv_forward(x, w, stride, padding)) < 1e-10
    dout = rng.standard_normal(y.shape)
    dx_expected, dw_expected = naive.conv_backward(x, w, dout, stride, padding)
    assert rel_error(layer.backward(device(dout)), dx_expected) < 1e-10
    assert rel_error(layer.grads["W"], dw_expected) < 1e-10


def straight_through_check(layer, x, dout):
    """slots/straight_through.py's check of a slot layer (its selection held fixed),
    below 1e-7; and in the factored form, the score gradient's coordinates are (dL/dw, 0)."""
    errors = straight_through_errors(layer, x, dout)
    if layer.slots.score_form == "factored":       # (the grads of that check's backward)
        dense = layer.freeze(layer.slots.last_index)
        dense.forward(x, train=True)
        dense.backward(dout.copy())
        errors["coef_options"] = rel_error(layer.grads["coef_options"], dense.grads["W"])
        assert float(layer.grads["coef_initial"]) == 0.0
    assert max(errors.values()) < 1e-7, errors
    assert set(layer.grads) == set(layer.params)


SLOT_CONV_CASES = CONV_CASES[:2]


def slot_linear_straight_through(rng, selection, shared, score_form, bias=False):
    """straight_through_check of a float64 SlotLinear (7 -> 5, K = 4) holding `score_form`."""
    layer = SlotLinear(7, 5, K=4, selection=selection, shared=shared, rng=rng,
                       dtype=np.float64, score_form=score_form, bias=bias)
    straight_through_check(layer, device(rng.standard_normal((3, 7))),
                           device(rng.standard_normal((3, 5))))


def slot_conv_straight_through(rng, selection, case, score_form, bias=False):
    """straight_through_check of a float64 SlotConv2d (K = 3) of a CONV_CASES `case`."""
    shape, F, kernel, stride, padding = case
    layer = SlotConv2d(shape[1], F, kernel, K=3, stride=stride, padding=padding,
                       selection=selection, rng=rng, dtype=np.float64, score_form=score_form,
                       bias=bias)
    x = device(rng.standard_normal(shape))
    straight_through_check(layer, x, device(rng.standard_normal(layer.forward(x).shape)))
