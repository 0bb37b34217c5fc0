"""Failures a user meets, each ending in one clear line, and runs that are never lost.

A catalogue of bad inputs (flags, files, folders, checkpoints) run as a user runs them, then the
fault tests: kill -9 and resume, a full disk during a checkpoint, a used or busy folder,
divergence, SIGTERM, untrusted pickles and the download fallback.
"""
import functools
import gzip
import hashlib
import http.server
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from datasets import cifar10, download, mnist
from datasets.errors import DataError
from slotnp.run import checkpoint
from test_datasets import fake_cifar, fake_image_folder, fake_mnist, write_idx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTHETIC = ["--net", "lenet", "--dataset", "synthetic", "--K", "4", "--batch-size", "100",
             "--no-progress"]


def cli(*args, timeout=120, **kwargs):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **kwargs)


def folder_bytes(folder):
    """Every file of a run folder, by name, as bytes."""
    return {name: open(os.path.join(folder, name), "rb").read()
            for name in sorted(os.listdir(folder))}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 2-epoch synthetic slot run and a learned one (their folders)."""
    root = tmp_path_factory.mktemp("trained")
    for name, extra in (("slot", []), ("learned", ["--learned"])):
        result = cli(*SYNTHETIC, "--epochs", "2", "--out", str(root / name), *extra)
        assert result.returncode == 0, result.stderr
    return root


def bad_inputs(tmp, trained):
    """(arguments, what the one line must say) for each bad input."""
    cases = [
        (["--net", "resnet"], "invalid choice: 'resnet'"),
        (["--K", "0"], "--K: must be an integer >= 1"),
        (["--K", "two"], "--K: invalid positive_int value"),
        (["--lr", "-0.1"], "--lr: must be a positive number"),
        (["--lr", "nan"], "--lr: must be a positive number"),
        (["--dropout", "1.5"], "--dropout: must be in [0, 1)"),
        (["--epochs", "-1"], "--epochs: must be an integer >= 0"),
        (["--batch-size", "-5"], "--batch-size: must be an integer >= 1"),
        (["--restarts", "a,b"], "expected epochs like 25,75"),
        (["--option-bound", "0"], "--option-bound: must be a positive number"),
        (["--momentum", "1.5"], "--momentum: must be a number in [0, 1)"),
        (["--weight-decay", "-1"], "--weight-decay: must be a number >= 0"),
        (["--eval-mode", "mean"], "invalid choice: 'mean'"),
        (["--eval-draws", "0"], "--eval-draws: must be an integer >= 1"),
        (["--seed", "-1"], "--seed: must be an integer >= 0"),
        (["--resume"], "--resume needs --out"),
        (["--resume", "--overwrite", "--out", str(tmp)], "pick one"),
    ]
    # data
    empty = tmp / "nothing"
    cases.append((["--data-dir", str(empty)], "could not download"))
    truncated = tmp / "truncated"
    fake_mnist(truncated, np.random.default_rng(0))
    raw = gzip.decompress((truncated / "train-labels-idx1-ubyte.gz").read_bytes())
    (truncated / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(raw[:-5]))
    cases.append((["--data-dir", str(truncated)], "truncated or corrupt"))
    labels = tmp / "labels"
    arrays = fake_mnist(labels, np.random.default_rng(0))
    wrong = arrays["y_train"].copy()
    wrong[3] = 12
    write_idx(labels / "train-labels-idx1-ubyte.gz", wrong)
    cases.append((["--data-dir", str(labels)], "labels from 0 to 12"))
    many = tmp / "many-classes"
    for split in ("train", "test"):
        for c in range(11):
            os.makedirs(many / split / f"class{c:02d}")
            from PIL import Image
            Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(many / split / f"class{c:02d}"
                                                                  / "0.png")
    cases.append((["--net", "conv2", "--dataset", "cifar10", "--data-dir", str(many)],
                  "has 11 classes"))
    broken = tmp / "broken-images"
    fake_image_folder(broken, np.random.default_rng(0), size=(32, 32))
    (broken / "train" / "cat" / "0001.png").write_bytes(b"not a png")
    cases.append((["--net", "conv2", "--dataset", "cifar10", "--data-dir", str(broken)],
                  "cannot decode image"))
    sizes = tmp / "sizes"                      # test images of another size than training's
    fake_image_folder(sizes, np.random.default_rng(0), size=(32, 32))
    fake_image_folder(tmp / "small", np.random.default_rng(0), size=(28, 28))
    shutil.rmtree(sizes / "test")
    shutil.copytree(tmp / "small" / "test", sizes / "test")
    cases.append((["--net", "conv2", "--dataset", "cifar10", "--data-dir", str(sizes)],
                  "the test images (3, 28, 28)"))
    fake_mnist(tmp / "tiny", np.random.default_rng(0), n_train=3, n_test=2)
    cases.append((["--data-dir", str(tmp / "tiny")], "too few images for a training, a "
                  "validation (15% of 3 training images) and a test split: 3, 0 and 2"))
    cases.append((["--data-dir", str(tmp / "a-data-file")], "pass --data-dir a folder"))
    (tmp / "a-data-file").write_text("not a folder")
    doctored = tmp / "doctored"
    fake_cifar(doctored / cifar10.FOLDER, np.random.default_rng(0))
    (doctored / cifar10.FOLDER / "data_batch_2").write_bytes(pickle.dumps(Doctored()))
    cases.append((["--net", "conv2", "--dataset", "cifar10", "--data-dir", str(doctored)],
                  "refused: unpickling it could run code"))
    # output folders
    a_file = tmp / "a-file"
    a_file.write_text("not a folder")
    cases.append((SYNTHETIC + ["--out", str(a_file)], "is a file"))
    cases.append((SYNTHETIC + ["--out", str(a_file / "run")], "cannot create the output folder"))
    cases.append((SYNTHETIC + ["--out", str(trained / "slot")], "already holds a run"))
    cases.append((SYNTHETIC + ["--resume", "--out", str(tmp / "never-ran")], "does not exist"))
    shutil.copytree(trained / "slot", tmp / "no-last")      # last.npz removed (to save disk)
    os.remove(tmp / "no-last" / "last.npz")
    cases.append((["--resume", "--out", str(tmp / "no-last")], "holds a trained run (best.npz, "
                  "result.json) but no last.npz to resume from"))
    cases.append((SYNTHETIC + ["--resume-or-start", "--out", str(tmp / "no-last")],
                  "holds a trained run (best.npz, result.json) but no last.npz"))
    # --resume with flags that would change the run (one given at its default: --method slot)
    cases.append((["--resume", "--out", str(trained / "slot"), "--epochs", "4"],
                  "would change it: --epochs 4 (the run's epochs: 2); drop them"))
    cases.append((["--resume", "--out", str(trained / "learned"), "--method", "slot", "--K",
                   "4"], "--method slot (the run's method: learned); drop them"))
    os.makedirs(tmp / "no-epoch")                             # killed in its first epoch
    shutil.copy(trained / "slot" / "config.json", tmp / "no-epoch")
    cases.append((["--resume", "--out", str(tmp / "no-epoch")], "no epoch finished"))
    # checkpoints
    corrupt = tmp / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip file")
    cases.append((["--eval", str(corrupt)], "corrupt or truncated"))
    cases.append((["--eval", str(tmp / "missing.npz")], "does not exist"))
    pickled = tmp / "pickled.npz"
    np.savez(pickled, meta=np.array(json.dumps({"config": {}})),
             **{"param/fc1.W": np.array([Doctored()], dtype=object)})
    cases.append((["--eval", str(pickled)], "holds Python objects, which no slotnp checkpoint"))
    foreign = tmp / "foreign.npz"
    np.savez(foreign, weights=np.zeros(3))
    cases.append((["--eval", str(foreign)], "is not a slotnp checkpoint (an .npz without"))
    cases.append((["--eval", str(trained / "slot" / "config.json")], "is not a checkpoint (not "
                  "an .npz archive, or cut short)"))
    cases.append((["--eval", str(trained / "slot")], "is a folder; pass a checkpoint in it"))
    with np.load(trained / "slot" / "best.npz") as saved:      # options not the seed's
        arrays = dict(saved)
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(dict(meta, options_digest="0" * 40)))
    np.savez(tmp / "other-options.npz", **arrays)
    cases.append((["--eval", str(tmp / "other-options.npz")], "the slot options rebuilt from its "
                  "seed differ from the ones it was trained with"))
    edited = dict(arrays, meta=np.array(json.dumps(dict(meta, config=dict(meta["config"],
                                                                           K="8")))))
    np.savez(tmp / "edited.npz", **edited)                     # a meta edited by hand
    cases.append((["--eval", str(tmp / "edited.npz")], "its meta (the run's configuration and "
                  "state) is damaged or was edited"))
    shutil.copytree(trained / "slot", tmp / "stateless")
    with np.load(tmp / "stateless" / "last.npz") as saved:
        arrays = dict(saved)
    stateless = {k: v for k, v in json.loads(str(arrays["meta"])).items() if k != "state"}
    np.savez(tmp / "stateless" / "last.npz", **dict(arrays, meta=np.array(json.dumps(stateless))))
    cases.append((["--resume", "--out", str(tmp / "stateless")], "its meta (the run's "
                  "configuration and state) is damaged or was edited"))
    cases.append((SYNTHETIC + ["--finetune", str(trained / "learned" / "best.npz"),
                               "--out", str(tmp / "ft")], "holds learned weights"))
    # memory and divergence
    cases.append((SYNTHETIC + ["--K", "100000000", "--selection", "sample",
                               "--out", str(tmp / "huge")], "this run needs about"))
    cases.append((SYNTHETIC + ["--K", "10000000000", "--out", str(tmp / "huger")],
                  "this run needs about"))
    # a build that cannot end within a day (memory does not grow with K; the time does)
    cases.append((SYNTHETIC + ["--K", "100000000", "--out", str(tmp / "slow")],
                  "the limit is a day: lower --K"))
    cases.append((SYNTHETIC + ["--learned", "--lr", "1e30", "--epochs", "3",
                               "--out", str(tmp / "diverged")], "training diverged"))
    from slotnp import backend
    if not backend.cupy_available():
        cases.append((["--backend", "cupy"], "--backend numpy"))
    return cases


class Doctored:
    """A pickle that would run a command when loaded."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/slotnp-pwned",))


def test_every_bad_input_ends_in_one_clear_line(tmp_path, trained):
    cases = bad_inputs(tmp_path, trained)
    assert len(cases) >= 25
    for args, message in cases:
        result = cli(*args, "--no-progress")
        lines = [line for line in result.stderr.strip().splitlines() if "B/s" not in line]
        assert result.returncode != 0, (args, result.stdout[-500:])
        assert "Traceback" not in result.stderr, (args, result.stderr)
        assert len(lines) == 1 and message in lines[0], (args, result.stderr)
        assert len(lines[0]) < 600, lines[0]
    assert not os.path.exists("/tmp/slotnp-pwned")


def test_repeating_a_finished_command_changes_nothing(trained):
    before = folder_bytes(trained / "slot")
    result = cli(*SYNTHETIC, "--epochs", "2", "--out", str(trained / "slot"))
    assert result.returncode == 2 and "--resume" in result.stderr and "--overwrite" in result.stderr
    assert folder_bytes(trained / "slot") == before


def test_overwrite_replaces_a_run_only_once_the_new_one_is_ready(tmp_path):
    """--overwrite with data that fails to load: the old run stays byte for byte; with good
    data, the new run replaces it."""
    out = tmp_path / "run"
    assert cli(*SYNTHETIC, "--epochs", "2", "--out", str(out)).returncode == 0
    def run_files():                       # (the lock names the process that last held it)
        return {name: data for name, data in folder_bytes(out).items() if name != ".lock"}
    before = run_files()
    fake_mnist(tmp_path / "tiny", np.random.default_rng(0), n_train=3, n_test=2)
    failed = cli("--data-dir", str(tmp_path / "tiny"), "--epochs", "1", "--out", str(out),
                 "--overwrite", "--no-progress")
    assert failed.returncode == 2 and "too few images" in failed.stderr
    assert run_files() == before and len(before) == 7
    assert cli(*SYNTHETIC, "--epochs", "1", "--out", str(out), "--overwrite").returncode == 0
    assert len(open(out / "metrics.jsonl").readlines()) == 1


def metrics(folder):
    rows = [json.loads(line) for line in open(os.path.join(folder, "metrics.jsonl"))]
    for row in rows:
        row.pop("seconds")
        row.pop("train_seconds")
    return rows


def test_kill_9_during_training_then_resume_equals_an_uninterrupted_run(tmp_path):
    flags = SYNTHETIC + ["--epochs", "6", "--selection", "sample", "--batch-size", "20"]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert cli(*flags, "--out", str(whole)).returncode == 0
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *flags,
                                "--out", str(killed)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:              # kill it after epoch 2, inside epoch 3
        if (killed / "metrics.jsonl").exists() and len(metrics(killed)) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(metrics(killed))
    assert 2 <= done < 6
    result = cli("--resume", "--out", str(killed), "--no-progress")   # the lock is free again
    assert result.returncode == 0, result.stderr
    assert metrics(killed) == metrics(whole)


def test_sigterm_stops_like_ctrl_c_and_resumes(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *SYNTHETIC,
                                "--epochs", "50", "--batch-size", "20", "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "last.npz").exists():
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr
    assert f"terminated: the last finished epoch is in {out / 'last.npz'}" in stderr
    meta, _, _ = checkpoint.load(str(out / "last.npz"))
    epoch = meta["state"]["epoch"]
    assert 1 <= epoch < 50
    stopped = metrics(out)
    result = cli("--resume", "--out", str(out), "--no-progress", "--stop-after", str(epoch + 1))
    assert result.returncode == 0, result.stderr
    resumed = metrics(out)
    assert len(resumed) == epoch + 1 and resumed[:epoch] == stopped


def test_a_second_process_cannot_train_into_a_busy_folder(tmp_path):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), *SYNTHETIC,
                              "--epochs", "50", "--batch-size", "20", "--out", str(out)],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not (out / "last.npz").exists():
            time.sleep(0.01)
        second = cli("--resume", "--out", str(out), "--no-progress")
        assert second.returncode == 2 and "is in use" in second.stderr
        assert f"pid {first.pid}" in second.stderr
    finally:
        first.kill()
        first.wait()
    assert cli("--resume", "--out", str(out), "--no-progress", "--time-limit",
               "1e-6").returncode == 0                    # a killed holder leaves no lock


def test_a_resume_removes_the_temporaries_a_kill_left(tmp_path):
    """kill -9 inside an atomic write leaves its temporary (a checkpoint's .tmp-*, a record's
    metrics.jsonl.tmp); the next train.py in that folder, holding its lock, removes them and
    nothing else."""
    import train
    out = tmp_path / "run"
    assert train.main(SYNTHETIC + ["--epochs", "2", "--stop-after", "1", "--out",
                                    str(out)]) == 0
    for name in (".tmp-abc123.npz", "metrics.jsonl.tmp", "notes.tmp"):
        (out / name).write_bytes(b"cut short")
    assert train.main(SYNTHETIC + ["--resume", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if "tmp" in p.name) == ["notes.tmp"]


def test_a_folder_without_locks_and_the_files_modes(tmp_path, monkeypatch, capsys):
    """A file system that cannot lock (flock: ENOLCK, as some network file systems): one line,
    nothing trained. Every file a run writes, checkpoints (written atomically) included, has
    the mode that the umask gives a new file (mkstemp alone makes 0600)."""
    import errno
    import fcntl
    import train
    out = tmp_path / "run"
    old = os.umask(0o027)
    try:
        assert train.main(SYNTHETIC + ["--epochs", "1", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()
             if not p.name.startswith(".")}
    assert set(modes.values()) == {"0o640"} and "last.npz" in modes, modes

    def no_locks(file, operation):
        raise OSError(errno.ENOLCK, "No locks available")
    monkeypatch.setattr(fcntl, "flock", no_locks)
    capsys.readouterr()
    assert train.main(SYNTHETIC + ["--epochs", "1", "--out", str(tmp_path / "nfs")]) == 2
    assert capsys.readouterr().err == f"error: cannot lock {tmp_path / 'nfs'} (No locks " \
        "available): train into a folder on a local disk (another --out)\n"
    assert not (tmp_path / "nfs" / "last.npz").exists()


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    """A disk that fills during a save: one clear line, and the old checkpoint still loads."""
    import train
    out = tmp_path / "run"
    assert train.main(SYNTHETIC + ["--epochs", "2", "--time-limit", "1e-6",
                                    "--out", str(out)]) == 0          # stops after epoch 1
    before = (out / "last.npz").read_bytes()

    def full_disk(file, **arrays):
        file.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.np, "savez", full_disk)
    monkeypatch.setattr(sys, "argv", ["train.py"])
    code = train.main(SYNTHETIC + ["--resume", "--out", str(out)])
    assert code == 2
    assert (out / "last.npz").read_bytes() == before
    assert not [n for n in os.listdir(out) if n.startswith(".tmp-")]
    monkeypatch.undo()
    meta, _, _ = checkpoint.load(str(out / "last.npz"))
    assert meta["state"]["epoch"] == 1


def test_the_message_of_a_failed_checkpoint_write(tmp_path, monkeypatch, capsys):
    import train
    monkeypatch.setattr(checkpoint.np, "savez",
                        lambda file, **a: (_ for _ in ()).throw(OSError(28, "No space left")))
    assert train.main(SYNTHETIC + ["--epochs", "1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: could not write the checkpoint")
    assert "No space left" in err[-1]


def test_divergence_keeps_the_last_finite_state(tmp_path, capsys, monkeypatch):
    """The loss turns non-finite in epoch 3: epochs 1-2 stay saved, the NaN state is not."""
    import train
    from slotnp.core import training
    real_epoch, calls = training.train_epoch, []

    def diverging_epoch(net, *args, **kwargs):
        calls.append(1)
        loss, acc = real_epoch(net, *args, **kwargs)
        if len(calls) < 3:
            return loss, acc
        for layer in net.layers:                 # what a blown-up step leaves behind
            for value in layer.params.values():
                value[...] = np.nan
        return float("nan"), acc

    monkeypatch.setattr(training, "train_epoch", diverging_epoch)
    out = tmp_path / "run"
    code = train.main(SYNTHETIC + ["--learned", "--epochs", "5", "--out", str(out)])
    assert code == 2 and len(calls) == 3
    err = capsys.readouterr().err
    assert "training diverged in epoch 3" in err and "--lr" in err
    meta, params, _ = checkpoint.load(str(out / "last.npz"))
    assert meta["state"]["epoch"] == 2 and len(meta["state"]["history"]) == 2
    assert params and all(np.isfinite(v).all() for v in params.values())
    assert all(np.isfinite(r["train_loss"]) for r in meta["state"]["history"])


def test_checkpoints_never_unpickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array(json.dumps({"config": {}})),
             **{"param/x": np.array([Doctored()], dtype=object)})
    with pytest.raises(checkpoint.CheckpointError, match="refused"):
        checkpoint.load(str(path))
    assert not os.path.exists("/tmp/slotnp-pwned")


def test_a_doctored_cifar_batch_is_refused_before_it_runs(tmp_path):
    fake_cifar(tmp_path / cifar10.FOLDER, np.random.default_rng(0))
    (tmp_path / cifar10.FOLDER / "test_batch").write_bytes(pickle.dumps(Doctored()))
    with pytest.raises(DataError, match="references posix.system.*refused"):
        cifar10.load(str(tmp_path))
    assert not os.path.exists("/tmp/slotnp-pwned")


class Sources(http.server.SimpleHTTPRequestHandler):
    """/good/<file> serves the file; /broken/<file> serves damaged bytes; /gone/ answers 403."""

    def do_GET(self):
        root, _, name = self.path.strip("/").partition("/")
        if root == "gone":
            self.send_error(403, "Forbidden")
            return
        body = open(os.path.join(self.directory, name), "rb").read()
        if root == "broken":
            body = body[:len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(Sources, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_falls_back_to_the_next_source(tmp_path, server, monkeypatch):
    """A 403 source and a damaged one are passed over; the file from the good one, verified,
    ends in place, and MNIST loads from it."""
    served, url = server
    arrays = fake_mnist(served, np.random.default_rng(0))
    checksums = {name: hashlib.md5((served / name).read_bytes()).hexdigest()
                 for name in mnist.FILES}
    monkeypatch.setattr(mnist, "FILES", checksums)
    monkeypatch.setattr(mnist, "SOURCES", [f"{url}/gone/", f"{url}/broken/", f"{url}/good/"])
    data = mnist.load(str(tmp_path / "data"))
    assert np.array_equal(data["y_train"], arrays["y_train"])
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == sorted(mnist.FILES)


def test_download_names_every_source_when_all_fail(tmp_path, server):
    served, url = server
    (served / "file.bin").write_bytes(b"slot machines" * 100)
    good = hashlib.md5((served / "file.bin").read_bytes()).hexdigest()
    target = tmp_path / "data" / "file.bin"
    with pytest.raises(DataError) as error:
        download.download([f"{url}/gone/file.bin", f"{url}/broken/file.bin",
                           "http://127.0.0.1:9/file.bin"], str(target), good, "put it in X")
    message = str(error.value)
    assert "from any of 3 source(s)" in message and message.endswith("put it in X")
    assert "HTTP Error 403" in message and "arrived corrupt" in message
    assert "Connection refused" in message and "\n" not in message
    assert not target.exists() and os.listdir(tmp_path / "data") == []


def test_running_out_of_memory_anywhere_is_one_line(tmp_path, monkeypatch, capsys):
    """NumPy's (and CuPy's) out-of-memory errors are MemoryErrors: one line, what to lower."""
    import train
    from slotnp import training

    def exhausted(*args, **kwargs):              # as NumPy words it (a MemoryError subclass)
        raise MemoryError("Unable to allocate 3.64 TiB for an array with shape "
                          "(1000000000000,) and data type float32")
    monkeypatch.setattr(training, "train_epoch", exhausted)
    assert train.main(SYNTHETIC + ["--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: out of memory (") and "--K" in err[0]


def test_a_missing_package_is_one_line_saying_what_to_install(tmp_path, rng, monkeypatch, capsys):
    """A new machine without Pillow, reading the CIFAR-10 image folder: one line, no traceback."""
    import train
    fake_image_folder(tmp_path / "data" / "cifar10-jpg", rng, size=(32, 32))
    monkeypatch.setitem(sys.modules, "PIL", None)      # `import PIL` fails, as without Pillow
    args = ["--net", "conv2", "--K", "2", "--epochs", "1", "--no-progress",
            "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "run")]
    assert train.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: Pillow is not installed (import PIL): pip install -r requirements.txt"]
    assert not os.path.exists(tmp_path / "run" / "last.npz")
    monkeypatch.setattr(train, "dispatch", lambda args: __import__("no_such_slotnp_module"))
    with pytest.raises(ModuleNotFoundError):          # not a requirement: a bug, with its trace
        train.main(args)
