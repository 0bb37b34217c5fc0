"""The plain engine alone (slotnp/core, slotnp/slots; train.py --plain): no fast twin runs, it
runs with slotnp/fast unimportable, and it gives the fast twins' results up to float rounding."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from slotnp import nets
from slotnp.core.losses import softmax_cross_entropy
from slotnp.core.optim import SGD
from slotnp.fast import batch_inner, envelope, slot_factored, slot_intervals, threads, winograd
from slotnp.slots.slot import Slots

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import train  # noqa: E402

FLAGS = ["--net", "lenet", "--dataset", "synthetic", "--K", "8", "--batch-size", "100",
         "--no-progress", "--epochs", "2"]


@pytest.fixture
def no_fast_code(monkeypatch):
    """Every fast twin raises if it is called: Winograd, batch-inner, the factored and
    interval slot forms, the envelope, and the thread pool."""
    def forbidden(name):
        def call(*args, **kwargs):
            raise AssertionError(f"the plain engine ran {name}")
        return call
    for module, names in ((winograd, ("forward", "backward")),
                          (batch_inner, ("forward", "backward")),
                          (slot_factored, ("factored_greedy_choice", "gather",
                                           "sampled_index_k_first", "k_last_on_device")),
                          (envelope, ("envelope_candidates",)),
                          (threads, ("in_parts", "side_by_side"))):
        for name in names:
            monkeypatch.setattr(module, name, forbidden(f"{module.__name__}.{name}"))
    monkeypatch.setattr(slot_factored.FactoredSlots, "__init__", forbidden("FactoredSlots"))
    monkeypatch.setattr(slot_intervals.IntervalSlots, "__init__", forbidden("IntervalSlots"))
    yield


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_the_plain_classes_build_plain_layers(no_fast_code, rng, selection):
    """With the twins off (the library's default), a net holds the plain pieces only."""
    net = nets.build("conv4", K=64, selection=selection, image_size=8)
    assert all(type(layer.slots) is Slots for _, layer in nets.slot_layers(net))
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    for _ in range(2):
        loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), np.array([1, 2]))
        net.backward(dlogits)
        SGD(net.params, lr=0.1).step(net.grads)
    net.forward(x, train=False)
    assert net.config["score_form"] == "explicit"


def test_train_py_plain_runs_no_fast_code(tmp_path, no_fast_code):
    assert train.main(FLAGS + ["--plain", "--out", str(tmp_path / "plain")]) == 0
    config = json.loads((tmp_path / "plain" / "config.json").read_text())
    assert config["plain"] is True and config["score_form"] == "explicit"


@pytest.mark.parametrize("net", ["lenet", "conv2"])
def test_train_py_plain_runs_with_the_fast_twins_unimportable(tmp_path, net):
    """As if slotnp/fast were deleted: importing it fails, and --plain trains all the same."""
    code = ("import sys; sys.modules['slotnp.fast'] = None; import train; "
            f"sys.exit(train.main({[*FLAGS[2:], '--net', net, '--plain', '--epochs', '1', '--out', str(tmp_path / net)]!r}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "test accuracy at the best validation epoch" in done.stdout
    blocked = subprocess.run([sys.executable, "-c", "import sys\nsys.modules['slotnp.fast'] = "
                              "None\ntry:\n    import slotnp.fast\nexcept ImportError:\n    "
                              "print('unimportable')"], cwd=ROOT, capture_output=True, text=True)
    assert blocked.stdout.strip() == "unimportable"
    without_plain = subprocess.run([sys.executable, "-c", code.replace("'--plain', ", "")],
                                   cwd=ROOT, capture_output=True, text=True)
    err = without_plain.stderr.strip().splitlines()
    assert without_plain.returncode == 2 and len(err) == 1, without_plain.stderr
    assert err[0].startswith("error: the fast twins (slotnp/fast) cannot be imported (") and \
        err[0].endswith("restore that folder, or train with the plain engine: --plain")


def test_plain_and_fast_runs_agree_up_to_rounding(tmp_path):
    """The same 2 epochs (same seed, batches, options) in plain and fast mode."""
    assert train.main(FLAGS + ["--out", str(tmp_path / "fast")]) == 0
    assert train.main(FLAGS + ["--plain", "--out", str(tmp_path / "plain")]) == 0
    rows = [[json.loads(line) for line in open(tmp_path / name / "metrics.jsonl")]
            for name in ("fast", "plain")]
    assert len(rows[0]) == len(rows[1]) == 2
    for fast, slow in zip(*rows):
        # Rounding flips a near-tied selection now and then, which moves the loss by about
        # 1e-4 (0.0223 against 0.0222 in epoch 2); a wrong path moves it by far more.
        assert abs(fast["train_loss"] - slow["train_loss"]) < max(1e-3 * fast["train_loss"], 5e-4)
        for key in ("train_acc", "val_acc", "test_acc"):
            assert abs(fast[key] - slow[key]) <= 0.02, key
