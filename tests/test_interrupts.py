"""Ctrl-C and SIGTERM end a run within seconds at any moment, saying truthfully what is saved,
with the last good checkpoint intact; a build that cannot finish within a day is refused; a
long build shows its progress; a sweep passes the signal on to its runs."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENET = ["--net", "lenet", "--dataset", "synthetic", "--batch-size", "20", "--no-progress"]

# train.py in a child process in which the function `target` sends the signal on its
# `call`-th call: at once (in the middle of that phase), or `delay` seconds into it from
# another thread (while the phase runs, on helper threads too). The child notes when.
CHILD = """
import importlib, os, signal, sys, threading, time
sys.path.insert(0, {root!r})
module = importlib.import_module({module!r})
owner = getattr(module, {owner!r}) if {owner!r} else module
original, calls = getattr(owner, {name!r}), [0]

def send():
    open({mark!r}, "w").write(repr(time.time()))
    os.kill(os.getpid(), {signum})

def patched(*args, **kwargs):
    calls[0] += 1
    if calls[0] == {call}:
        if {delay}:
            threading.Timer({delay}, send).start()
        else:
            send()
    return original(*args, **kwargs)

setattr(owner, {name!r}, patched)
import train
sys.exit(train.main({argv!r}))
"""


def interrupted(tmp_path, target, argv, call=1, delay=0, signum=signal.SIGTERM, timeout=120):
    """(exit code, stderr, seconds from the signal to the exit) of train.py `argv`, signalled
    in `target` ("module:Owner.name" or "module:name")."""
    module, qualified = target.split(":")
    owner, name = qualified.rsplit(".", 1) if "." in qualified else ("", qualified)
    mark = str(tmp_path / "signalled")
    code = CHILD.format(root=ROOT, module=module, owner=owner, name=name, mark=mark,
                        signum=int(signum), call=call, delay=delay, argv=argv)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    ended = time.time()
    assert os.path.exists(mark), (done.stdout[-2000:], done.stderr[-2000:])
    return done.returncode, done.stderr, ended - float(open(mark).read())


def epochs_in(path):
    from slotnp.run import checkpoint
    return checkpoint.load(str(path))[0]["state"]["epoch"]


def test_a_signal_during_the_build_ends_it_within_seconds(tmp_path):
    """Lenet at K = 4096 draws 1.1 billion options in its first step, on helper threads; a
    SIGTERM 2 s into it ends the process within a few seconds, with nothing saved."""
    out = tmp_path / "run"
    code, stderr, seconds = interrupted(
        tmp_path, "slotnp.fast.slot_intervals:IntervalSlots._build",
        LENET + ["--K", "4096", "--epochs", "1", "--out", str(out)], delay=2)
    assert code == 143 and seconds < 10, (code, seconds, stderr)
    assert stderr.strip().splitlines()[-1] == \
        "terminated: no epoch had finished, so nothing was saved; start it again (with --overwrite)"
    assert not (out / "last.npz").exists() and "Traceback" not in stderr


@pytest.mark.parametrize("target, call", [
    ("slotnp.core.training:softmax_cross_entropy", 60),  # a training step of epoch 2
    ("slotnp.run.evaluation:evaluate", 2),              # the evaluation of epoch 2
])
def test_a_signal_in_epoch_2_names_the_checkpoint_of_epoch_1(tmp_path, target, call):
    out = tmp_path / "run"
    code, stderr, seconds = interrupted(tmp_path, target, LENET + [
        "--K", "8", "--epochs", "5", "--out", str(out)], call=call, signum=signal.SIGINT)
    assert code == 130 and seconds < 10, (code, stderr)
    assert stderr.strip().splitlines()[-1] == (
        f"interrupted: the last finished epoch is in {out / 'last.npz'}; continue with: "
        f"python train.py --resume --out {out}")
    assert epochs_in(out / "last.npz") == 1


def test_a_signal_while_a_checkpoint_is_written_keeps_the_last_good_one(tmp_path):
    """The signal arrives as last.npz of epoch 2 is about to replace epoch 1's: the new file is
    removed, the old one stays whole, and the run resumes from it to the same end."""
    out, whole = tmp_path / "run", tmp_path / "whole"
    flags = LENET + ["--K", "8", "--epochs", "3"]
    # np.savez: best.npz and last.npz of epoch 1, then one of epoch 2 (its last.npz, or its
    # best.npz where epoch 2 validates better: either way last.npz holds epoch 1)
    code, stderr, _ = interrupted(tmp_path, "slotnp.run.checkpoint:np.savez",
                                  flags + ["--out", str(out)], call=3)
    assert code == 143, stderr
    assert epochs_in(out / "last.npz") == 1
    assert not [name for name in os.listdir(out) if name.startswith(".tmp-")]
    assert subprocess.run([sys.executable, "train.py", "--resume", "--out", str(out),
                           "--no-progress"], cwd=ROOT, capture_output=True).returncode == 0
    assert subprocess.run([sys.executable, "train.py", *flags, "--out", str(whole)], cwd=ROOT,
                          capture_output=True).returncode == 0

    def rows(folder):
        return [{k: v for k, v in json.loads(line).items() if "seconds" not in k}
                for line in open(folder / "metrics.jsonl")]
    assert rows(out) == rows(whole)


def test_a_signal_while_the_data_loads_saves_nothing(tmp_path):
    code, stderr, seconds = interrupted(tmp_path, "datasets:load", LENET + [
        "--K", "8", "--out", str(tmp_path / "run")])
    assert code == 143 and seconds < 10
    assert "nothing was saved" in stderr.strip().splitlines()[-1]


def test_a_build_that_cannot_finish_within_a_day_is_refused_at_once(tmp_path):
    started = time.time()
    done = subprocess.run([sys.executable, "train.py", *LENET, "--K", "100000000", "--out",
                           str(tmp_path / "run")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and time.time() - started < 30
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "the limit is a day: lower --K (to about" in lines[0], lines


def test_a_long_build_is_announced_and_shows_its_progress(tmp_path, monkeypatch):
    """A build estimated above ANNOUNCE seconds is said up front; one above SHOWN seconds shows
    its progress (here, with --no-progress, a line at every tenth)."""
    from slotnp.run import build
    code = ("import sys; sys.path.insert(0, {root!r})\n"
            "from slotnp.run import build\n"
            "build.measured_rate = lambda K: 1e4      # as if this machine were slow\n"
            "build.DAY = 1e9\n"
            "import train\n"
            "sys.exit(train.main({argv!r}))").format(
        root=ROOT, argv=LENET + ["--K", "64", "--epochs", "1", "--out", str(tmp_path / "r")])
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "drawing 17,036,800 slot options in the first training step" in done.stdout
    tenths = [line for line in done.stdout.splitlines() if "of the slot options" in line]
    assert 10 <= int(tenths[0].split()[1][:-1]) < 20 and len(tenths) >= 5
    assert tenths[-1] == "  drawn 100% of the slot options"
    progress = build.Progress(100, no_bar=True)
    for _ in range(30):
        progress(10)                      # past the total: later selections, not the build
    assert progress.done == 100


def test_a_sweep_passes_the_signal_to_its_runs(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "sweep.py", "--net", "lenet", "--K", "4096", "--selection", "greedy",
         "--seeds", "0", "1", "--jobs", "2", "--runs", str(tmp_path / "runs"), "--results",
         str(tmp_path / "results"), "--", "--dataset", "synthetic", "--batch-size", "20"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(os.listdir(tmp_path / "runs")
                                         if (tmp_path / "runs").exists() else []) < 2:
        time.sleep(0.1)
    time.sleep(3)                         # both runs building their first step
    signalled = time.time()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert time.time() - signalled < 15 and process.returncode == 130
    assert "sweep interrupted" in stderr
    logs = [open(tmp_path / "runs" / name / "train.log").read()
            for name in os.listdir(tmp_path / "runs")]
    assert len(logs) == 2                 # both runs had started when the signal came
    assert all("terminated: no epoch had finished" in log for log in logs), logs
    assert np.all([not (tmp_path / "runs" / name / "last.npz").exists()
                   for name in os.listdir(tmp_path / "runs")])


@pytest.mark.skipif(not hasattr(signal, "SIGTSTP"), reason="POSIX job control")
def test_a_pause_stops_the_run_and_its_time_is_not_counted(tmp_path):
    """SIGTSTP (Ctrl-Z, or `kill -TSTP` to pause a run beside a benchmark) in epoch 1 stops
    the process until SIGCONT; the epochs' seconds leave the pause out, so they add up to less
    than the run's wall time less the pause, and the metrics are the same."""
    out, mark, pause = tmp_path / "run", str(tmp_path / "signalled"), 6.0
    code = CHILD.format(root=ROOT, module="slotnp.core.training", owner="",
                        name="softmax_cross_entropy", mark=mark, signum=int(signal.SIGTSTP),
                        call=10, delay=0, argv=LENET + ["--K", "8", "--epochs", "2", "--out",
                                                        str(out)])
    started = time.time()
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    while not os.path.exists(mark) and child.poll() is None:
        time.sleep(0.05)
    time.sleep(pause)
    with open(f"/proc/{child.pid}/stat") as stat:         # state: T, stopped
        assert stat.read().rsplit(")", 1)[1].split()[0] == "T"
    os.kill(child.pid, signal.SIGCONT)
    stdout, stderr = child.communicate(timeout=120)
    wall = time.time() - started
    assert child.returncode == 0, stderr
    rows = [json.loads(line) for line in open(out / "metrics.jsonl")]
    assert sum(row["seconds"] for row in rows) < wall - pause, (rows, wall)
    whole = tmp_path / "whole"
    assert subprocess.run([sys.executable, "train.py", *LENET, "--K", "8", "--epochs", "2",
                           "--out", str(whole)], cwd=ROOT, capture_output=True).returncode == 0
    same = [{k: v for k, v in row.items() if "seconds" not in k} for row in rows]
    assert same == [{k: v for k, v in json.loads(line).items() if "seconds" not in k}
                    for line in open(whole / "metrics.jsonl")]
