"""What older runs need (slotnp/run/compat.py): options version 1 draws as it always did."""
import numpy as np
import pytest

from slotnp import backend
from slotnp.core import init
from slotnp.run import compat
from slotnp.slots import SlotLinear

F64 = np.float64


def test_a_slot_layer_holds_its_version_2_values_and_version_1_still_draws_the_old_ones(xp):
    layer = SlotLinear(9, 4, K=5, rng=np.random.default_rng(2), dtype=F64, score_form="explicit")
    key = init.slot_key(np.random.default_rng(2))
    options, scores = init.slot_values(key, (4, 9), 5, 1.0, 0.1)
    assert np.array_equal(backend.to_host(layer.options), options.reshape(4, 9, 5))
    assert np.array_equal(backend.to_host(layer.scores), scores.reshape(4, 9, 5))
    old = SlotLinear(9, 4, K=5, rng=np.random.default_rng(2), dtype=F64, options_version=1)
    legacy = np.random.default_rng(2)
    assert np.array_equal(backend.to_host(old.options),
                          compat.slot_options(legacy, (4, 9), 5, F64))
    assert np.array_equal(backend.to_host(old.scores),
                          compat.slot_scores(legacy, (4, 9), 5, 0.1, F64))
    with pytest.raises(ValueError, match="options_version"):
        SlotLinear(9, 4, K=5, options_version=3)


def test_a_checkpoint_from_before_the_move_resumes_with_identical_metrics(tmp_path):
    """tests/fixtures/before-the-move: saved by the slotnp before core/slots/fast/run (greedy
    layers kept their options then, K = 8), resumed now to the uninterrupted run's metrics."""
    import json
    import os
    import shutil
    import train
    fixture = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures",
                           "before-the-move")
    run = tmp_path / "run"
    os.makedirs(run)
    for name in ("last.npz", "config.json", "metrics.jsonl"):
        shutil.copy(os.path.join(fixture, name), run / name)
    assert train.main(["--resume", "--out", str(run), "--no-progress"]) == 0

    def rows(path):
        return [{k: v for k, v in json.loads(line).items()     # (the per-layer shares are
                 if k not in ("seconds", "train_seconds", "selection_changed_by_layer")}
                for line in open(path)]                          # newer than the fixture)
    resumed, uninterrupted = rows(run / "metrics.jsonl"), rows(os.path.join(fixture,
                                                                          "uninterrupted.jsonl"))
    # Identical, but for the float32 loss in its last bits: a sum whose BLAS kernel (and so
    # its order) depends on the CPU the fixture was made on (0.50989190 against 0.50989189).
    losses = [[row.pop("train_loss") for row in table] for table in (resumed, uninterrupted)]
    assert resumed == uninterrupted
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)


def test_checkpoints_keep_the_running_averages_of_batch_normalisation(tmp_path, rng):
    from slotnp.core import BatchNorm2d, Sequential
    from slotnp.run import checkpoint
    net = Sequential([("norm1", BatchNorm2d(3))])
    net.forward(rng.standard_normal((4, 3, 2, 2)).astype(np.float32) + 3)
    checkpoint.save(str(tmp_path / "a.npz"), net, dict(config={}))
    again = Sequential([("norm1", BatchNorm2d(3))])
    _, params, _ = checkpoint.load(str(tmp_path / "a.npz"))
    checkpoint.load_params(again, params)
    for name, value in net.buffers.items():
        assert np.array_equal(again.buffers[name], value) and value.any()


def test_an_older_runs_configuration_reads_as_it_ran():
    """Keys a run predates read as the values it ran with, wherever a configuration is read:
    its scores explicit (the memory estimate counts K of them a connection), options version 1,
    padded, dropout after FC1 and FC2, no biases, SGDR."""
    from slotnp.run import memory
    from slotnp.run.cli import parse_args
    from slotnp.run.config import resolve_config, schedule_of
    new = resolve_config(parse_args(["--net", "conv2", "--K", "8", "--score-form", "explicit",
                                     "--out", "run"]))
    old = {key: value for key, value in new.items() if key not in (
        "score_form", "options_version", "padding", "dropout_at", "bias", "bias_lr",
        "schedule", "method")}
    assert compat.completed(old) == dict(new, options_version=1, weight_init="signed_constant")
    assert memory.estimate(old, 1000) == memory.estimate(new, 1000)
    assert schedule_of(old).lr(25) == schedule_of(new).lr(25) == new["lr"]   # a restart
    # biases from before --bias-lr trained at the run's own rate
    biased = dict(old, bias="learned")
    assert compat.completed(biased)["bias_lr"] == new["lr"] == 0.2
