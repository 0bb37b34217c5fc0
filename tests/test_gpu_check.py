"""The one-shot GPU check (bench/gpu_check.sh) must answer everything the first time a GPU is
lent: its stages fit its limit, it names no bare `python`, its training stage always trains,
its CIFAR-10 slice loads and fits what travels, and its benchmark survives a PyTorch twin that
fails (the DRY run, `DRY=1 bash bench/gpu_check.sh`, runs the whole script on the CPU)."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK = open(os.path.join(ROOT, "bench", "gpu_check.sh")).read()
E2E = open(os.path.join(ROOT, "bench", "gpu_e2e.sh")).read()


def setting(name):
    return int(re.search(rf"\b{name}=(\d+)", CHECK).group(1))


def test_the_stage_budgets_fit_the_limit_with_the_training_stage():
    budgets = sum(setting(f"B_{stage}") for stage in ("ENV", "PYTEST", "E2E", "COUNTS",
                                                       "BENCH", "TRAIN_MIN"))
    assert budgets <= setting("LIMIT") <= 8 * 60
    # the training stage runs only with at least B_TRAIN_MIN seconds left, and asks train.py
    # for (left - 30) / 60 minutes: always more than 0 (train.py refuses 0)
    assert setting("B_TRAIN_MIN") > 30 and '--time-limit "$minutes"' in CHECK


def test_the_scripts_call_the_interpreter_they_are_given():
    """The GPU machine documents python3: every call goes through $PYTHON."""
    for text in (CHECK, E2E):
        commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        bare = [line for line in commands if re.search(r"(^|[\s;(\"'])python\s", line)]
        assert bare == [] and "$PYTHON" in text


def test_the_scripts_refuse_budgets_over_the_limit(tmp_path):
    script = tmp_path / "check.sh"
    script.write_text(CHECK.replace("B_PYTEST=150", "B_PYTEST=450"))
    done = subprocess.run(["bash", str(script)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, OUT=str(tmp_path / "out")), timeout=60)
    assert done.returncode == 2 and "over the 480s limit" in done.stderr


def test_the_cifar_slice_loads_through_the_loader_and_fits_what_travels(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    import cifar_slice
    import datasets
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (100, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, 100)
    cifar_slice.write(str(tmp_path), images[:60], labels[:60], images[60:], labels[60:])
    raw = datasets.load("cifar10", str(tmp_path), shape=(3, 32, 32))
    assert np.array_equal(raw["x_train"], images[:60]) and np.array_equal(raw["y_test"],
                                                                          labels[60:])
    size = sum(os.path.getsize(os.path.join(tmp_path, "cifar-10-batches-py", name))
               for name in os.listdir(tmp_path / "cifar-10-batches-py"))
    per_image = size / 100
    assert (10_000 + 5_000) * per_image < 64 * 2 ** 20   # the default slice: under 64 MiB


def test_the_bench_refuses_device_arrays_to_torch_as_cuda_would(monkeypatch):
    """bench/gpu.py --dry: the counting backend (CuPy's paths) and a torch.from_numpy that, as
    for CuPy arrays, refuses anything but a NumPy array; the twin brings arrays to the host."""
    torch = pytest.importorskip("torch")
    sys.path[:0] = [os.path.join(ROOT, "bench")]
    import gpu
    import torch_twin
    from slotnp import backend, fast, nets
    from slotnp.run import counting  # noqa: F401
    monkeypatch.setattr(torch, "from_numpy", torch.from_numpy)
    gpu.strict_from_numpy()
    backend.use("counting")
    try:
        with fast.on():
            net = nets.build("conv2", K=2, image_size=8)
        with pytest.raises(TypeError, match="expected np.ndarray"):
            torch.from_numpy(net.params["fc1.coef_options"])
        torch_twin.twin(net)                 # every array through backend.to_host: no error
    finally:
        backend.use("numpy")
