"""Runs side by side (python -m slotnp.run.compare): each run's line and best epoch drawn in its
colour, its result read at the first best validation epoch, and bad input in one line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from slotnp.run import compare
from slotnp.run.plot import series_style

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_run(folder, val, test, epochs=None):
    """A run folder: metrics.jsonl with these validation and test accuracies, config.json."""
    os.makedirs(folder)
    with open(os.path.join(folder, "metrics.jsonl"), "w") as file:
        for i, (v, t) in enumerate(zip(val, test)):
            file.write(json.dumps(dict(epoch=i + 1, train_loss=2.0 - 0.1 * i, train_acc=v,
                                       val_acc=v, test_acc=t)) + "\n")
    if epochs is not None:
        with open(os.path.join(folder, "config.json"), "w") as file:
            json.dump(dict(epochs=epochs), file)
    return str(folder)


def test_the_result_is_the_test_accuracy_at_the_first_best_validation_epoch(tmp_path):
    run = write_run(tmp_path / "a", [0.5, 0.7, 0.6, 0.7], [0.4, 0.65, None, None], epochs=10)
    epochs, total = compare.read_run(run)
    assert total == 10 and [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert compare.result_text(epochs, total) == "65.00% at epoch 2 (4 of 10 epochs)"
    assert compare.series(epochs, "test_acc") == ([1, 2], [40.0, 65.0])


def test_the_figure_draws_each_run_in_its_colour(tmp_path):
    a = write_run(tmp_path / "a", np.linspace(0.3, 0.8, 30), [0.5] * 30, epochs=30)
    b = write_run(tmp_path / "b", np.linspace(0.3, 0.6, 12), [0.4] * 12)
    out = tmp_path / "figure.png"
    result = subprocess.run([sys.executable, "-m", "slotnp.run.compare", a, b, "--label", "one",
                             "--label", "two", "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["one: 50.00% at epoch 30 (30 of 30 epochs)",
                                          "two: 40.00% at epoch 12 (12 epochs)",
                                          f"wrote {out}"]
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[1] == 1400
    for i in range(2):
        colour = np.array(series_style(i)[0])
        assert (np.abs(image.astype(int) - colour).sum(axis=-1) == 0).sum() > 500


@pytest.mark.parametrize("args, message", [
    (["missing"], "has no metrics.jsonl"),
    (["a", "--label", "x", "--label", "y"], "2 --label for 1 runs"),
    (["a", "--out", "nowhere/figure.png"], "does not exist: create it first"),
    (["a", "--metric", "selection_changed"], "no run recorded selection_changed"),
    (["broken"], "line 3, is not JSON"),
    (["empty"], "records no epoch yet"),
])
def test_bad_input_is_one_line(tmp_path, args, message):
    write_run(tmp_path / "a", [0.5, 0.6], [0.5, 0.6])
    write_run(tmp_path / "broken", [0.5, 0.6], [0.5, 0.6])
    with open(tmp_path / "broken" / "metrics.jsonl", "a") as file:
        file.write("{not json\n")
    os.makedirs(tmp_path / "empty")
    open(tmp_path / "empty" / "metrics.jsonl", "w").close()
    result = subprocess.run([sys.executable, "-m", "slotnp.run.compare", *args],
                            capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
