"""Runs side by side (python -m slotnp.run.compare): each run's line and best epoch drawn in its
colour, its result read at the first best validation epoch, and bad input in one line."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from slotnp.run import compare, plot
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
    assert compare.result_text(epochs, total) == "test 65.00% at epoch 2 (4 of 10 epochs)"
    assert compare.result_text(epochs[:1], None) == "test 40.00% at epoch 1 (1 epoch)"
    assert compare.series(epochs, "test_acc") == ([1, 2], [40.0, 65.0])


class RecordingChart(plot.Chart):
    """plot.Chart, remembering its y range, lines and points."""
    made = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines, self.dots = [], []
        RecordingChart.made.append(self)

    def line(self, xs, ys, colour, label=None, **kwargs):
        self.lines.append((list(xs), list(ys), colour, label))
        super().line(xs, ys, colour, label, **kwargs)

    def points(self, xs, ys, colour, label=None, **kwargs):
        self.dots.append((list(xs), list(ys), colour, label))
        super().points(xs, ys, colour, label, **kwargs)


def test_each_run_is_a_line_with_its_best_epoch_marked_and_its_result_named(tmp_path,
                                                                           monkeypatch):
    val = [0.1, 0.6, 0.5, 0.6] + [0.5] * 6           # the lowest in the first tenth
    a = write_run(tmp_path / "a", val, [0.2, 0.58] + [None] * 8, epochs=10)
    b = write_run(tmp_path / "b", [0.4, 0.45, 0.7], [0.3, 0.4, 0.69])
    monkeypatch.setattr(plot, "Chart", RecordingChart)
    runs = [("one", *compare.read_run(a)), ("two", *compare.read_run(b))]
    compare.compare_figure(str(tmp_path / "f.png"), runs)
    chart = RecordingChart.made[-1]
    blue, red = series_style(0)[0], series_style(1)[0]
    assert [(xs, colour, label) for xs, _, colour, label in chart.lines] == [
        (list(range(1, 11)), blue, "one: test 58.00% at epoch 2 (10 of 10 epochs)"),
        ([1, 2, 3], red, "two: test 69.00% at epoch 3 (3 epochs)")]
    assert chart.lines[0][1] == pytest.approx([100 * v for v in val])
    assert chart.dots == [([2], [60.0], blue, None), ([3], [70.0], red, None)]
    assert chart.y_ticks[0] <= 10.0 and chart.y_ticks[-1] >= 70.0   # no value off the frame


def test_the_figure_draws_each_run_in_its_colour(tmp_path):
    a = write_run(tmp_path / "a", np.linspace(0.3, 0.8, 30), [0.5] * 30, epochs=30)
    b = write_run(tmp_path / "b", np.linspace(0.3, 0.6, 12), [0.4] * 12)
    out = tmp_path / "figure.png"
    result = subprocess.run([sys.executable, "-m", "slotnp.run.compare", a, b, "--label", "one",
                             "--label", "two", "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["one: test 50.00% at epoch 30 (30 of 30 epochs)",
                                          "two: test 40.00% at epoch 12 (12 epochs)",
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
    (["broken"], "line 3, is not an epoch's JSON object"),
    (["empty"], "records no epoch yet"),
    (["no-validation"], "entry 1, has no epoch number or no validation accuracy"),
    (["a", "--out", "figure.jpg"], "is not a .png file"),
    (["a", "--out", "folder.png"], "could not write folder.png"),
])
def test_bad_input_is_one_line(tmp_path, args, message):
    write_run(tmp_path / "a", [0.5, 0.6], [0.5, 0.6])
    write_run(tmp_path / "broken", [0.5, 0.6], [0.5, 0.6])
    with open(tmp_path / "broken" / "metrics.jsonl", "a") as file:
        file.write("{not json\n")
    os.makedirs(tmp_path / "empty")
    open(tmp_path / "empty" / "metrics.jsonl", "w").close()
    write_run(tmp_path / "no-validation", [None], [0.5])
    os.makedirs(tmp_path / "folder.png")
    result = subprocess.run([sys.executable, "-m", "slotnp.run.compare", *args],
                            capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
