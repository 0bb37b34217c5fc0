"""--export and --eval of an export: sizes, exact accuracy, and damaged or mismatched files."""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

from slotnp.run import export

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
import train  # noqa: E402

FAST = ["--net", "lenet", "--dataset", "synthetic", "--batch-size", "100", "--no-progress"]


@pytest.mark.parametrize("bits", range(0, 13))
def test_pack_and_unpack_round_trip(bits, rng):
    index = rng.integers(0, 2 ** bits, (7, 11, 3))
    data = export.pack(index, bits)
    assert len(data) == (index.size * bits + 7) // 8
    assert np.array_equal(export.unpack(data, index.size, bits).reshape(index.shape), index)


def test_bits_per_connection():
    assert [export.bits_for(K) for K in (1, 2, 3, 4, 8, 9, 64, 1024, 1025)] == \
        [0, 1, 2, 2, 3, 4, 6, 10, 11]


def test_other_values_follow_the_indices_in_format_3_and_a_cut_one_is_named(tmp_path, rng):
    """Biases and running statistics: float32 after the indices (format 3); format 2's biases,
    by layer name, read under their checkpoint names."""
    index, bias = rng.integers(0, 4, (3, 5)), rng.standard_normal(3).astype(np.float32)
    mean = rng.standard_normal(3).astype(np.float32)
    plain, biased = tmp_path / "plain.slot", tmp_path / "biased.slot"
    export.write(str(plain), {}, "d", [("fc1", index, 4)])
    export.write(str(biased), {}, "d", [("fc1", index, 4)],
                 [("fc1.b", bias), ("buffer/norm1.running_mean", mean)])
    assert plain.stat().st_size + 24 < biased.stat().st_size       # 6 float32 and two names
    header, indices, arrays = export.read(str(plain))
    assert header["format"] == 1 and arrays == {} and np.array_equal(indices["fc1"], index)
    header, indices, arrays = export.read(str(biased))
    assert header["format"] == 3 and np.array_equal(indices["fc1"], index)
    assert list(arrays) == ["fc1.b", "buffer/norm1.running_mean"]
    assert all(a.dtype == np.float32 for a in arrays.values())
    assert np.array_equal(arrays["fc1.b"], bias)
    assert np.array_equal(arrays["buffer/norm1.running_mean"], mean)
    biased.write_bytes(biased.read_bytes()[:-4])
    with pytest.raises(export.ExportError, match="values of buffer/norm1.running_mean are cut"):
        export.read(str(biased))
    # format 2, as the slotnp before format 3 wrote it
    header = json.dumps(dict(format=2, config={}, options_digest="d", layers=[dict(
        name="fc1", shape=[3, 5], K=4, bits=2)], biases=[dict(name="fc1", count=3)])).encode()
    older = tmp_path / "older.slot"
    older.write_bytes(export.MAGIC + struct.pack("<I", len(header)) + header +
                      export.pack(index, 2) + bias.astype("<f4").tobytes())
    _, indices, arrays = export.read(str(older))
    assert np.array_equal(indices["fc1"], index) and list(arrays) == ["fc1.b"]
    assert np.array_equal(arrays["fc1.b"], bias)


def test_an_export_restores_the_running_statistics_and_biases(tmp_path, rng):
    """A net with a learned bias and batch normalisation: what export.write stores of it
    (run_folder.exported_arrays), loaded into a fresh net of the same weights, evaluates as
    the trained one; an export that lacks them (format 1, as before format 3) is refused."""
    from slotnp.core import BatchNorm2d, Conv2d, Sequential
    from slotnp.run import modes, run_folder
    from slotnp.run.checkpoint import CheckpointError

    def net():
        layers = [("conv1", Conv2d(2, 3, 3, padding=1, rng=np.random.default_rng(0),
                                   bias=True)), ("norm1", BatchNorm2d(3))]
        return Sequential(layers)
    trained, fresh = net(), net()
    trained.params["conv1.b"][...] = rng.standard_normal(3)
    for _ in range(3):                                   # running statistics away from 0, 1
        trained.forward(rng.standard_normal((4, 2, 5, 5)).astype(np.float32) + 2, train=True)
    path = tmp_path / "net.slot"
    export.write(str(path), {}, "d", [],
                 [(n, a) for n, a in run_folder.exported_arrays(trained).items()])
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    assert not np.allclose(fresh.forward(x, train=False), trained.forward(x, train=False))
    modes.load_exported_arrays(fresh, export.read(str(path))[2], str(path))
    assert np.array_equal(fresh.forward(x, train=False), trained.forward(x, train=False))
    with pytest.raises(CheckpointError, match="biases and running statistics do not match"):
        modes.load_exported_arrays(fresh, {}, "old.slot")


def accuracies(capsys, path):
    capsys.readouterr()
    assert train.main(["--eval", str(path), "--dataset", "synthetic"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "accuracy" in line]
    assert [line.split()[0] for line in lines] == ["val", "test"]
    return lines


@pytest.mark.parametrize("K", [2, 8, 32])
def test_an_export_is_small_and_evaluates_exactly_as_its_checkpoint(tmp_path, capsys, K):
    out = tmp_path / "run"
    assert train.main(FAST + ["--K", str(K), "--epochs", "2", "--out", str(out)]) == 0
    target = tmp_path / "net.slot"
    assert train.main(["--export", str(out / "best.npz"), str(target)]) == 0
    assert "the same net's float32 weights" in capsys.readouterr().out
    weights = 4 * (784 * 300 + 300 * 100 + 100 * 10)
    assert os.path.getsize(target) <= export.bits_for(K) / 32 * weights + 4096
    assert accuracies(capsys, target) == accuracies(capsys, out / "best.npz")
    header, indices, _ = export.read(str(target))
    assert header["config"]["K"] == K and indices["fc1"].shape == (300, 784)
    from slotnp import fast
    from slotnp.core import backend
    from slotnp.run import modes
    from slotnp.slots import nets
    with fast.on():                       # the checkpoint's own selection, index for index
        _, net, _ = modes.load_slot_machine(str(out / "best.npz"))
        for name, layer in nets.slot_layers(net):
            assert np.array_equal(indices[name], backend.to_host(layer.selected())), name


def test_an_export_never_writes_over_a_file(tmp_path, capsys, monkeypatch):
    """--export CHECKPOINT FILE with FILE a checkpoint (a slip of the argument order): refused
    in one line, the checkpoint untouched; a write that fails leaves no partial file."""
    out = tmp_path / "run"
    assert train.main(FAST + ["--K", "4", "--epochs", "1", "--out", str(out)]) == 0
    before = (out / "best.npz").read_bytes()
    capsys.readouterr()
    assert train.main(["--export", str(out / "last.npz"), str(out / "best.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {out / 'best.npz'} already exists; --export writes a new file: pick "
                   "another FILE (or delete that one first)"]
    assert (out / "best.npz").read_bytes() == before
    def no_space(source, target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", no_space)          # (the rename, after the write)
    target = tmp_path / "net.slot"
    assert train.main(["--export", str(out / "last.npz"), str(target)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["run"]     # nor any temporary file


def test_damaged_or_mismatched_exports_give_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(FAST + ["--K", "5", "--epochs", "1", "--out", str(out)]) == 0
    good = tmp_path / "net.slot"                       # 3 bits a connection: 5, 6, 7 unused
    assert train.main(["--export", str(out / "last.npz"), str(good)]) == 0
    raw = good.read_bytes()
    (length,) = struct.unpack("<I", raw[len(export.MAGIC):len(export.MAGIC) + 4])
    header = json.loads(raw[len(export.MAGIC) + 4:len(export.MAGIC) + 4 + length])
    body = raw[len(export.MAGIC) + 4 + length:]

    def with_header(changed):
        text = json.dumps(changed).encode()
        return export.MAGIC + struct.pack("<I", len(text)) + text + body

    other_seed = dict(header, config=dict(header["config"], seed=5))
    cases = {
        "truncated.slot": (raw[:-100], "truncated or corrupt"),
        "longer.slot": (raw + b"\0" * 10, "bytes more than its header describes"),
        "header.slot": (raw[:len(export.MAGIC) + 10], "damaged header"),
        "seed.slot": (with_header(other_seed), "differ from the ones it was exported with"),
        "format.slot": (with_header(dict(header, format=9)), "export format 9"),
        "range.slot": (raw[:len(export.MAGIC) + 4 + length] + b"\xff" * len(body),
                       "selects option"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        result = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--eval",
                                 str(tmp_path / name), "--dataset", "synthetic"], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], (name, lines)
    sampled = tmp_path / "sampled"
    assert train.main(FAST + ["--K", "4", "--epochs", "1", "--selection", "sample",
                              "--out", str(sampled)]) == 0
    learned = tmp_path / "learned"
    assert train.main(FAST + ["--learned", "--epochs", "1", "--out", str(learned)]) == 0
    capsys.readouterr()
    assert train.main(["--export", str(sampled / "last.npz"), str(tmp_path / "x")]) == 2
    assert train.main(["--export", str(learned / "last.npz"), str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "takes greedy ones" in err and "holds learned weights" in err
