"""Loaders on small files written here in the canonical formats, plus split/augment/batches."""
import gzip
import hashlib
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

import datasets
from datasets import cifar10, download, image_folder, mnist, prepare
from datasets.errors import DataError
from slotnp import backend


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(folder, rng, n_train=30, n_test=12):
    os.makedirs(folder, exist_ok=True)
    arrays = dict(x_train=rng.integers(0, 256, (n_train, 28, 28)), y_train=rng.integers(0, 10, n_train),
                  x_test=rng.integers(0, 256, (n_test, 28, 28)), y_test=rng.integers(0, 10, n_test))
    for name, key in zip(mnist.FILES, ("x_train", "y_train", "x_test", "y_test")):
        write_idx(os.path.join(folder, name), arrays[key])
    return arrays


def test_mnist_reads_idx_files(tmp_path, rng):
    arrays = fake_mnist(tmp_path / "mnist", rng)
    data = datasets.load("mnist", str(tmp_path))
    assert data["x_train"].shape == (30, 1, 28, 28) and data["x_train"].dtype == np.uint8
    assert np.array_equal(data["x_train"][:, 0], arrays["x_train"])
    assert np.array_equal(data["y_test"], arrays["y_test"]) and data["y_test"].dtype == np.int64


def test_truncated_and_corrupt_idx_files_give_clear_errors(tmp_path, rng):
    fake_mnist(tmp_path, rng)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))                      # data cut short
    with pytest.raises(DataError, match="truncated or corrupt"):
        mnist.load(str(tmp_path))
    path.write_bytes(gzip.compress(raw)[:500])                       # gzip stream cut short
    with pytest.raises(DataError, match="truncated"):
        mnist.load(str(tmp_path))
    packed = bytearray(gzip.compress(raw))                           # bytes changed inside
    packed[len(packed) // 2:len(packed) // 2 + 8] = bytes(8)
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match="cannot be read"):
        mnist.load(str(tmp_path))
    path.write_bytes(gzip.compress(b"\x12\x34" + raw[2:]))           # wrong magic number
    with pytest.raises(DataError, match="magic"):
        mnist.load(str(tmp_path))


def test_missing_data_without_network_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist, "SOURCES", ["http://127.0.0.1:9/"])  # nothing listens there
    with pytest.raises(DataError, match="could not download.*--data-dir"):
        mnist.load(str(tmp_path))
    with pytest.raises(DataError, match="not found.*--data-dir"):
        mnist.load(str(tmp_path), allow_download=False)


def test_a_reply_cut_short_is_one_failure_among_the_sources(tmp_path, monkeypatch):
    """http.client's IncompleteRead (a server that hangs up inside a chunked reply) is not an
    OSError: it is listed as that source's failure, and the next source is tried."""
    import http.client
    tried = []

    def fetch(url, path, md5):
        tried.append(url)
        raise http.client.IncompleteRead(b"partial", 100)
    monkeypatch.setattr(download, "fetch", fetch)
    with pytest.raises(DataError, match="from any of 2 source\\(s\\): a: IncompleteRead"):
        download.download(["a", "b"], str(tmp_path / "file.bin"), "0" * 32, "hint")
    assert tried == ["a", "b"] and not (tmp_path / "file.bin").exists()


def test_download_verifies_md5_and_keeps_nothing_bad(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"slot machines" * 100)
    good = hashlib.md5(source.read_bytes()).hexdigest()
    target = tmp_path / "data" / "file.bin"
    with pytest.raises(DataError, match="MD5"):
        download.download(source.as_uri(), str(target), "0" * 32, "hint")
    assert not target.exists() and os.listdir(tmp_path / "data") == []
    download.download(source.as_uri(), str(target), good, "hint")
    assert target.read_bytes() == source.read_bytes()


def cifar_batch(rng, n):
    return {b"data": rng.integers(0, 256, (n, 3072)).astype(np.uint8),
            b"labels": rng.integers(0, 10, n).tolist()}


def fake_cifar(folder, rng):
    os.makedirs(folder, exist_ok=True)
    batches = {name: cifar_batch(rng, 4) for name in cifar10.TRAIN_BATCHES + [cifar10.TEST_BATCH]}
    batches["batches.meta"] = {b"label_names": [f"c{i}".encode() for i in range(10)]}
    for name, content in batches.items():
        with open(os.path.join(folder, name), "wb") as file:
            pickle.dump(content, file)
    return batches


@pytest.mark.parametrize("as_archive", [False, True])
def test_cifar10_reads_python_batches(tmp_path, rng, as_archive):
    batches = fake_cifar(tmp_path / cifar10.FOLDER, rng)
    if as_archive:
        with tarfile.open(tmp_path / cifar10.ARCHIVE, "w:gz") as tar:
            tar.add(tmp_path / cifar10.FOLDER, arcname=cifar10.FOLDER)
        for name in os.listdir(tmp_path / cifar10.FOLDER):
            os.remove(tmp_path / cifar10.FOLDER / name)
        os.rmdir(tmp_path / cifar10.FOLDER)
    data = datasets.load("cifar10", str(tmp_path))
    assert data["x_train"].shape == (20, 3, 32, 32) and data["x_test"].shape == (4, 3, 32, 32)
    first = batches["data_batch_1"]
    assert np.array_equal(data["x_train"][:4].reshape(4, -1), first[b"data"])
    assert data["y_train"][:4].tolist() == first[b"labels"]
    assert data["classes"][3] == "c3"


def test_a_cifar_batches_folder_missing_a_batch_names_it(tmp_path, rng):
    """Without the archive beside it, the folder's missing batch is the error (it used to
    blame an archive that was not there); a batch that cannot be read is named too."""
    fake_cifar(tmp_path / cifar10.FOLDER, rng)
    os.remove(tmp_path / cifar10.FOLDER / "data_batch_4")
    with pytest.raises(DataError, match="cifar-10-batches-py lacks data_batch_4; copy"):
        cifar10.load(str(tmp_path), allow_download=False)
    os.makedirs(tmp_path / cifar10.FOLDER / "data_batch_4")
    with pytest.raises(DataError, match="cannot read .*data_batch_4"):
        cifar10.load(str(tmp_path), allow_download=False)


def test_corrupt_cifar_batch_and_truncated_archive_give_clear_errors(tmp_path, rng):
    fake_cifar(tmp_path / cifar10.FOLDER, rng)
    (tmp_path / cifar10.FOLDER / "data_batch_3").write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match="data_batch_3 is corrupt"):
        cifar10.load(str(tmp_path))
    archive_dir = tmp_path / "archive"
    fake_cifar(archive_dir / cifar10.FOLDER, rng)
    with tarfile.open(archive_dir / cifar10.ARCHIVE, "w:gz") as tar:
        tar.add(archive_dir / cifar10.FOLDER, arcname=cifar10.FOLDER)
    for name in os.listdir(archive_dir / cifar10.FOLDER):
        os.remove(archive_dir / cifar10.FOLDER / name)
    raw = (archive_dir / cifar10.ARCHIVE).read_bytes()
    (archive_dir / cifar10.ARCHIVE).write_bytes(raw[:len(raw) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        cifar10.load(str(archive_dir))
    # bytes changed inside the compressed stream (after the header and its file name), the
    # length kept: the gzip checksum at the end (read whole before any batch is used) or the
    # inflating itself fails; never other data
    for at in range(100, len(raw) - 8, (len(raw) - 108) // 12):
        damaged = bytearray(raw)
        damaged[at:at + 4] = bytes(b ^ 0x5A for b in damaged[at:at + 4])
        (archive_dir / cifar10.ARCHIVE).write_bytes(bytes(damaged))
        with pytest.raises(DataError, match="truncated or corrupt"):
            cifar10.load(str(archive_dir))


def fake_image_folder(root, rng, size=(6, 5)):
    from PIL import Image
    expected = {}
    for split, count in (("train", 3), ("test", 2)):
        for label, name in enumerate(["cat", "dog"]):
            os.makedirs(root / split / name, exist_ok=True)
            for i in range(count):
                pixels = rng.integers(0, 256, size + (3,)).astype(np.uint8)
                Image.fromarray(pixels).save(root / split / name / f"{i:04d}.png")
                expected[(split, name, i)] = pixels
    return expected


def test_image_folder_decodes_once_then_reads_its_cache(tmp_path, rng, monkeypatch):
    root = tmp_path / "images"
    expected = fake_image_folder(root, rng)
    data = datasets.load("cifar10", str(root))
    assert data["classes"] == ["cat", "dog"]
    assert data["x_train"].shape == (6, 3, 6, 5) and data["y_train"].tolist() == [0, 0, 0, 1, 1, 1]
    assert np.array_equal(data["x_train"][4].transpose(1, 2, 0), expected[("train", "dog", 1)])
    assert (root / image_folder.CACHE_NAME).exists()

    def no_decoding(files):
        raise AssertionError("decoded again instead of reading the cache")
    monkeypatch.setattr(image_folder, "decode", no_decoding)
    cached = image_folder.load(str(root))
    assert np.array_equal(cached["x_test"], data["x_test"])
    (root / "test" / "cat" / "0000.png").unlink()           # the folder changed: rebuild
    with pytest.raises(AssertionError, match="decoded again"):
        image_folder.load(str(root))


def test_read_only_image_folder_is_cached_in_the_user_cache(tmp_path, rng, monkeypatch):
    root = tmp_path / "images"
    fake_image_folder(root, rng)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    os.chmod(root, 0o555)                       # read-only, which root must respect too
    try:
        first = image_folder.load(str(root))
    finally:
        os.chmod(root, 0o755)
    assert not (root / image_folder.CACHE_NAME).exists()
    cached = list((tmp_path / "home" / ".cache" / "slotnp").glob("*" + image_folder.CACHE_NAME))
    assert len(cached) == 1
    assert np.array_equal(image_folder.load(str(root))["x_train"], first["x_train"])


def test_a_grey_image_among_colour_ones_and_a_changed_image_of_the_same_size(tmp_path, rng):
    """The first image does not decide the channels: a greyscale one among colour ones becomes
    three equal channels. An image replaced by another of the same byte size (a later
    modification time) is decoded again, not read from the cache. A broken link is one line."""
    from PIL import Image
    root = tmp_path / "images"
    expected = fake_image_folder(root, rng)
    grey = rng.integers(0, 256, (6, 5)).astype(np.uint8)
    Image.fromarray(grey).save(root / "train" / "cat" / "0000.png")    # first of its split
    data = datasets.load("cifar10", str(root))
    assert data["x_train"].shape == (6, 3, 6, 5)
    assert all(np.array_equal(data["x_train"][0][c], grey) for c in range(3))
    assert np.array_equal(data["x_train"][1].transpose(1, 2, 0), expected[("train", "cat", 1)])
    image = root / "train" / "dog" / "0002.png"        # stored uncompressed: one size
    Image.fromarray(expected[("train", "dog", 2)]).save(image, compress_level=0)
    size = image.stat().st_size
    datasets.load("cifar10", str(root))                 # the cache holds it
    flipped = expected[("train", "dog", 2)][::-1].copy()
    Image.fromarray(flipped).save(image, compress_level=0)
    assert image.stat().st_size == size
    os.utime(image, ns=(image.stat().st_atime_ns, image.stat().st_mtime_ns + 10 ** 9))
    assert np.array_equal(
        datasets.load("cifar10", str(root))["x_train"][5].transpose(1, 2, 0), flipped)
    os.symlink(root / "nowhere.png", root / "train" / "dog" / "0009.png")
    with pytest.raises(DataError, match="0009.png .*; fix or remove it"):
        datasets.load("cifar10", str(root))


def test_image_folder_errors(tmp_path, rng):
    root = tmp_path / "images"
    fake_image_folder(root, rng)
    (root / "train" / "cat" / "9999.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    with pytest.raises(DataError, match="cannot decode image .*9999.jpg"):
        image_folder.load(str(root))
    (tmp_path / "only_train" / "train" / "a").mkdir(parents=True)
    os.replace(root / "train" / "dog" / "0000.png", tmp_path / "only_train" / "train" / "a" / "0.png")
    with pytest.raises(DataError, match="no test/ subfolder"):
        image_folder.load(str(tmp_path / "only_train"))


def test_split_is_disjoint_complete_and_seeded():
    x, y = np.arange(1000), np.arange(1000) % 10
    (x_train, y_train), (x_val, y_val) = prepare.split(x, y, 0.15, seed=3)
    assert len(x_val) == 150 and len(x_train) == 850
    assert set(x_train).isdisjoint(x_val) and set(x_train) | set(x_val) == set(range(1000))
    assert np.array_equal(y_val, x_val % 10)
    again = prepare.split(x, y, 0.15, seed=3)[1][0]
    other = prepare.split(x, y, 0.15, seed=4)[1][0]
    assert np.array_equal(again, x_val) and not np.array_equal(other, x_val)


def test_normalisation_uses_training_statistics():
    x = np.stack([np.full((1, 2, 2), 0), np.full((1, 2, 2), 255)]).astype(np.uint8)
    mean, std = prepare.channel_stats(x)
    assert mean.tolist() == [0.5] and std.tolist() == [0.5]
    normalised = backend.to_host(prepare.normalise_to_device(x, mean, std))
    assert normalised.dtype == np.float32 and sorted(np.unique(normalised)) == [-1.0, 1.0]


def test_crop_and_flip_keep_shapes_and_take_real_windows(xp, rng):
    x_host = rng.standard_normal((16, 3, 8, 6)).astype(np.float32)
    out = backend.to_host(prepare.random_crop_flip(backend.to_device(x_host), rng, padding=2))
    assert out.shape == x_host.shape and out.dtype == np.float32
    padded = np.pad(x_host, ((0, 0), (0, 0), (2, 2), (2, 2)))
    flips = 0
    for n in range(16):
        windows = [padded[n, :, t:t + 8, l:l + 6] for t in range(5) for l in range(5)]
        plain = any(np.array_equal(out[n], w) for w in windows)
        flipped = any(np.array_equal(out[n], w[:, :, ::-1]) for w in windows)
        assert plain or flipped
        flips += flipped and not plain
    assert 0 < flips < 16


def test_flips_alone_flip_about_half_of_the_images_and_nothing_else(xp, rng):
    x_host = rng.standard_normal((32, 3, 4, 5)).astype(np.float32)
    out = backend.to_host(prepare.random_flip(backend.to_device(x_host), rng))
    flipped = [np.array_equal(out[n], x_host[n, :, :, ::-1]) for n in range(32)]
    kept = [np.array_equal(out[n], x_host[n]) for n in range(32)]
    assert all(f != k for f, k in zip(flipped, kept)) and 4 < sum(flipped) < 28
    # runs saved before flips alone existed recorded crop-flip as True, none as False
    assert prepare.augmentation(True) is prepare.augmentation("crop-flip") is \
        prepare.random_crop_flip
    assert prepare.augmentation(False) is prepare.augmentation("none") is None


def test_batches_cover_one_permutation():
    parts = prepare.batches(10, 4, np.random.default_rng(0))
    assert [len(p) for p in parts] == [4, 4, 2]
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))


def test_synthetic_set_is_deterministic():
    a, b = datasets.load("synthetic", "unused"), datasets.load("synthetic", "unused")
    assert a["x_train"].shape == (1000, 1, 28, 28) and np.array_equal(a["x_train"], b["x_train"])
    with pytest.raises(DataError, match="unknown data set"):
        datasets.load("imagenet", "unused")


def test_an_image_folder_whose_splits_differ_in_classes_names_them(tmp_path, rng):
    root = tmp_path / "images"
    fake_image_folder(root, rng)
    os.rename(root / "test" / "dog", root / "test" / "cow")
    with pytest.raises(DataError, match=r"class folders \(dog only in train/; cow only in "
                                        r"test/\); give both the same"):
        datasets.load("cifar10", str(root))
