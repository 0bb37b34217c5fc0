"""No Python loop over samples or pixels: the Python lines executed in slotnp during a training
step must not depend on the batch size or the image size (only on the layers and kernel taps).

The loops whose length grows with the data are cache blocking: the batch-inner convolution's
(one block of output rows per GEMM) and greedy selection's (one chunk of connections at a time);
elementwise work and dense products are cut into one part per core from a size on, and the SGD
update into cache-sized chunks. They are switched off here by blocks and sizes larger than any
test array (and Winograd is kept for small batches too), and the plain engine and each of the
fast twins' convolution paths are run in turn."""
import sys

import numpy as np
import pytest

from slotnp import fast, nets
from slotnp.core.losses import softmax_cross_entropy
from slotnp.fast import (batch_inner, convolution, elementwise, slot_factored, slot_intervals,
                         threads, winograd)


def lines_executed_in_slotnp(step):
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if "slotnp" not in frame.f_code.co_filename:
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(None)
    return count


CONV_PATHS = ["plain", "winograd", "batch_inner"]


@pytest.mark.parametrize(  # Lenet has no convolution: plain and one fast path
    "name, slot, selection, path",
    [("conv2", True, "greedy", path) for path in CONV_PATHS]
    + [("conv4", True, "sample", path) for path in CONV_PATHS]
    + [("lenet", False, "greedy", path) for path in ("plain", "batch_inner")])
def test_line_count_is_independent_of_batch_and_image_size(monkeypatch, name, slot, selection,
                                                           path):
    monkeypatch.setattr(batch_inner, "STACK_VALUES", 10 ** 9)
    monkeypatch.setattr(winograd, "BLOCK_VALUES", 10 ** 9)
    monkeypatch.setattr(winograd, "MIN_TILES", 1)            # the path must not switch
    monkeypatch.setattr(elementwise, "SGD_CHUNK", 10 ** 12)
    monkeypatch.setattr(slot_factored, "SELECTION_CHUNK_VALUES", 10 ** 9)
    monkeypatch.setattr(slot_factored, "SAMPLE_CHUNK_VALUES", 10 ** 9)
    monkeypatch.setattr(slot_intervals, "BUILD_VALUES", 10 ** 9)
    monkeypatch.setattr(elementwise, "LARGE_PRODUCT", 10 ** 12)
    monkeypatch.setattr(threads, "MIN_PART_VALUES", 10 ** 12)
    if path != "plain":
        monkeypatch.setattr(convolution, "path", path)
    counts = []
    with fast.on(path != "plain"):
        for batch, size in [(2, 8), (5, 16)]:
            counts.append(count_one_step(name, slot, selection, batch, size))
    assert counts[0] == counts[1] > 50


def count_one_step(name, slot, selection, batch, size):
    """Python lines executed in slotnp by the second training step of a new net."""
    net = nets.build(name, slot=slot, K=3, selection=selection, image_size=size)
    shape = nets.INPUT_SHAPES[name] if name == "lenet" else (3, size, size)
    x = np.random.default_rng(0).standard_normal((batch,) + shape).astype(np.float32)
    labels = np.zeros(batch, dtype=np.int64)

    def step():
        loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), labels)
        net.backward(dlogits)

    step()  # once untraced, so that one-time set-up (the thread pool) is not counted
    return lines_executed_in_slotnp(step)
