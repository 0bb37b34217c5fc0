"""Edge-popup layers: the top-k mask against a sorting oracle, the straight-through gradient in
float64, the authors' initial values, and runs through train.py."""
import json
import math
import os
import sys

import numpy as np
import pytest

from slotnp import backend, nets
from slotnp.core import Conv2d, Linear
from slotnp.slots import EdgePopupConv2d, EdgePopupLinear
from slotnp.slots.edge_popup import top_fraction_mask
from slotnp.core.gradcheck import rel_error
from slotnp.slots.straight_through import straight_through_errors
from slotnp.run import cli, config as configs
import naive

F64 = np.float64


def device(a):
    return backend.to_device(np.asarray(a))


@pytest.mark.parametrize("keep", [0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999, 1.0])
def test_mask_keeps_the_largest_magnitudes_as_the_sorting_oracle(xp, rng, keep):
    """Exact on every backend: continuous random scores hold no tie, so no tie-breaking rule
    (CuPy's argpartition may break ties otherwise than NumPy's) can change the mask."""
    scores = rng.standard_normal((37, 29))
    assert len(np.unique(np.abs(scores))) == scores.size
    mask = backend.to_host(top_fraction_mask(device(scores), keep))
    assert np.array_equal(mask, naive.edge_popup_mask(scores, keep))
    assert mask.sum() == scores.size - int((1 - keep) * scores.size)


def straight_through_check(layer, x, dout):
    """slotnp.gradcheck's straight-through check (the mask held fixed) below 1e-7; and dropped
    connections get a score gradient too."""
    errors = straight_through_errors(layer, x, dout)
    assert max(errors.values()) < 1e-7, errors
    dropped = ~backend.to_host(layer.last_mask)
    assert dropped.any() and np.abs(backend.to_host(layer.grads["scores"])[dropped]).max() > 0


@pytest.mark.parametrize("init, bias", [("signed_constant", False), ("kaiming_normal", False),
                                        ("signed_constant", True)])
def test_linear_gradient(xp, rng, init, bias):
    layer = EdgePopupLinear(7, 5, keep=0.4, weight_init=init, rng=rng, dtype=F64, bias=bias)
    assert ("b" in layer.params) == bias
    straight_through_check(layer, device(rng.standard_normal((3, 7))),
                           device(rng.standard_normal((3, 5))))


@pytest.mark.parametrize("shape, F, kernel, stride, padding",
                         [((2, 3, 7, 5), 4, 3, 2, 2), ((1, 2, 6, 9), 3, (2, 3), 3, 0)])
def test_conv_gradient(xp, rng, shape, F, kernel, stride, padding):
    layer = EdgePopupConv2d(shape[1], F, kernel, keep=0.6, stride=stride, padding=padding,
                            rng=rng, dtype=F64)
    x = device(rng.standard_normal(shape))
    straight_through_check(layer, x, device(rng.standard_normal(layer.forward(x).shape)))


def test_forward_against_the_loop_oracle(xp, rng):
    layer = EdgePopupConv2d(3, 4, 3, keep=0.3, padding=1, rng=rng, dtype=F64)
    x = rng.standard_normal((2, 3, 5, 6))
    mask = naive.edge_popup_mask(backend.to_host(layer.params["scores"]), 0.3)
    w = backend.to_host(layer.supermask.weight) * mask
    y = backend.to_host(layer.forward(device(x), train=False))
    assert rel_error(y, naive.conv_forward(x, w, 1, 1)) < 1e-12
    fc = EdgePopupLinear(6, 4, keep=0.5, rng=rng, dtype=F64)
    xs = rng.standard_normal((3, 6))
    w = backend.to_host(fc.supermask.weight) * naive.edge_popup_mask(
        backend.to_host(fc.params["scores"]), 0.5)
    assert rel_error(fc.forward(device(xs), train=False), xs @ w.T) < 1e-12


def test_initial_values_follow_the_authors_code(xp):
    layer = EdgePopupLinear(400, 300, keep=0.5, rng=0)
    W, scores = backend.to_host(layer.supermask.weight), backend.to_host(layer.params["scores"])
    std = math.sqrt(2 / 400)
    assert np.allclose(np.abs(W), std) and 0.45 < (W > 0).mean() < 0.55   # signed constant
    assert -1 / 20 <= scores.min() < -0.049 and 0.049 < scores.max() <= 1 / 20   # U(+-1/sqrt)
    normal = backend.to_host(EdgePopupLinear(400, 300, weight_init="kaiming_normal",
                                             rng=0).supermask.weight)
    assert abs(normal.std() - std) < 0.01 * std
    with pytest.raises(ValueError, match="keep"):
        EdgePopupLinear(4, 3, keep=0.0)
    with pytest.raises(ValueError, match="weight_init"):
        EdgePopupLinear(4, 3, weight_init="zeros")


def test_edge_popup_nets_build_and_freeze(xp, rng):
    net = nets.build("conv2", slot=False, edge_popup=0.5, image_size=8, dropout=0.0)
    kinds = {type(layer) for _, layer in net.named_layers()}
    assert EdgePopupConv2d in kinds and EdgePopupLinear in kinds
    x = device(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    frozen = nets.freeze(net)
    assert {type(layer) for _, layer in frozen.named_layers()} & {EdgePopupConv2d,
                                                                  EdgePopupLinear} == set()
    assert {Conv2d, Linear} <= {type(layer) for _, layer in frozen.named_layers()}
    assert np.array_equal(backend.to_host(frozen.forward(x, train=False)),
                          backend.to_host(net.forward(x, train=False)))
    with pytest.raises(ValueError, match="not both"):
        nets.build("lenet", slot=True, edge_popup=0.5)


def test_train_py_runs_edge_popup_with_its_own_protocol_and_resumes(tmp_path):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import train
    flags = ["--net", "lenet", "--dataset", "synthetic", "--method", "edge-popup", "--keep",
             "0.3", "--batch-size", "100", "--no-progress", "--epochs", "3"]
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    assert train.main(flags + ["--out", str(whole)]) == 0
    config = json.loads((whole / "config.json").read_text())
    assert (config["lr"], config["restarts"], config["weight_decay"], config["dropout"],
            config["normalise"], config["edge_popup"]) == (0.1, [], 1e-4, 0.0, "channels", 0.3)
    assert configs.resolve_config(cli.parse_args(["--method", "edge-popup"]))["epochs"] == 100
    assert train.main(flags + ["--out", str(pieces), "--time-limit", "1e-6"]) == 0
    assert train.main(["--resume", "--out", str(pieces), "--no-progress"]) == 0

    def rows(folder):
        return [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "train_seconds")}
                for line in open(folder / "metrics.jsonl")]
    assert rows(whole) == rows(pieces)
    assert rows(whole)[-1]["test_acc"] > 0.5 and 0 < rows(whole)[0]["selection_changed"] < 1
