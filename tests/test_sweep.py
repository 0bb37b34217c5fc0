"""sweep.py on a tiny synthetic grid: names, commands, skip, resume after a kill, collation."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import sweep  # noqa: E402
from slotnp.run import config as configs  # noqa: E402
from slotnp.run.collate import collate, derived_text, describe, line_label, \
    write_collation  # noqa: E402

GRID = ["--net", "lenet", "--K", "2", "--selection", "greedy", "sample", "--learned",
        "--seeds", "0", "1", "--epochs", "3"]
TRAIN_FLAGS = ["--", "--dataset", "synthetic", "--batch-size", "100"]


def folders(tmp_path):
    return ["--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "results")]


def sweep_cli(tmp_path, *args, **kwargs):
    return subprocess.run([sys.executable, os.path.join(ROOT, "sweep.py"), *GRID,
                           *folders(tmp_path), *args, *TRAIN_FLAGS], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, **kwargs)


def records(results):
    """Every recorded file's content (results/mnist/runs/<run>), with the wall-clock fields
    taken out."""
    found = {}
    results = os.path.join(results, "mnist", "runs")
    for name in sorted(os.listdir(results)):
        folder = os.path.join(results, name)
        if not os.path.isfile(os.path.join(folder, "result.json")):
            continue
        rows = [json.loads(line) for line in open(os.path.join(folder, "metrics.jsonl"))]
        for row in rows:
            row.pop("seconds")
            row.pop("train_seconds")
        result = json.load(open(os.path.join(folder, "result.json")))
        result.pop("wall_minutes")
        config = json.load(open(os.path.join(folder, "config.json")))
        config.pop("out")
        found[name] = (rows, result, config)
    return found


def write_record(results, run, test_acc=0.7):
    """A finished run's records as sweep.record leaves them, result.json and config.json, in
    results/<dataset>/runs/<name>/ (its accuracy as validation and test); the folder."""
    folder = results / run.dataset / "runs" / run.name
    os.makedirs(folder, exist_ok=True)             # (grids may share a run)
    epochs = 200 if run.epochs is None else run.epochs
    (folder / "result.json").write_text(json.dumps(dict(
        best_epoch=1, val_acc=test_acc, test_acc=test_acc, epochs_run=epochs, epochs=epochs,
        wall_minutes=1.0)))
    (folder / "config.json").write_text(json.dumps(dict(
        slot=run.K is not None and run.finetune_of is None, options_version=2, **run.config())))
    return folder


def test_a_record_from_before_bias_lr_counts_as_trained_at_its_own_rate(tmp_path):
    """A run with learned biases recorded before --bias-lr (no bias_lr in its config.json)
    trained them at its own rate: GS K = 8's record is the run at --bias-lr 0.2, not the run at
    the default rate (learned weights': 0.01); learned weights' record is their default run."""
    def runs(**rates):
        return sweep.grid(["conv2"], K=[8], selection=["greedy"], learned=True, seeds=[1],
                          epochs=25, bias=["learned"], **rates)
    (slot_at_own, _), (slot_at_default, learned) = runs(bias_lr=[0.2]), runs()
    assert slot_at_own.name.endswith("-biaslearned-biaslr0.2-e25-seed1")
    for run, lr in ((slot_at_own, 0.2), (learned, 0.01)):
        folder = tmp_path / run.name
        folder.mkdir()
        ran = dict(run.config(), slot=run.K is not None, options_version=2, lr=lr)
        ran.pop("bias_lr", None)
        (folder / "config.json").write_text(json.dumps(ran))
        assert sweep.current(str(folder), run)
    assert not sweep.current(str(tmp_path / slot_at_own.name), slot_at_default)


def test_run_names_and_flags_say_what_defines_a_run():
    runs = sweep.grid(["lenet"], K=[2], selection=["greedy", "sample"], learned=True,
                      seeds=[0, 1], option_bound=[1.0, sweep.SQRT3], normalise=["channels"],
                      score_bound=["paper"])
    names = [r.name for r in runs]
    assert names[:2] == ["lenet-K2-greedy-bound1-wd0.0001-seed0",
                         "lenet-K2-greedy-bound1-wd0.0001-seed1"]
    assert "lenet-K2-greedy-bound1.73205-wd0.0001-seed0" in names
    assert "lenet-K2-sample-bound1-wd0-seed1" in names           # sampling's default decay
    assert names[-2:] == ["lenet-learned-wd0.0001-seed0", "lenet-learned-wd0.0001-seed1"]
    assert len(set(names)) == len(names) == 2 * 2 * 2 + 2
    sampled = runs[names.index("lenet-K2-sample-bound1-wd0-seed1")]
    flags = sampled.train_flags("R")
    assert flags[flags.index("--seed") + 1] == "1" and "--compare-eval-modes" in flags
    assert flags[flags.index("--normalise") + 1] == "channels"
    assert flags[-2:] == ["--out", os.path.join("R", sampled.name)]
    # train.py's defaults: the authors' bound, initial scores of that bound (for GS), and
    # MNIST pixels in [0, 1]
    extras = sweep.grid(["lenet"], K=[8], selection=["greedy"], shared=True, finetune=True)
    assert [r.name for r in extras] == [
        "lenet-K8-greedy-bound1.73205-scores1.73205-wd0.0001-normnone-seed0",
        "lenet-K8-greedy-shared-bound1.73205-scores1.73205-wd0.0001-normnone-seed0",
        "lenet-K8-greedy-bound1.73205-scores1.73205-wd0.0001-normnone-finetune-wd0.0001-seed0"]
    flags = extras[0].train_flags("R")
    assert flags[flags.index("--score-bound") + 1] == "1.73205"
    assert sweep.grid(["lenet"], K=[8], selection=["sample"])[0].train_flags("R")[
        flags.index("--score-bound") + 1] == "paper"
    popup = sweep.grid(["lenet"], edge_popup=[0.1, 0.5], seeds=[0])
    assert [r.name for r in popup] == ["lenet-edgepopup-keep0.1-wd0.0001-seed0",
                                       "lenet-edgepopup-keep0.5-wd0.0001-seed0"]
    flags = popup[1].train_flags("R")
    assert flags[flags.index("--method") + 1:flags.index("--method") + 4] == [
        "edge-popup", "--keep", "0.5"]
    assert flags[flags.index("--normalise") + 1] == "channels"        # edge-popup's loader
    assert extras[2].train_flags("R")[-4:-2] == [
        "--finetune", os.path.join("R", extras[0].name, "best.npz")]
    # the authors' departures from the paper's protocol: in the name, the flags and the config,
    # each only where it departs from train.py's default
    runs = sweep.grid(["conv2"], K=[8], selection=["greedy"], learned=True, seeds=[0],
                      padding=["same", "authors"])
    assert [r.name for r in runs] == [
        "conv2-K8-greedy-bound1.73205-scores1.73205-wd0.0001-seed0",
        "conv2-K8-greedy-bound1.73205-scores1.73205-wd0.0001-padauthors-seed0",
        "conv2-learned-wd0.0001-seed0", "conv2-learned-wd0.0001-padauthors-seed0"]
    for run in runs:
        flags, config = run.train_flags("R"), run.config()
        if "authors" in run.name:
            assert config["padding"] == "authors" and flags[flags.index("--padding") + 1] == \
                "authors"
            assert "leading convolutions unpadded" in describe(run)
        else:
            assert "padding" not in config and "--padding" not in flags
    authors = sweep.grid(["conv2"], K=[8], selection=["greedy"], seeds=[0], padding=["authors"],
                         schedule=["constant"], dropout_at=["before"], augment=["flip"],
                         lr=[0.1], epochs=140)[0]
    assert authors.name == "conv2-K8-greedy-bound1.73205-scores1.73205-wd0.0001-padauthors-" \
        "constant-dropoutbefore-augmentflip-lr0.1-e140-seed0"
    flags, config = authors.train_flags("R"), authors.config()
    assert {key: config.get(key) for key in configs.VARIATIONS} == dict(
        padding="authors", schedule="constant", dropout_at="before", augment="flip", lr=0.1,
        bias=None, bias_lr=None)
    assert [flags[flags.index(flag) + 1] for flag in ("--padding", "--schedule", "--dropout-at",
                                                      "--augment", "--lr")] == \
        ["authors", "constant", "before", "flip", "0.1"]
    assert describe(authors) == "GS, K = 8, bound 1.73205, scores U(0, 1.73205 sigma), " \
        "leading convolutions unpadded, a constant rate, dropout before FC1 and FC2, " \
        "flips only, lr 0.1, 140 epochs"
    biased = sweep.grid(["conv2"], K=[8], selection=["greedy"], learned=True, seeds=[0],
                        bias=["learned"], epochs=25)
    assert [run.name for run in biased] == [
        "conv2-K8-greedy-bound1.73205-scores1.73205-wd0.0001-biaslearned-e25-seed0",
        "conv2-learned-wd0.0001-biaslearned-e25-seed0"]
    for run in biased:
        flags = run.train_flags("R")
        assert flags[flags.index("--bias") + 1] == "learned" and "learned biases" in \
            describe(run)
    # on MNIST the default augmentation is none: crop-flip departs from it
    mnist = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0],
                       augment=["none", "crop-flip"])
    assert [run.name for run in mnist] == [
        f"lenet-K2-greedy-bound1.73205-scores1.73205-wd0.0001-normnone-{tail}seed0"
        for tail in ("", "augmentcrop-flip-")]
    assert "random crops and flips" in describe(mnist[1])
    # train.py's own defaults, named, change nothing
    default = sweep.grid(["conv2"], K=[8], selection=["greedy"], seeds=[0], padding=["same"],
                         schedule=["sgdr"], dropout_at=["after"], augment=["crop-flip"])[0]
    assert default.name == runs[0].name and default.train_flags("R") == runs[0].train_flags("R")
    with pytest.raises(ValueError, match="unknown variations"):
        sweep.grid(["conv2"], K=[8], selection=["greedy"], pading=["authors"])
    # CIFAR-10 runs test only at new-best epochs, in every invocation (a resume too); MNIST
    # runs every epoch
    cifar = sweep.grid(["conv2"], K=[8], selection=["greedy"], seeds=[0], epochs=25)[0]
    for run, tested in ((cifar, ["--test-at", "new-best"]), (extras[0], [])):
        line = sweep.command(run, "R", "S", "D")
        assert line[line.index("--no-progress") + 1:] == tested


def test_the_sweep_overwrites_only_a_folder_that_no_epoch_finished_in(tmp_path):
    """A config.json alone (killed in its first epoch): started again with --overwrite. A
    last.npz of another configuration, or a best.npz: never overwritten (train.py refuses,
    naming what the folder holds)."""
    run = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0])[0]
    folder = tmp_path / "runs" / run.name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(dict(net="lenet", K=4)))   # not this run

    def overwrites():
        return "--overwrite" in sweep.command(run, str(tmp_path / "runs"),
                                              str(tmp_path / "results"), "D")
    assert overwrites()
    (folder / "metrics.jsonl").write_text("{}\n")
    for trained in ("last.npz", "best.npz"):
        (folder / trained).write_bytes(b"epochs")
        assert not overwrites(), trained
        (folder / trained).unlink()


def test_print_commands_lists_one_train_command_per_unfinished_run(tmp_path):
    printed = sweep_cli(tmp_path, "--print-commands")
    lines = printed.stdout.strip().splitlines()
    assert printed.returncode == 0 and len(lines) == 6
    assert all(line.startswith("python train.py --net lenet") for line in lines)
    assert all(line.endswith("--resume-or-start --data-dir data --no-progress --dataset "
                             "synthetic --batch-size 100") for line in lines)
    # the commands, run as printed, are the sweep: it then has nothing left to do; and one run
    # twice (a scheduler starting it again) resumes instead of failing
    for line in lines[:1]:
        for _ in range(2):
            subprocess.run(line.split(), cwd=ROOT, check=True,
                           capture_output=True, timeout=120)
    run = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0], epochs=3)[0]  # (defaults)
    assert not sweep.record(run, str(tmp_path / "runs"), str(tmp_path / "results"))  # (MNIST)
    run.extra = TRAIN_FLAGS[1:]                             # the data it was trained on
    assert sweep.record(run, str(tmp_path / "runs"), str(tmp_path / "results"))
    assert len(sweep_cli(tmp_path, "--print-commands").stdout.strip().splitlines()) == 5


def test_a_killed_sweep_resumes_and_ends_with_the_same_results(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert sweep_cli(whole, "--jobs", "2").returncode == 0
    # kill -9 the sweep and its runs mid-grid, as the end of a session does
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "sweep.py"), *GRID,
                                *folders(killed), "--jobs", "2", *TRAIN_FLAGS], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.time() + 120
    recorded_in = killed / "results" / "mnist" / "runs"
    while time.time() < deadline:
        done = os.path.isdir(recorded_in) and len(os.listdir(recorded_in)) >= 2
        if done and any((killed / "runs" / r).joinpath("last.npz").exists()
                        for r in os.listdir(killed / "runs")
                        if not (recorded_in / r).exists()):
            break
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    recorded = len(os.listdir(recorded_in))
    assert 0 < recorded < 6                                  # killed partway through
    again = sweep_cli(killed, "--jobs", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{recorded} recorded, {6 - recorded} to run" in again.stdout
    assert "resume " in again.stdout                          # a run continued from last.npz
    assert records(whole / "results") == records(killed / "results")
    # started once more, it finds everything recorded and leaves the records as they are
    before = {name: open(recorded_in / name / "result.json").read()
              for name in os.listdir(recorded_in)}
    third = sweep_cli(killed)
    assert "6 recorded, 0 to run" in third.stdout
    assert before == {name: open(recorded_in / name / "result.json").read()
                      for name in before}


def test_a_paused_run_resumes_to_the_same_result(tmp_path):
    """--time-limit pauses every run after its first epoch; the next sweep finishes them."""
    paused = sweep_cli(tmp_path, "--time-limit", "1e-6")
    assert paused.returncode == 0 and paused.stdout.count("  paused  ") == 6
    results = tmp_path / "results" / "mnist"
    assert "runs" not in os.listdir(results)                          # nothing finished
    so_far = results / "in-progress"                  # but every run's first epoch is recorded
    assert len(os.listdir(so_far)) == 6
    for name in os.listdir(so_far):
        assert sorted(os.listdir(so_far / name)) == ["config.json", "curves.png", "metrics.jsonl"]
        assert len(open(so_far / name / "metrics.jsonl").readlines()) == 1
    progress = (results / "sweep-progress.md").read_text().splitlines()
    assert len(progress) == 2 + 6 and all("| 1 of 3 |" in row for row in progress[2:])
    resumed = sweep_cli(tmp_path, "--until", "+600")     # each run told the minutes left
    assert resumed.stdout.count("resume ") == 6 and "none started after " in resumed.stdout
    assert resumed.stdout.count(" (1 of 3 epochs saved)") == 6     # how far each had come
    for name in os.listdir(tmp_path / "runs"):
        command = [line for line in open(tmp_path / "runs" / name / "train.log")
                   if line.startswith("$ ")][-1].split()
        assert 590 < float(command[command.index("--time-limit") + 1]) <= 600
    assert os.listdir(so_far) == [] and not (results / "sweep-progress.md").exists()
    whole = tmp_path / "whole"
    sweep_cli(whole)
    assert records(whole / "results") == records(tmp_path / "results")


def test_a_run_started_again_replaces_its_records_so_far_only_once_past_them(tmp_path):
    """A machine that comes back new loses the runs' folders, not their committed records so
    far: the run started again from epoch 0 must not shorten them."""
    run = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0], epochs=200,
                     option_bound=[1.0], normalise=["channels"], score_bound=["paper"])[0]
    runs, results = tmp_path / "runs", tmp_path / "results"
    folder = runs / run.name
    os.makedirs(folder)
    (folder / "config.json").write_text(json.dumps(dict(
        slot=True, options_version=2, restarts=[25, 75], **run.config())))

    def train_to(epochs):        # val accuracy peaks at epoch 30; test accuracy = epoch / 100
        (folder / "metrics.jsonl").write_text("".join(
            json.dumps(dict(epoch=e, lr=0.1, train_loss=1.0, train_acc=0.5,
                            val_acc=0.5 - abs(e - 30) / 100, test_acc=e / 100)) + "\n"
            for e in range(1, epochs + 1)))

    target = sweep.progress_of(str(results), run)
    os.makedirs(target)                   # an older run's record (options version 1), longer
    with open(os.path.join(target, "config.json"), "w") as file:
        json.dump(dict(slot=True, options_version=1, **run.config()), file)
    with open(os.path.join(target, "metrics.jsonl"), "w") as file:
        file.write("".join(json.dumps(dict(epoch=e, val_acc=0.1, test_acc=0.1)) + "\n"
                           for e in range(1, 51)))
    open(os.path.join(target, "curves.png"), "wb").close()
    train_to(3)
    assert sweep.record_progress(run, str(runs), str(results))        # replaces it, whole
    assert sorted(os.listdir(target)) == ["config.json", "curves.png", "metrics.jsonl"]
    assert os.path.getsize(os.path.join(target, "curves.png")) > 1000   # drawn anew
    train_to(1)                                             # started again from epoch 0
    assert not sweep.record_progress(run, str(runs), str(results))
    assert len(open(os.path.join(target, "metrics.jsonl")).readlines()) == 3
    train_to(26)                                            # past the record
    assert sweep.record_progress(run, str(runs), str(results))
    write_collation([run], str(results), "grid")
    # the best validation epoch so far, and the best among the 25 before the first restart
    assert (results / "mnist" / "grid-progress.md").read_text().splitlines()[2] == \
        "| GS, K = 2, bound 1 | 0.0001 | 26 of 200 | 26.00 (26) | 25.00 (25) | 97.15 |"
    shutil.rmtree(target)                    # a run not yet past its first restart: no short
    train_to(24)
    assert sweep.record_progress(run, str(runs), str(results))
    write_collation([run], str(results), "grid")
    assert (results / "mnist" / "grid-progress.md").read_text().splitlines()[2] == \
        "| GS, K = 2, bound 1 | 0.0001 | 24 of 200 | 24.00 (24) | - | 97.15 |"
    # the summary's cell and the full table say it is in progress, and how far
    assert (results / "mnist" / "grid-summary.md").read_text().splitlines()[2] == \
        "| 2 | in progress (24 of 200 epochs) | 97.15 |"
    assert "| 200 | in progress (24 of 200 epochs) | 0 |" in \
        (results / "mnist" / "grid.md").read_text()
    # of the epochs its own configuration trains (learned CONV-4: 330), not the paper's 200
    learned = sweep.grid(["conv4"], learned=True)[0]
    so_far = sweep.progress_of(str(results), learned)
    os.makedirs(so_far)
    with open(os.path.join(so_far, "config.json"), "w") as file:
        json.dump(dict(slot=False, epochs=330, **learned.config()), file)
    with open(os.path.join(so_far, "metrics.jsonl"), "w") as file:
        file.write("".join(json.dumps(dict(epoch=e, val_acc=0.5)) + "\n" for e in (1, 2)))
    from slotnp.run.collate import accuracy_cell, collate
    assert accuracy_cell(collate([learned], str(results))[0]) == "in progress (2 of 330 epochs)"
    from slotnp.run.collate import tested                 # an epoch that skipped the test set
    assert tested(dict(epoch=3, test_acc=None)) == "-" == tested({})
    # finished outside the sweep (a queue, by hand): --collate records it, pictures too
    train_to(200)
    (folder / "result.json").write_text(json.dumps(dict(
        best_epoch=30, val_acc=0.5, test_acc=0.3, epochs_run=200, epochs=200, wall_minutes=9.0)))
    (folder / "selected.png").write_bytes(b"a picture")
    assert sweep.main(["--net", "lenet", "--K", "2", "--selection", "greedy", "--epochs", "200",
                       "--option-bound", "1", "--normalise", "channels", "--score-bound", "paper",
                       "--collate", "--runs", str(runs), "--results", str(results)]) == 0
    recorded = results / "mnist" / "runs" / run.name
    assert sorted(os.listdir(recorded)) == ["config.json", "metrics.jsonl", "result.json",
                                            "selected.png"]
    assert not os.path.exists(sweep.progress_of(str(results), run))
    assert not (results / "mnist" / "sweep-progress.md").exists()


def test_collation_gives_mean_and_std_over_seeds_and_a_figure(tmp_path):
    results = tmp_path / "results"
    recorded_in = results / "mnist" / "runs"
    runs = sweep.grid(["lenet"], K=[2, 4], selection=["greedy"], learned=True, seeds=[0, 1],
                      option_bound=[1.0], normalise=["channels"], score_bound=["paper"])
    accuracies = {"lenet-K2-greedy-bound1-wd0.0001-seed0": 0.97,
                  "lenet-K2-greedy-bound1-wd0.0001-seed1": 0.98,
                  "lenet-K4-greedy-bound1-wd0.0001-seed0": 0.981,
                  "lenet-learned-wd0.0001-seed0": 0.979,
                  "lenet-learned-wd0.0001-seed1": 0.9794}
    for name, accuracy in accuracies.items():
        os.makedirs(recorded_in / name)
        (recorded_in / name / "result.json").write_text(json.dumps(dict(
            best_epoch=5, val_acc=accuracy, test_acc=accuracy, epochs_run=200, epochs=200,
            wall_minutes=4.0)))
        run = next(r for r in runs if r.name == name)
        (recorded_in / name / "config.json").write_text(json.dumps(dict(
            slot="learned" not in name, options_version=2, **run.config())))
    # a record from before options version 2 does not count: that run is trained again
    old = recorded_in / "lenet-K4-greedy-bound1-wd0.0001-seed1"
    os.makedirs(old)
    (old / "result.json").write_text(json.dumps(dict(
        best_epoch=5, val_acc=0.5, test_acc=0.5, epochs_run=200, epochs=200, wall_minutes=4.0)))
    (old / "config.json").write_text(json.dumps(dict(slot=True, **runs[3].config())))
    assert sweep.status(runs[3], str(tmp_path / "runs"), str(results)) == "new"
    table, figures = write_collation(runs, str(results), "grid")
    assert table == str(results / "mnist" / "grid.md")
    assert figures == [str(results / "mnist" / "grid.png")]
    text = open(table).read()
    assert "| lenet | GS, K = 2, bound 1 | 0.0001 | 200 | **97.50** +- 0.71 | 2 | 4.0 | 97.15 |" \
        in text
    assert "| lenet | GS, K = 4, bound 1 | 0.0001 | 200 | **98.10** | 1 | 4.0 | 98.00 |" \
        in text
    assert "| lenet | learned weights | 0.0001 | 200 | **97.92** +- 0.03 | 2 | 4.0 | 97.95 |" \
        in text
    from PIL import Image
    assert Image.open(figures[0]).size == (1400, 900)
    summary = open(results / "mnist" / "grid-summary.md").read().splitlines()  # the README's
    assert summary[:4] == [                        # a grid without PS runs: GS's columns
        "| K | GS, slotnp, scores lambda (seeds; minutes) | GS, paper |", "|---|---|---|",
        "| 2 | **97.50** +- 0.71 (2; 4.0 min) | 97.15 |",
        "| 4 | **98.10** (1; 4.0 min) | 98.00 |"]
    assert "| learned weights | **97.92** +- 0.03 (2) | 4.0 | 97.95 |" in summary
    assert summary[-1] == ("Slot machine minus learned weights, in points: GS K = 2 -0.42 "
                           "(the paper: -0.80); GS K = 4 +0.18 (the paper: +0.05). Each mean "
                           "is over its own row's seeds.")             # (K = 4: one seed)
    collated = collate(runs, str(results))
    assert collated[0]["mean"] == pytest.approx(97.5) and collated[0]["seeds"] == [0, 1]
    assert collated[0]["std"] == pytest.approx(np.std([97.0, 98.0], ddof=1))
    # records kept without their per-epoch curve draw no exploration figure, and do not stop
    # the collation; a curve with the selections changed per epoch draws it
    exploration = results / "mnist" / "grid.exploration.png"
    assert not exploration.exists()
    (recorded_in / "lenet-K2-greedy-bound1-wd0.0001-seed0" / "metrics.jsonl").write_text(
        "".join(json.dumps(dict(epoch=e, selection_changed=0.1 / e)) + "\n" for e in (1, 2, 3)))
    write_collation(runs, str(results), "grid")
    assert Image.open(exploration).size == (900, 700)                   # GS alone
    sampled = sweep.grid(["lenet"], K=[2], selection=["sample"], seeds=[0], option_bound=[1.0],
                         normalise=["channels"], score_bound=["paper"])[0]
    os.makedirs(recorded_in / sampled.name)
    (recorded_in / sampled.name / "result.json").write_text(json.dumps(dict(
        best_epoch=3, val_acc=0.9, test_acc=0.9, epochs_run=3, epochs=3, wall_minutes=1.0)))
    (recorded_in / sampled.name / "config.json").write_text(json.dumps(dict(
        slot=True, options_version=2, **sampled.config())))
    (recorded_in / sampled.name / "metrics.jsonl").write_text("".join(json.dumps(dict(
        epoch=e, selection_changed=0.1 / e, draws_differ=0.4 / e)) + "\n" for e in (1, 2, 3)))
    write_collation(runs + [sampled], str(results), "grid")
    assert Image.open(exploration).size == (2700, 700)   # GS, PS's argmax, PS's draws
    summary = open(results / "mnist" / "grid-summary.md").read().splitlines()
    assert summary[:3] == [                        # with a PS run, PS's columns too
        "| K | GS, slotnp, scores lambda (seeds; minutes) | GS, paper | PS, slotnp (seeds; "
        "minutes) | PS, paper | PS: expected weight, argmax |", "|---|---|---|---|---|---|",
        "| 2 | **97.50** +- 0.71 (2; 4.0 min) | 97.15 | **90.00** (1; 1.0 min) | 97.07 | - |"]
    from slotnp.run.collate import summary_markdown          # PS alone: PS's columns alone
    assert summary_markdown(collate([sampled], str(results))).splitlines()[:3] == [
        "| K | PS, slotnp (seeds; minutes) | PS, paper | PS: expected weight, argmax |",
        "|---|---|---|---|", "| 2 | **90.00** (1; 1.0 min) | 97.07 | - |"]


def test_fine_tuning_runs_take_their_own_epochs_where_given():
    """cifar-conv2-finetune: the full-protocol GS runs (train.py's 200 epochs), then each one's
    fine-tuning of 25 epochs from its best checkpoint; without finetune_epochs, as many as its
    slot machine (None: train.py's default)."""
    runs = sweep.grid(**sweep.CIFAR_CONV2_FINETUNE)
    tuned = [run for run in runs if run.finetune_of is not None]
    assert [run.finetune_of.K for run in tuned] == [2, 64]
    assert all(run.finetune_of.epochs is None and run.epochs == 25 for run in tuned)
    assert tuned[0].name == "conv2-K2-greedy-bound1.73205-scores1.73205-wd0.0001-finetune-" \
                           "wd0.0001-e25-seed0"
    flags = tuned[1].train_flags("runs")
    assert flags[flags.index("--epochs") + 1] == "25" and flags[flags.index("--finetune") + 1] \
        == os.path.join("runs", tuned[1].finetune_of.name, "best.npz")
    plain = sweep.grid(**dict(sweep.CIFAR_CONV2_FINETUNE, finetune_epochs=None))
    assert [run.epochs for run in plain if run.finetune_of is not None] == [None, None]


def test_a_budget_grid_draws_slot_machine_epochs_against_fine_tuning(tmp_path, monkeypatch):
    """mnist-budget: 200 epochs split between the slot machine (E) and fine-tuning (200 - E).
    The figure has the slot machine alone at each E (200: the full run), the fine-tuned nets,
    and learned weights as a band; nothing is drawn before a fine-tuned run is recorded."""
    from slotnp.run import collate as collation, plot
    results = tmp_path / "results"
    # with the untrained nets (--epochs 0) beside them, which are no point of this figure,
    # and a fine-tuning grid of no budget (its fine-tuned runs as long as their slot machine)
    runs = [run for spec in sweep.MNIST_RANDOM + sweep.MNIST_BUDGET + [sweep.MNIST_EXTRAS]
            for run in sweep.grid(**spec)]
    accuracy = {0: 0.12, 50: 0.970, 100: 0.975, 150: 0.978, None: 0.981}  # E -> slot alone

    for run in runs:
        if run.finetune_of is None and not (run.shared or run.seed):
            write_record(results, run, (0.979 if run.epochs is None else 0.09) if run.learned
                         else accuracy[run.epochs])
    drawn = []
    monkeypatch.setattr(plot, "budget_figure", lambda path, alone, tuned, bands, title:
                        drawn.append((alone, tuned, bands, title)))
    write_collation(runs, str(results), "budget")
    assert drawn == []                                     # no fine-tuned run recorded yet
    for run in runs:
        if run.finetune_of is not None and not run.seed:
            write_record(results, run, 0.980 + (run.finetune_of.epochs or 0) / 1e5)
    assert collation.budget(collate(runs, str(results)), str(tmp_path / "b.png"))
    (alone, tuned, bands, title) = drawn[-1]
    assert alone[0] == [50, 100, 150, 200]
    assert alone[1] == pytest.approx([97.0, 97.5, 97.8, 98.1])
    assert tuned[0] == [50, 100, 150]
    assert tuned[1] == pytest.approx([98.05, 98.1, 98.15])
    assert bands[0][0].startswith("learned weights, 200 epochs")
    assert bands[0][1] == pytest.approx(97.9)
    assert "a budget of 200 epochs, GS K = 8" in title
    monkeypatch.undo()                                     # and drawn for real
    _, figures = write_collation(runs, str(results), "budget")
    assert figures == []           # every configuration at one K: no sweep over K to draw
    from PIL import Image
    assert Image.open(results / "mnist" / "budget.budget.png").size == (1400, 900)


def test_bad_sweep_flags_give_one_clear_line():
    result = subprocess.run([sys.executable, os.path.join(ROOT, "sweep.py"), "--K", "2"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "name the nets" in result.stderr
    assert "Traceback" not in result.stderr


def test_until_takes_a_time_of_day_or_minutes_and_bounds_every_run():
    import argparse
    import datetime
    eight = datetime.datetime(2026, 12, 5, 8, 0).timestamp()
    assert sweep.deadline("+90", now=eight) == eight + 90 * 60
    assert sweep.deadline("09:15", now=eight) == eight + 75 * 60
    assert sweep.deadline("07:30", now=eight) == eight + (23 * 60 + 30) * 60   # tomorrow's
    for bad in ("7h", "25:00", "8:61", "+-3", "+nan", "+", "8:00:00"):
        with pytest.raises(argparse.ArgumentTypeError, match="HH:MM or \\+MINUTES"):
            sweep.deadline(bad, now=eight)
    args = sweep.parse_args(["--net", "lenet", "--learned", "--until", "+30"])
    now = args.until - 30 * 60
    assert sweep.time_limit_flags(args, now) == ["--time-limit", "30"]
    assert sweep.time_limit_flags(args, now + 20 * 60) == ["--time-limit", "10"]
    args.time_limit = 5.0                                  # the sweep's own, where it is less
    assert sweep.time_limit_flags(args, now) == ["--time-limit", "5"]
    args.time_limit = args.until = None
    assert sweep.time_limit_flags(args, now) == []


def test_no_run_starts_after_until(tmp_path):
    late = sweep_cli(tmp_path, "--until", "+0")
    assert late.returncode == 0, late.stderr
    assert "0 paused, 0 failed, 6 not started (--until had passed)" in late.stdout
    assert not (tmp_path / "runs").exists()
    bad = sweep_cli(tmp_path, "--until", "soon")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "argument --until: must be HH:MM or +MINUTES, got 'soon'" in bad.stderr


@pytest.mark.parametrize("selection", ["greedy", "sample"])
def test_a_short_run_is_recorded_from_the_first_epochs_of_its_full_protocol_run(tmp_path,
                                                                               selection):
    """A run of E epochs is the first E epochs of its full-protocol twin where E is one of the
    twin's SGDR restarts (here 2 of 4, standing in for 25 of 200): recorded from them, its
    records are those of the run trained on its own, but for the wall time and the mark."""
    short, other = sweep.grid(["lenet"], K=[2], selection=[selection], seeds=[0], epochs=2) + \
        sweep.grid(["lenet"], K=[2], selection=[selection], seeds=[0], epochs=3)
    twin = sweep.grid(["lenet"], K=[2], selection=[selection], seeds=[0])[0]
    runs, alone, results = (str(tmp_path / d) for d in ("runs", "alone", "results"))
    data = ["--dataset", "synthetic", "--batch-size", "100", "--no-progress"]
    for flags in (twin.train_flags(runs) + ["--epochs", "4", "--restarts", "2"],
                  short.train_flags(alone)):
        subprocess.run([sys.executable, "train.py", *flags, *data], cwd=ROOT, check=True,
                       capture_output=True, timeout=300)
    assert not sweep.record_as_first_epochs(other, runs, results, data)     # 3 is no restart
    config = os.path.join(runs, twin.name, "config.json")
    with open(config) as file:
        kept = json.load(file)
    # a restart before 2, another rate or augmentation (or any other entry): not the same run;
    # augment False, as a run saved before flips alone existed spells "none": the same
    for changed in (dict(restarts=[1, 2]), dict(lr=kept["lr"] / 2), dict(augment="flip"),
                    dict(augment=False), {}):
        with open(config, "w") as file:
            json.dump(dict(kept, **changed), file)
        if changed == dict(augment=False):
            assert kept["augment"] == "none"
            assert sweep.record_as_first_epochs(short, runs, results, data)
            shutil.rmtree(os.path.join(results, "mnist", "runs", short.name))
        elif changed:
            assert not sweep.record_as_first_epochs(short, runs, results, data)
    assert not sweep.record_as_first_epochs(short, runs, results)    # not the data it ran on
    short.extra = tuple(data)                              # as the sweep's -- gives it
    grid = ["--net", "lenet", "--K", "2", "--selection", selection, "--seeds", "0", "--epochs",
            "2", "--runs", runs, "--print-commands"]
    for flags, trains in ((["--no-derive"], True), ([], False)):   # not recorded, then recorded
        listed = subprocess.run([sys.executable, "sweep.py", *grid, *flags, "--results",
                                 results, "--", *data], cwd=ROOT, capture_output=True,
                                text=True, timeout=120)
        assert (short.name in listed.stdout) == trains and \
            ("recorded as the first 2 epochs" in listed.stderr) != trains
    derived = records(results)[short.name]
    # a fresh clone holds the finished twin's records alone: they serve as well
    twin_records = os.path.join(results, "mnist", "runs", twin.name)
    shutil.copytree(os.path.join(runs, twin.name), twin_records,
                    ignore=shutil.ignore_patterns("*.npz", "*.png"))
    shutil.rmtree(os.path.join(results, "mnist", "runs", short.name))
    assert sweep.record_as_first_epochs(short, str(tmp_path / "elsewhere"), results, data)
    assert records(results)[short.name] == derived
    assert sweep.record(short, alone, str(tmp_path / "results-alone"))
    trained = records(str(tmp_path / "results-alone"))[short.name]
    assert derived[0] == trained[0]                                    # every epoch's numbers
    selected = trained[1].pop("selected_options")     # (from a best.npz of the run's own)
    assert set(selected) == {"fc1", "fc2", "fc3"}
    assert derived[1] == dict(trained[1], derived_from=twin.name)     # the result
    table, _ = write_collation([short], results, "short")
    assert "2 epochs (the first epochs of the full run) |" in open(table).read()
    keep = ("data_dir", "derived_from", "restarts")   # (the stand-in restarts at 2; a full
    # protocol's restarts, 25 and 75, are the short run's own)
    assert {k: v for k, v in derived[2].items() if k not in keep} == \
        {k: v for k, v in trained[2].items() if k not in keep}


def test_a_row_says_how_many_of_its_seeds_come_from_full_runs():
    """A configuration with some seeds recorded from full runs' first epochs says how many."""
    assert derived_text(0, 2) == ""
    assert derived_text(1, 1) == " (the first epochs of the full run)"
    assert derived_text(1, 3) == " (1 of 3 seeds: the first epochs of the full runs)"
    assert derived_text(2, 2) == " (all seeds: the first epochs of the full runs)"


def test_a_short_grid_figure_says_the_papers_points_are_of_its_full_protocol(tmp_path,
                                                                            monkeypatch):
    """cifar-conv2-short: 25-epoch points beside the paper's 200-epoch ones; the figure's title
    names the short protocol, and the paper's labels their 200 epochs (the full grid: neither).
    PS, at K = 8 alone, is drawn beside the paper's PS curve. The authors' protocol, longer:
    its lengths in the title, and what departs from the paper's protocol in the labels."""
    from slotnp.run import plot
    results = tmp_path / "results"
    drawn = []
    monkeypatch.setattr(plot, "k_sweep_figure", lambda path, series, paper, bands, learned,
                        title: drawn.append(([p[0] for p in paper], learned[0], title,
                                             {label: K for label, K, *_ in series})))
    for preset in ("cifar-conv2-short", "cifar-conv2", "cifar-conv2-authors"):
        runs = [run for spec in sweep.PRESETS[preset] for run in sweep.grid(**spec)]
        for run in runs:
            write_record(results, run)
        write_collation(runs, str(results), preset)
    (short_paper, short_learned, short_title, short_series), (paper, learned, title, series), \
        (_, _, authors_title, authors_series) = drawn
    assert {label[:8]: K for label, K in short_series.items()} == \
        {"slotnp G": [2, 4, 8, 16, 32, 64], "slotnp P": [8]}
    assert {label[:8]: K for label, K in series.items()} == \
        {"slotnp G": [2, 8, 64], "slotnp P": [8]}
    assert authors_title.endswith("(140 epochs, 180 epochs, 240 epochs)")
    assert list(authors_series) == [             # GS and PS at K = 8, each its rule's only one
        "slotnp GS, bound 1.73205, wd 0, scores 1.73205, leading convolutions unpadded, a "
        "constant rate, dropout before FC1 and FC2, flips only, lr 0.1, 140 epochs (1 seed)",
        "slotnp PS, bound 1.73205, wd 0, scores 1.73205, leading convolutions unpadded, a "
        "constant rate, dropout before FC1 and FC2, flips only, lr 50, 180 epochs (1 seed)"]
    assert short_paper == ["paper GS (200 epochs)", "paper PS (200 epochs)"]   # PS: K = 8
    assert short_learned == "paper, learned weights (200 epochs)"
    assert short_title.endswith("(short protocol: 25 epochs)")
    assert (paper, learned) == (["paper GS", "paper PS"], "paper, learned weights")
    assert "short" not in title


def test_an_ablations_exploration_lines_say_what_sets_them_apart(tmp_path, monkeypatch):
    """cifar-conv2-ablation: GS K = 8 seven ways at 25 epochs; each line of the exploration
    figure names what departs from the others (its option bound, weight decay, initial scores,
    padding, ...) where another line shares its K."""
    from slotnp.run import plot
    results = tmp_path / "results"
    runs = [run for spec in sweep.PRESETS["cifar-conv2-ablation"] for run in sweep.grid(**spec)]
    for run in runs:
        (write_record(results, run) / "metrics.jsonl").write_text(
            json.dumps(dict(epoch=1, selection_changed=0.05)))
    drawn = []
    monkeypatch.setattr(plot, "exploration_figure", lambda path, panels: drawn.append(
        [(title, [label for label, *_ in lines]) for title, lines, *_ in panels][0]))
    write_collation(runs, str(results), "cifar-conv2-ablation")
    # what all seven share is said once, in the title
    assert drawn[0][0] == "CONV-2 on CIFAR-10, GS, K = 8, 25 epochs"
    assert sorted(drawn[0][1]) == [
        "baseline", "bound 1, scores 1", "dropout before", "padding authors",
        "schedule constant, lr 0.1", "scores lambda", "wd 0"]
    # PS's pair, in its own panels: a tie, so both say their schedule and rate
    panels = []
    monkeypatch.setattr(plot, "exploration_figure", lambda path, drawn_panels: panels.extend(
        (title, [label for label, *_ in lines]) for title, lines, *_ in drawn_panels))
    write_collation(runs, str(results), "cifar-conv2-ablation")
    assert panels[1] == ("CONV-2 on CIFAR-10, PS, its argmax, K = 8, 25 epochs",
                         ["schedule sgdr, lr 25", "schedule constant, lr 50"])
    # one PS run alone in its panel: no heading taken out, and no baseline of nothing
    panels.clear()
    write_collation([run for run in runs if run.selection == "sample"][:1], str(results), "ps")
    assert panels == [("CONV-2 on CIFAR-10, PS, its argmax", ["K = 8, 25 epochs"])]
    # a K sweep's lines differ in K: each line says its own, and the title says none
    ksweep = sweep.grid(["conv2"], K=[2, 8], selection=["greedy"], epochs=25)
    for run in ksweep:
        (write_record(results, run) / "metrics.jsonl").write_text(
            json.dumps(dict(epoch=1, selection_changed=0.05)))
    panels.clear()
    write_collation(ksweep, str(results), "k-sweep")
    assert panels == [("CONV-2 on CIFAR-10, GS", ["K = 2, 25 epochs", "K = 8, 25 epochs"])]
    # two lines, each its own value: both say it
    pair = runs[:2]                                  # the option bound's: sigma, sqrt(3) sigma
    assert [line_label(run, pair) for run in pair] == [
        "K = 8, 25 epochs, bound 1, scores 1", "K = 8, 25 epochs, bound 1.73205, scores 1.73205"]
    # a full-protocol line beside shorter ones says its epochs too (the budget's 50 ... 200)
    lengths = [sweep.grid(["lenet"], K=[8], selection=["greedy"], epochs=epochs)[0]
               for epochs in (50, None)]
    assert [line_label(run, lengths) for run in lengths] == ["K = 8, 50 epochs",
                                                             "K = 8, 200 epochs"]
    assert line_label(lengths[1], lengths[1:]) == "K = 8"


def test_the_papers_figure_stands_beside_its_protocol_and_the_authors_whole_one_only():
    """The paper's value is the comparison for the paper's text and for the authors' released
    code's whole protocol (which of the two gave the paper's numbers is what is measured), not
    for one departure alone or the authors' protocol at another length or rate."""
    from slotnp.run.collate import paper_value
    gs, learned, sampled = [run for spec in sweep.PRESETS["cifar-conv2-authors"]
                            for run in sweep.grid(**spec)]
    assert [paper_value(run) for run in (gs, learned, sampled)] == [78.1, 79.3, 71.6]
    # PS with the paper's lambda for its initial scores is not the authors' protocol
    assert paper_value(sweep.grid(["conv2"], K=[8], selection=["sample"], lr=[50.0], epochs=180,
                                  **sweep.AUTHORS)[0]) is None
    assert paper_value(sweep.grid(["conv2"], K=[8], selection=["greedy"])[0]) == 78.1
    for departs in (dict(padding=["authors"]), dict(sweep.AUTHORS, epochs=200),
                    dict(sweep.AUTHORS, epochs=140, lr=[0.01])):
        assert paper_value(sweep.grid(["conv2"], K=[8], selection=["greedy"], **departs)[0]) \
            is None
    # the README's summary has no weight-decay column: the authors' 0 is said in words
    from slotnp.run.collate import collate, summary_markdown
    summary = summary_markdown(collate([gs, learned, sampled], "/nonexistent")).splitlines()
    assert summary[0].startswith("| K | GS, slotnp, 140 epochs, weight decay 0, leading ")
    # each selection's columns say its own protocol (PS: 180 epochs at 50)
    assert "| PS, slotnp, 180 epochs, scores U(0, 1.73205 sigma), leading convolutions unpadded, " \
        "a constant rate, dropout before FC1 and FC2, flips only, lr 50 (seeds; minutes) | " \
        "PS, paper |" in summary[0]
    assert summary[-1].startswith("| learned weights, ") and ", weight decay 0 |" in summary[-1]


def test_a_damaged_record_is_one_line(tmp_path, capsys):
    """A metrics.jsonl line that is not an epoch's object (a disk that filled mid-write, an
    edit): the collation names the file and line, and stops with code 2."""
    run = sweep.grid(["lenet"], K=[2], selection=["greedy"])[0]
    folder = write_record(tmp_path / "results", run)
    (folder / "metrics.jsonl").write_text(json.dumps(dict(epoch=1, val_acc=0.5)) + "\n{\"ep\n")
    code = sweep.main(["--net", "lenet", "--K", "2", "--selection", "greedy", "--collate",
                       "--runs", str(tmp_path / "runs"), "--results", str(tmp_path / "results")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("sweep: error: ")
    assert err[-1].endswith("metrics.jsonl, line 2, is not an epoch's JSON object: the file is "
                            "damaged; restore it from the run's records")


def test_a_run_that_fails_is_reported_failed_not_paused(tmp_path):
    """train.py ends with code 2 (a flag it refuses): the sweep says FAILED with that code and
    ends with 1, where a run stopped by its time limit ends with 0 and is 'paused'."""
    done = subprocess.run([sys.executable, "sweep.py", "--net", "lenet", "--K", "2",
                           "--selection", "greedy", "--seeds", "0", "--epochs", "1",
                           *folders(tmp_path), "--", "--dataset", "synthetic",
                           "--batch-size", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("  FAILED  lenet-K2")]
    assert len(failed) == 1 and "(exit 2; see " in failed[0]
    assert "0 paused, 1 failed" in done.stdout and "paused  lenet" not in done.stdout


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="finds the run's pid in /proc")
@pytest.mark.parametrize("signum, why", [(signal.SIGINT, "interrupted by SIGINT"),
                                         (signal.SIGTERM, "terminated by SIGTERM")])
def test_a_run_stopped_by_a_signal_is_reported_paused_not_failed(tmp_path, signum, why):
    """A signal sent to a run's train.py (not to the sweep): train.py saves its last finished
    epoch and ends with 130 or 143; the sweep says paused, records the epochs so far, ends
    with 0, and the next sweep resumes the run."""
    argv = [sys.executable, "sweep.py", "--net", "lenet", "--K", "2", "--selection", "greedy",
            "--seeds", "0", "--epochs", "1000", *folders(tmp_path), "--", "--dataset",
            "synthetic", "--batch-size", "100"]
    sweep_process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    name = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0], epochs=1000)[0].name
    metrics = tmp_path / "runs" / name / "metrics.jsonl"    # written after last.npz
    deadline = time.time() + 120
    while not metrics.exists() and time.time() < deadline:
        time.sleep(0.05)
    pid = sweep_process.pid
    children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    assert metrics.exists() and len(children) == 1
    os.kill(int(children[0]), signum)
    out = sweep_process.communicate(timeout=120)[0]
    assert sweep_process.returncode == 0, out
    assert f"  paused  {name} ({why}; run the sweep again" in out, out
    assert "1 paused, 0 failed" in out and "FAILED" not in out
    progress = tmp_path / "results" / "mnist" / "in-progress" / name
    assert (progress / "metrics.jsonl").read_text().count("\n") >= 1
    again = subprocess.run(argv + ["--stop-after", "1"], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert f"  resume  {name}" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize("argv, message", [
    (["--net", "LeNet"], "argument --net: invalid choice: 'LeNet'"),
    (["--preset", "foo"], "argument --preset: invalid choice: 'foo'"),
    (["--net", "lenet", "--K", "0", "--selection", "greedy"], "--K: must be an integer >= 1"),
    (["--net", "lenet", "--learned", "--seeds", "-1"], "--seeds: must be an integer >= 0"),
    (["--net", "lenet", "--learned", "--time-limit", "0"], "--time-limit: must be a positive"),
    (["--net", "lenet", "--learned", "--lr", "0"], "--lr: must be a positive number, got 0"),
    (["--net", "lenet", "--K", "2", "--selection", "greedy", "--option-bound", "nan"],
     "--option-bound: must be a positive number, got nan"),
    (["--net", "lenet", "--K", "2", "--selection", "greedy", "--score-bound", "abc"],
     "--score-bound: must be a positive number, 'paper' or 'options', got abc"),
])
def test_a_bad_sweep_flag_is_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        sweep.parse_args(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and message in err[0], err


def test_a_runs_folder_that_is_a_file_or_a_damaged_record_is_one_line(tmp_path, capsys):
    """--runs naming a file, and a result.json cut short (a full disk while it was copied):
    one line each, status 2, no traceback."""
    grid = ["--net", "lenet", "--K", "2", "--selection", "greedy", "--seeds", "0"]
    (tmp_path / "a-file").write_text("")
    code = sweep.main(grid + ["--runs", str(tmp_path / "a-file"), "--results",
                              str(tmp_path / "results"), "--", "--dataset", "synthetic"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"sweep: error: Not a directory: {tmp_path / 'a-file'}/"
                                 f"{sweep.grid(['lenet'], K=[2], selection=['greedy'])[0].name}"]
    run = sweep.grid(["lenet"], K=[2], selection=["greedy"], seeds=[0])[0]
    folder = write_record(tmp_path / "results", run)
    (folder / "result.json").write_text('{"best_epoch": 1, "val_a')
    code = sweep.main(grid + ["--collate", "--runs", str(tmp_path / "runs"), "--results",
                              str(tmp_path / "results")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [f"sweep: error: {folder / 'result.json'} is not a run's JSON "
                                 "record: the file is damaged; restore it from the run's "
                                 "records, or delete that run's record (or its folder) to run "
                                 "it again"]


def test_resume_or_start_continues_every_recorded_run_with_its_own_flags():
    """The flags of a preset's run (what its --resume-or-start command gives) pass --resume's
    check on the run recorded in results/: they describe the run its folder holds."""
    from slotnp.run import cli, resume_flags
    checked = 0
    for preset in sweep.PRESETS.values():
        for spec in preset if isinstance(preset, list) else [preset]:
            for run in sweep.grid(**dict(spec)):
                for folder in ("runs", "in-progress"):
                    path = os.path.join(ROOT, "results", run.dataset, folder, run.name,
                                        "config.json")
                    if not os.path.isfile(path):
                        continue
                    with open(path) as file:
                        saved = json.load(file)
                    # a fine-tuning run's source, in the runs folder it was trained in
                    runs_dir = os.path.dirname(os.path.dirname(saved["finetune"])) \
                        if saved.get("finetune") else "runs"
                    args = cli.parse_args(run.train_flags(runs_dir) + ["--data-dir", "data"] +
                                          run.invocation_flags())
                    resume_flags.check(args.given, saved)
                    checked += 1
    assert checked >= 100


def test_a_point_the_grid_has_no_run_of_is_a_dash_not_a_run_to_come():
    from slotnp.run.collate import collate, summary_markdown
    runs = sweep.grid(["conv2"], K=[2, 8], selection=["greedy"]) + \
        sweep.grid(["conv2"], K=[8], selection=["sample"])
    rows = summary_markdown(collate(runs, "/nonexistent")).splitlines()
    assert rows[2] == "| 2 | not run yet | 75.20 | - | 70.20 | - |"
    assert rows[3] == "| 8 | not run yet | 78.10 | not run yet | 71.60 | - |"


def test_a_grid_of_several_nets_collates_each_net_under_its_title(tmp_path):
    """CONV-4 and CONV-6 in one grid: the summary has a table for each, under the net's title
    and beside that net's paper values; each finished net has its own figure; the progress
    table names the net of each run."""
    runs = sweep.grid(["conv4", "conv6"], K=[8], selection=["greedy"], learned=True, seeds=[0],
                      epochs=25)
    conv4_gs, conv6_gs, conv4_learned, conv6_learned = runs
    results = tmp_path / "results"
    write_record(results, conv4_gs, test_acc=0.8)
    write_record(results, conv4_learned, test_acc=0.81)
    so_far = results / "cifar10" / "in-progress" / conv6_gs.name
    os.makedirs(so_far)
    (so_far / "config.json").write_text(json.dumps(dict(slot=True, options_version=2,
                                                        **conv6_gs.config())))
    (so_far / "metrics.jsonl").write_text("".join(
        json.dumps(dict(epoch=e, val_acc=e / 10, test_acc=e / 10)) + "\n" for e in (1, 2, 3)))
    _, figures = write_collation(runs, str(results), "deeper")
    summary = (results / "cifar10" / "deeper-summary.md").read_text().split("\n\n")
    assert summary[0] == "**CONV-4 on CIFAR-10**"
    assert summary[1].splitlines()[2] == "| 8 | **80.00** (1; 1.0 min) | 86.00 |"
    assert summary[2].splitlines()[2] == "| learned weights, 25 epochs | **81.00** (1) | 1.0 | - |"
    assert summary[3:5] == ["Slot machine minus learned weights, in points: GS K = 8 -1.00.",
                            "**CONV-6 on CIFAR-10**"]
    assert summary[5].splitlines()[2] == "| 8 | in progress (3 of 25 epochs) | 88.40 |"
    assert summary[6].splitlines()[2] == "| learned weights, 25 epochs | not run yet | - | - |"
    assert figures == [str(results / "cifar10" / "deeper-conv4.png")]   # CONV-6: none yet
    progress = (results / "cifar10" / "deeper-progress.md").read_text().splitlines()
    assert progress[2].startswith("| CONV-6, GS, K = 8, bound 1.73205, scores U(0, 1.73205 "
                                  "sigma), 25 epochs | 0.0001 | 3 of 25 | 30.00 (3) | - |")
    # the exploration figure's lines, and its panels' title
    from slotnp.run.collate import nets_title
    assert [line_label(run, [conv4_gs, conv6_gs]) for run in (conv4_gs, conv6_gs)] == [
        "K = 8, 25 epochs, CONV-4", "K = 8, 25 epochs, CONV-6"]
    assert line_label(conv4_gs, [conv4_gs]) == "K = 8, 25 epochs"
    assert nets_title([conv4_gs, conv6_gs]) == "CONV-4 and CONV-6 on CIFAR-10"
    assert nets_title([conv6_gs]) == "CONV-6 on CIFAR-10"
