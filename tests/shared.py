"""What several test files share: the backends to run on, the convolution cases, a layout check."""
import pytest

from slotnp import backend

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
