"""train.py end to end on the synthetic set: outputs, exact resume, fine-tuning, clear errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import train  # noqa: E402
from slotnp.core import init, optim  # noqa: E402
from slotnp.run import checkpoint, config as configs, export, run_folder  # noqa: E402
from slotnp.run.cli import parse_args  # noqa: E402
from shared import BACKENDS  # noqa: E402

FAST = ["--net", "lenet", "--dataset", "synthetic", "--K", "4", "--batch-size", "64",
        "--no-progress", "--dropout", "0.5"]


def run(*args):
    assert train.main(list(FAST) + list(args)) == 0


def metrics(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as file:
        rows = [json.loads(line) for line in file]
    for row in rows:
        row.pop("seconds")
        row.pop("train_seconds")
    return rows


def test_end_to_end_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    run("--epochs", "3", "--out", str(out))
    assert sorted(os.listdir(out)) == [".lock", "best.npz", "config.json", "curves.png",
                                       "last.npz", "metrics.jsonl", "result.json",
                                       "selected.png"]
    rows = metrics(out)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "lr", "train_loss", "train_acc", "val_acc", "test_acc",
                            "selection_changed", "selection_changed_by_layer"}   # (and seconds)
    assert 0 < rows[0]["selection_changed"] <= 1
    sizes = {"fc1": 300 * 784, "fc2": 100 * 300, "fc3": 10 * 100}
    for row in rows:             # the total is the layers' shares weighted by their sizes
        by_layer = row["selection_changed_by_layer"]
        assert set(by_layer) == set(sizes)
        assert abs(sum(by_layer[n] * sizes[n] for n in sizes) / sum(sizes.values())
                   - row["selection_changed"]) < 1e-5
    result = json.loads((out / "result.json").read_text())
    best = max(rows, key=lambda r: r["val_acc"])
    assert result["best_epoch"] == best["epoch"] and result["test_acc"] == best["test_acc"]
    assert result["test_acc"] > 0.5                                  # chance is 0.1
    selected = result["selected_options"]     # the layers' selections in units of sigma
    assert {name: row["weights"] for name, row in selected.items()} == \
        {"fc1": 300 * 784, "fc2": 100 * 300, "fc3": 10 * 100}
    config = json.loads((out / "config.json").read_text())
    assert all(0 < row["mean_abs"] < config["option_bound"] and 0 < row["beyond_half"] < 1
               for row in selected.values())                     # options in (-b, b) sigma
    assert config["lr"] == 0.2 and config["val_fraction"] == 0.15 and config["K"] == 4
    from PIL import Image
    assert Image.open(out / "curves.png").size == (2400, 640)


@pytest.mark.parametrize("selection, bound", [("greedy", "1"), ("sample", "1"), ("greedy", "1.7")])
def test_resume_after_interruption_gives_the_same_metrics(tmp_path, selection, bound):
    """A resumed run rebuilds the same options (also with a wider --option-bound) and ends equal."""
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    flags = ["--epochs", "4", "--selection", selection, "--option-bound", bound]
    run(*flags, "--out", str(whole))
    run(*flags, "--out", str(pieces), "--time-limit", "1e-6")
    assert len(metrics(pieces)) == 1                                 # stopped after epoch 1
    run("--resume", "--out", str(pieces), "--time-limit", "1e-6")
    run("--resume", "--out", str(pieces))
    assert metrics(pieces) == metrics(whole)
    differ = [row.get("draws_differ") for row in metrics(whole)]   # PS's exploration, per epoch
    assert all(0 < d < 1 for d in differ) if selection == "sample" else differ == [None] * 4
    with np.load(whole / "last.npz") as a, np.load(pieces / "last.npz") as b:
        for key in a.files:
            if key != "meta":
                assert np.array_equal(a[key], b[key]), key


def test_stop_after_ends_the_run_there_and_resuming_ends_it_as_one_run(tmp_path, capsys):
    """--stop-after E: epochs 1..E and a checkpoint (the full protocol's first E epochs, which
    sweep.py records as the E-epoch run); asked again, nothing trains; resumed without it, the
    run ends as one trained straight through."""
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    flags = ["--epochs", "4", "--restarts", "2"]
    run(*flags, "--out", str(whole))
    run(*flags, "--out", str(pieces), "--stop-after", "2")
    assert len(metrics(pieces)) == 2
    assert "--stop-after reached after epoch 2" in capsys.readouterr().out
    result = json.loads((pieces / "result.json").read_text())
    assert (result["epochs_run"], result["epochs"]) == (2, 4)
    run("--resume", "--out", str(pieces), "--stop-after", "2")
    assert len(metrics(pieces)) == 2 and "nothing to train" in capsys.readouterr().out
    run("--resume", "--out", str(pieces))
    assert metrics(pieces) == metrics(whole)


@pytest.mark.parametrize("selection, modes", [("greedy", []), ("sample", []),
                                              ("sample", ["--compare-eval-modes"])])
def test_testing_only_at_new_best_epochs_gives_the_same_run(tmp_path, selection, modes):
    """--test-at new-best: the test set only where the validation accuracy is a new best (each
    evaluation mode's own, with --compare-eval-modes); every other number, and the result, as
    every epoch's testing gives them (also resumed midway)."""
    every, best = tmp_path / "every", tmp_path / "best"
    flags = ["--epochs", "5", "--selection", selection, "--lr", "0.05", *modes]
    run(*flags, "--out", str(every))
    run(*flags, "--out", str(best), "--test-at", "new-best", "--time-limit", "1e-6")
    run("--resume", "--out", str(best), "--test-at", "new-best")
    rows, expected = metrics(best), metrics(every)
    assert len(rows) == len(expected) == 5
    tops = {}

    def tested_at_new_bests(row, want, mode):
        new_best = row["val_acc"] > tops.get(mode, 0)
        tops[mode] = max(tops.get(mode, 0), row["val_acc"])
        return row == (want if new_best else dict(want, test_acc=None))
    for row, want in zip(rows, expected):
        by_mode, wanted = row.pop("by_eval_mode", {}), want.pop("by_eval_mode", {})
        assert tested_at_new_bests(row, want, "run's")
        assert by_mode.keys() == wanted.keys() == ({"sample", "expected", "argmax"} if modes
                                                   else set())
        assert all(tested_at_new_bests(by_mode[m], wanted[m], m) for m in by_mode)
    assert sum(row["test_acc"] is None for row in rows) >= 1       # some epoch skipped its test
    result = json.loads((best / "result.json").read_text())
    assert result == dict(json.loads((every / "result.json").read_text()),
                          wall_minutes=result["wall_minutes"])


def test_finetune_and_eval_from_checkpoints(tmp_path, capsys):
    slot = tmp_path / "slot"
    run("--epochs", "2", "--out", str(slot))
    tuned = tmp_path / "tuned"
    run("--epochs", "1", "--finetune", str(slot / "best.npz"), "--out", str(tuned))
    config = json.loads((tuned / "config.json").read_text())
    assert config["slot"] is False and config["lr"] == configs.LEARNED_LR
    with np.load(tuned / "last.npz") as data:
        assert sorted(k for k in data.files if k.startswith("param/")) == \
            ["param/fc1.W", "param/fc2.W", "param/fc3.W"]
    start = tmp_path / "start"              # fine-tuning starts from the selected weights:
    run("--epochs", "0", "--finetune", str(slot / "best.npz"), "--out", str(start))
    best = json.loads((slot / "result.json").read_text())
    assert json.loads((start / "result.json").read_text())["test_acc"] == best["test_acc"]
    capsys.readouterr()
    assert train.main(["--eval", str(slot / "best.npz"), "--dataset", "synthetic"]) == 0
    reported = capsys.readouterr().out
    best = json.loads((slot / "result.json").read_text())
    assert f"test accuracy: {100 * best['test_acc']:.2f}%" in reported
    for name, row in best["selected_options"].items():        # the same selection, printed
        assert f"{name:8s} {row['weights']:>10,} weights  {row['mean_abs']:.2f}  " \
            f"{100 * row['beyond_half']:.1f}%  {row['mean']:+.2f}\n" in reported
    # fine-tuning into the slot machine's own folder, --overwrite or not, would delete what it
    # starts from: one line, and every file stays
    before = {p.name: p.read_bytes() for p in slot.iterdir()}
    for overwrite in ([], ["--overwrite"]):
        assert train.main(FAST + ["--finetune", str(slot / "best.npz"), "--out", str(slot),
                                  *overwrite]) == 2
        assert capsys.readouterr().err.strip() == f"error: --finetune {slot / 'best.npz'} lies " \
            f"in --out {slot}, whose run a new run replaces; fine-tune into another --out"
    assert {p.name: p.read_bytes() for p in slot.iterdir()} == before


def test_a_finished_run_resumed_writes_its_metrics_again(tmp_path):
    """An interrupt after the last epoch's last.npz and before its metrics.jsonl line: --resume
    has nothing to train, and writes metrics.jsonl again from the checkpoint's history."""
    out = tmp_path / "run"
    run("--epochs", "2", "--out", str(out))
    whole = (out / "metrics.jsonl").read_text()
    (out / "metrics.jsonl").write_text(whole.splitlines(keepends=True)[0])
    run("--resume", "--out", str(out))
    assert (out / "metrics.jsonl").read_text() == whole


def test_sampled_runs_record_how_they_were_evaluated(tmp_path, capsys):
    """A sampled net trains without weight decay by default and is evaluated by sampling (a
    mean of seeded draws); --compare-eval-modes records every mode, each with its best epoch."""
    out = tmp_path / "sampled"
    run("--epochs", "2", "--selection", "sample", "--compare-eval-modes", "--out", str(out))
    config = json.loads((out / "config.json").read_text())
    assert (config["weight_decay"], config["momentum"]) == (0.0, 0.9)
    assert (config["eval_mode"], config["eval_draws"], config["eval_seed"]) == ("sample", 5, 0)
    result = json.loads((out / "result.json").read_text())
    assert (result["eval_mode"], result["eval_draws"], result["eval_seed"]) == ("sample", 5, 0)
    rows = metrics(out)
    assert set(result["by_eval_mode"]) == {"sample", "expected", "argmax"}
    for mode, best in result["by_eval_mode"].items():
        top = max(rows, key=lambda r: r["by_eval_mode"][mode]["val_acc"])
        assert best == dict(best_epoch=top["epoch"], **top["by_eval_mode"][mode])
    assert all(r["val_acc"] == r["by_eval_mode"]["sample"]["val_acc"] for r in rows)
    capsys.readouterr()
    assert train.main(["--eval", str(out / "last.npz"), "--dataset", "synthetic",
                       "--eval-mode", "expected"]) == 0
    reported = capsys.readouterr().out
    last = rows[-1]["by_eval_mode"]["expected"]
    assert "evaluation: expected" in reported
    assert f"test accuracy: {100 * last['test_acc']:.2f}%" in reported
    # PS's exploration per layer, from other draws than the last epoch's record: close to it
    line = next(l for l in reported.splitlines() if l.startswith("draws that differ"))
    printed = dict(part.split() for part in line.split("): ")[1].split(", "))
    recorded = rows[-1]["draws_differ_by_layer"]
    assert sorted(printed) == sorted(recorded) == ["fc1", "fc2", "fc3"]
    assert all(abs(float(printed[n]) - recorded[n]) < 0.05 for n in recorded)


def test_weight_decay_and_momentum_flags_reach_the_optimizer(tmp_path, monkeypatch):
    greedy = configs.resolve_config(parse_args(["--K", "4"]))
    assert (greedy["weight_decay"], greedy["momentum"], greedy["eval_mode"]) == \
        (1e-4, 0.9, "argmax")
    out = tmp_path / "flags"
    built = []                                  # (momentum, weight decay) of every SGD made
    monkeypatch.setattr(optim.SGD, "__init__", lambda self, params, lr, momentum, weight_decay,
                        init=optim.SGD.__init__, **rest: built.append((momentum, weight_decay))
                        or init(self, params, lr, momentum, weight_decay, **rest))
    run("--epochs", "1", "--weight-decay", "0.003", "--momentum", "0.5", "--out", str(out))
    config = json.loads((out / "config.json").read_text())
    assert (config["weight_decay"], config["momentum"]) == (0.003, 0.5)
    run("--resume", "--out", str(out), "--epochs", "1")      # (finished: nothing to train)
    assert built == [(0.5, 0.003)] * 2


def test_the_authors_protocol_flags_reach_the_run_and_its_resume(tmp_path, monkeypatch):
    """--schedule constant, --dropout-at before, --augment flip: in config.json and the run's
    name; every epoch at --lr; the flips used; a resumed run ends as one trained straight
    through; a fine-tuned one keeps its slot machine's dropout placement."""
    flags = ["--epochs", "3", "--schedule", "constant", "--lr", "0.05", "--dropout-at",
             "before", "--augment", "flip"]
    config = configs.resolve_config(parse_args(flags))
    assert (config["schedule"], config["restarts"], config["dropout_at"], config["augment"]) \
        == ("constant", [], "before", "flip")
    assert config["out"].endswith("-constant-dropoutbefore-augmentflip-seed0")
    default = configs.resolve_config(parse_args([]))
    assert (default["schedule"], default["restarts"], default["dropout_at"],
            default["augment"]) == ("sgdr", [25, 75], "after", "none")      # MNIST: none
    from datasets import prepare
    flipped = []                                 # the flips themselves, counted
    monkeypatch.setitem(prepare.AUGMENTATIONS, "flip",
                        lambda x, rng: flipped.append(1) or prepare.random_flip(x, rng))
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    run(*flags, "--out", str(whole))
    assert [row["lr"] for row in metrics(whole)] == [0.05] * 3 and len(flipped) > 3
    run(*flags, "--out", str(pieces), "--stop-after", "1")
    flipped.clear()
    run("--resume", "--out", str(pieces))
    assert flipped and metrics(pieces) == metrics(whole)   # flipped alike, after the resume
    meta, _, _ = checkpoint.load(str(whole / "last.npz"))
    from slotnp.core import twins
    with twins.switched_on():                   # (the factored scores the run trained)
        assert configs.build_net(meta["config"]).names[:3] == ["flatten", "dropout1", "fc1"]
    tuned = tmp_path / "tuned"
    run("--epochs", "1", "--finetune", str(whole / "best.npz"), "--out", str(tuned))
    config = json.loads((tuned / "config.json").read_text())
    assert (config["dropout_at"], config["padding"]) == ("before", "same")
    run("--resume", "--out", str(tuned), "--epochs", "1")


def test_explicit_scores_train_alike_and_older_checkpoints_still_load(tmp_path, capsys):
    """--score-form explicit trains like the default factored form (float32: equal up to
    rounding); a checkpoint from before the factored form (no score_form in its config) loads."""
    factored, explicit = tmp_path / "factored", tmp_path / "explicit"
    # (the paper's bound: float32 rounding apart, two epochs of these stay within 1e-3)
    run("--epochs", "2", "--out", str(factored), "--option-bound", "1")
    run("--epochs", "2", "--out", str(explicit), "--score-form", "explicit", "--option-bound", "1")
    for a, b in zip(metrics(factored), metrics(explicit)):
        assert abs(a["train_loss"] - b["train_loss"]) < 1e-3 * a["train_loss"]
        assert abs(a["test_acc"] - b["test_acc"]) <= 0.01
    with np.load(explicit / "best.npz") as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["config"]["score_form"]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "older.npz", **arrays)
    capsys.readouterr()
    assert train.main(["--eval", str(tmp_path / "older.npz"), "--dataset", "synthetic"]) == 0
    best = json.loads((explicit / "result.json").read_text())
    assert f"test accuracy: {100 * best['test_acc']:.2f}%" in capsys.readouterr().out


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args, message", [
    (["--net", "resnet"], "invalid choice: 'resnet'"),
    (["--K", "0"], "--K: must be an integer >= 1"),
    (["--lr", "-0.1"], "--lr: must be a positive number"),
    (["--dropout", "1.5"], "--dropout: must be in [0, 1)"),
    (["--resume"], "--resume needs --out"),
    (["--schedule", "constant", "--restarts", "10"], "--schedule constant has none"),
    (["--momentum", "1.5"], "--momentum: must be a number in [0, 1)"),
    (["--weight-decay", "-1"], "--weight-decay: must be a number >= 0"),
    (["--eval-mode", "mean"], "invalid choice: 'mean'"),
    (["--eval-draws", "0"], "--eval-draws: must be an integer >= 1"),
])
def test_bad_flags_give_one_clear_line(args, message):
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_runtime_errors_give_one_clear_line(tmp_path):
    cases = []
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip file")
    cases.append((["--eval", str(corrupt)], "corrupt or truncated"))
    cases.append((["--net", "lenet", "--data-dir", str(tmp_path / "nothing")],
                  "could not download"))
    cases.append((["--eval", str(tmp_path / "missing.npz")], "does not exist"))
    from slotnp import backend
    if not backend.cupy_available():
        cases.append((["--backend", "cupy"], "--backend numpy"))
    for args, message in cases:
        result = cli(*args, "--no-progress")
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and message in lines[-1], result.stderr
        assert len(lines) == 1 or all("B/s" in l or "%" in l for l in lines[:-1]), lines


def test_a_run_from_before_options_version_2_resumes_with_its_own_options(tmp_path,
                                                                          monkeypatch):
    """Runs saved before version 2 have no options_version: they rebuild version 1 options,
    whose digest matches, and resume to the same end as an uninterrupted version 1 run."""
    monkeypatch.setattr(init, "OPTIONS_VERSION", 1)
    whole, old = tmp_path / "whole", tmp_path / "old"
    run("--epochs", "3", "--out", str(whole))
    run("--epochs", "3", "--out", str(old), "--time-limit", "1e-6")
    monkeypatch.undo()
    with np.load(old / "last.npz") as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    assert meta["config"].pop("options_version") == 1
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(old / "last.npz", **arrays)
    run("--resume", "--out", str(old))
    assert metrics(old) == metrics(whole)
    new = tmp_path / "new"
    run("--epochs", "3", "--out", str(new))
    assert json.loads((new / "config.json").read_text())["options_version"] == 2
    assert metrics(new) != metrics(whole)            # version 2 draws other options


def test_resume_and_eval_find_the_data_the_run_was_trained_from(tmp_path, capsys, rng):
    from test_datasets import fake_mnist
    fake_mnist(tmp_path / "elsewhere" / "mnist", rng, n_train=200, n_test=50)
    out = tmp_path / "run"
    flags = ["--net", "lenet", "--K", "4", "--batch-size", "50", "--no-progress"]
    assert train.main(flags + ["--epochs", "2", "--time-limit", "1e-6", "--out", str(out),
                               "--data-dir", str(tmp_path / "elsewhere")]) == 0
    assert json.loads((out / "config.json").read_text())["data_dir"] == \
        str(tmp_path / "elsewhere")
    assert train.main(["--resume", "--out", str(out), "--no-progress"]) == 0     # no --data-dir
    assert train.main(["--eval", str(out / "best.npz")]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_train_resume_finetune_eval_and_export_on_each_backend(tmp_path, capsys, backend_name):
    """train.py end to end on the backend: a run with sampling and dropout resumed to the same
    metrics, a greedy run fine-tuned, evaluated and exported (training.py, checkpoint.py,
    prepare.normalise_to_device and nets.freeze on the device)."""
    on = ["--backend", backend_name]
    flags = on + ["--epochs", "3", "--selection", "sample"]
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    run(*flags, "--out", str(whole))
    run(*flags, "--out", str(pieces), "--time-limit", "1e-6")
    run("--resume", "--out", str(pieces), *on)
    assert metrics(pieces) == metrics(whole)
    greedy = tmp_path / "greedy"
    run(*on, "--epochs", "2", "--out", str(greedy))
    run(*on, "--epochs", "1", "--finetune", str(greedy / "best.npz"), "--out", str(tmp_path / "ft"))
    assert train.main(["--export", str(greedy / "best.npz"), str(tmp_path / "net.slot")] + on) == 0
    capsys.readouterr()
    for path in (greedy / "best.npz", tmp_path / "net.slot"):
        assert train.main(["--eval", str(path), "--dataset", "synthetic"] + on) == 0
    lines = [l for l in capsys.readouterr().out.splitlines() if "accuracy" in l]
    assert lines[:2] == lines[2:]                       # the export evaluates as its checkpoint
    from slotnp import backend
    backend.use("numpy")


def test_epochs_0_records_the_untrained_net(tmp_path):
    """--epochs 0: the net as drawn, evaluated and recorded as any run (Fig. 2's baseline)."""
    out = tmp_path / "random"
    run("--epochs", "0", "--out", str(out))
    rows = [json.loads(line) for line in open(out / "metrics.jsonl")]
    assert len(rows) == 1 and rows[0]["epoch"] == 0 and rows[0]["train_loss"] is None
    result = json.loads((out / "result.json").read_text())
    assert result["best_epoch"] == 0 and result["epochs_run"] == 0
    assert result["test_acc"] == rows[0]["test_acc"] < 0.5        # untrained: near chance
    assert (out / "curves.png").exists() and (out / "selected.png").exists()


def test_a_slot_run_draws_its_selected_weights_and_its_exploration(tmp_path):
    from PIL import Image
    out = tmp_path / "run"
    run("--epochs", "2", "--out", str(out))
    assert Image.open(out / "curves.png").size == (2400, 640)       # loss, accuracy, changes
    assert Image.open(out / "selected.png").size == (2160, 630)     # fc1, fc2, fc3
    learned = tmp_path / "learned"
    run("--epochs", "1", "--learned", "--out", str(learned))
    assert Image.open(learned / "curves.png").size == (1600, 640)
    assert not (learned / "selected.png").exists()
    assert "selected_options" not in json.loads((learned / "result.json").read_text())


def test_the_selected_options_summary_on_a_tiny_case():
    """Mean |option| in units of sigma, the mean, and the share strictly beyond half the
    bound."""
    layers = [("a", np.array([[-1.5, 0.2], [1.0, -0.9]]), 2.0), ("b", np.array([0.5]), 0.5)]
    assert run_folder.selected_summary(layers) == {
        "a": dict(weights=4, mean_abs=0.9, mean=-0.3, beyond_half=0.25),  # 1.0 is not beyond
        "b": dict(weights=1, mean_abs=0.5, mean=0.5, beyond_half=1.0)}


def test_learned_biases_reach_the_run_its_eval_export_resume_and_fine_tuning(tmp_path, capsys):
    """--bias learned: in config.json and the run's name; every layer's bias trained and saved;
    --eval prints each layer's mean bias and share below 0 from the checkpoint's arrays; the
    export keeps the biases (format 3) and evaluates as the checkpoint; a resume ends as a run
    trained straight through; fine-tuning starts from the slot machine's biases; --resume with
    --bias none is refused."""
    config = configs.resolve_config(parse_args(["--bias", "learned"]))
    assert config["bias"] == "learned" and config["out"].endswith("-biaslearned-seed0")
    assert configs.resolve_config(parse_args([]))["bias"] == "none"
    whole, pieces = tmp_path / "whole", tmp_path / "pieces"
    run("--epochs", "2", "--bias", "learned", "--K", "4", "--out", str(whole))
    run("--epochs", "2", "--bias", "learned", "--K", "4", "--out", str(pieces), "--stop-after",
        "1")
    run("--resume", "--out", str(pieces))
    assert metrics(pieces) == metrics(whole)
    capsys.readouterr()
    assert train.main(["--eval", str(whole / "best.npz"), "--dataset", "synthetic"]) == 0
    reported = capsys.readouterr().out
    with np.load(whole / "best.npz") as data:
        biases = {name: data[f"param/{name}.b"] for name in ("fc1", "fc2", "fc3")}
    for name, b in biases.items():
        assert np.abs(b).max() > 0                                  # trained from 0
        share = 100 * float((b < 0).mean())
        assert f"{name:8s} {b.size:>10,} biases   {float(b.mean()):+.4f}  {share:.1f}%\n" \
            in reported
    exported = tmp_path / "net.slot"
    assert train.main(["--export", str(whole / "best.npz"), str(exported)]) == 0
    header, _, read = export.read(str(exported))
    assert header["format"] == 3
    assert all(np.array_equal(read[f"{name}.b"], b) for name, b in biases.items())
    capsys.readouterr()
    for path in (exported, whole / "best.npz"):
        assert train.main(["--eval", str(path), "--dataset", "synthetic"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "accuracy:" in line]
    assert lines[:2] == lines[2:4]
    tuned = tmp_path / "tuned"
    run("--epochs", "0", "--finetune", str(whole / "best.npz"), "--out", str(tuned))
    assert json.loads((tuned / "config.json").read_text())["bias"] == "learned"
    with np.load(tuned / "best.npz") as data:
        assert all(np.array_equal(data[f"param/{n}.b"], biases[n]) for n in biases)
    assert train.main(["--resume", "--out", str(pieces), "--bias", "none"]) == 2
    assert "--bias none" in capsys.readouterr().err


def test_learned_biases_train_at_their_own_rate(tmp_path, monkeypatch, capsys):
    """--bias-lr: the biases' base rate, by default learned weights' (0.01; a run of learned
    weights: its own --lr), in config.json and, where given, the run's name; SGD gets it as a
    factor of the run's rate. PS trains its scores at 25: with biases at 0.01 it learns, with
    biases at 25 fc2's units die and it stays near chance. A resume refuses another rate."""
    def config(*flags):
        return configs.resolve_config(parse_args(list(flags)))
    assert config("--bias", "learned")["bias_lr"] == 0.01
    assert config("--bias", "learned", "--selection", "sample")["bias_lr"] == 0.01
    assert config("--bias", "learned", "--learned", "--lr", "0.05")["bias_lr"] == 0.05
    assert config("--bias-lr", "0.2")["bias_lr"] is None                  # no biases to train
    assert config("--bias-lr", "0.2")["out"] == config()["out"]
    assert config("--bias", "learned", "--bias-lr", "0.2")["out"].endswith(
        "-biaslearned-biaslr0.2-seed0")
    scales = []
    monkeypatch.setattr(optim.SGD, "__init__", lambda self, *args, init=optim.SGD.__init__,
                        **kwargs: scales.append(kwargs["lr_scale"]) or init(self, *args,
                                                                             **kwargs))
    accuracy = {}
    for rate in ("0.01", "25"):
        out = tmp_path / f"ps-{rate}"
        run("--selection", "sample", "--epochs", "3", "--bias", "learned", "--bias-lr", rate,
            "--dropout", "0", "--out", str(out))
        accuracy[rate] = json.loads((out / "result.json").read_text())["test_acc"]
    assert scales == [{f"fc{i}.b": float(rate) / 25 for i in (1, 2, 3)}
                      for rate in ("0.01", "25")]
    assert accuracy["0.01"] > 0.5 and accuracy["25"] < 0.2, accuracy
    capsys.readouterr()
    assert train.main(["--resume", "--out", str(tmp_path / "ps-25"), "--bias-lr", "0.01"]) == 2
    assert "--bias-lr 0.01 (the run's bias lr: 25)" in capsys.readouterr().err


def test_eval_prints_a_learned_nets_weights_in_units_of_sigma(tmp_path, capsys):
    """For learned weights, --eval prints each layer's mean |w| and mean w in units of
    sigma = sqrt(2 / (fan_in + fan_out)), computed here from the checkpoint's own arrays."""
    out = tmp_path / "learned"
    run("--epochs", "1", "--learned", "--out", str(out))
    capsys.readouterr()
    assert train.main(["--eval", str(out / "best.npz"), "--dataset", "synthetic"]) == 0
    reported = capsys.readouterr().out
    with np.load(out / "best.npz") as data:
        for name, (fan_out, fan_in) in (("fc1", (300, 784)), ("fc2", (100, 300)),
                                        ("fc3", (10, 100))):
            w = data[f"param/{name}.W"] / np.sqrt(2 / (fan_in + fan_out))
            mean_abs, mean = (round(float(v), 4) for v in (np.abs(w).mean(), w.mean()))
            assert f"{name:8s} {w.size:>10,} weights  {mean_abs:.2f}  {mean:+.2f}\n" in reported
