"""bench/bench.py's GEMM bound (the FLOP count of a step's products done directly), and the nets
bench/profile_step.py profiles."""
import os
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def bench():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import bench
        yield bench
    finally:
        sys.path.remove(os.path.join(ROOT, "bench"))


def test_step_gflop_counts_forward_both_gradients_and_no_first_dx(bench):
    net, x, _ = bench.make("lenet", "K2")
    forward = [2 * len(x) * i * o for i, o in ((784, 300), (300, 100), (100, 10))]
    assert bench.step_gflop(net, x) * 1e9 == pytest.approx(3 * sum(forward) - forward[0])
    assert all("forward" not in vars(layer) for _, layer in net.named_layers())  # put back


def test_step_gflop_of_a_convolution_counts_every_output_and_tap(bench):
    net, x, _ = bench.make("conv2", "learned")
    # conv1 3->64, conv2 64->64 at 32x32 (padded), pool to 16x16, fc 16384-256-256-10
    forward = [2 * len(x) * 32 * 32 * 64 * 3 * 9, 2 * len(x) * 32 * 32 * 64 * 64 * 9,
               2 * len(x) * 16384 * 256, 2 * len(x) * 256 * 256, 2 * len(x) * 256 * 10]
    assert bench.step_gflop(net, x) * 1e9 == pytest.approx(3 * sum(forward) - forward[0])
    assert np.isfinite(bench.sgemm_gflops(1, n=64, reps=1))


def test_profile_step_profiles_sampled_selection(bench, monkeypatch, capsys):
    import profile_step
    monkeypatch.setattr(sys, "argv", ["profile_step.py", "lenet", "K2", "--selection", "sample",
                                      "--reps", "1", "--top", "3"])
    drawn = []
    make = bench.make
    monkeypatch.setattr(bench, "make", lambda *a, **k: drawn.append(make(*a, **k)) or drawn[-1])
    profile_step.main()
    net = drawn[0][0]
    assert {layer.slots.selection for _, layer in net.named_layers() if hasattr(layer, "slots")} \
        == {"sample"}
    out = capsys.readouterr().out
    assert out.startswith("lenet K2 sample training step") and len(out.splitlines()) == 4
