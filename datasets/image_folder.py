"""Image folders root/{train,test}/<class>/*.png|jpg, decoded once with Pillow and cached as .npz.

The cache goes next to the data (root/slotnp-cache.npz); where that folder is read-only it goes
to ~/.cache/slotnp/. It is rebuilt whenever the list of files, their sizes or their modification
times change.
"""
import hashlib
import os

import numpy as np

from .errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")
CACHE_NAME = "slotnp-cache.npz"


def list_split(root, split):
    """[(path, class index, (bytes, modified ns))] sorted, and the sorted class names, of
    root/split/<class>/*."""
    folder = os.path.join(root, split)
    if not os.path.isdir(folder):
        raise DataError(f"image folder {root} has no {split}/ subfolder; expected "
                        f"{root}/{{train,test}}/<class>/*.png|jpg")
    files = []
    try:
        classes = sorted(e.name for e in os.scandir(folder) if e.is_dir())
        for index, name in enumerate(classes):
            for entry in sorted(os.scandir(os.path.join(folder, name)), key=lambda e: e.name):
                if entry.name.lower().endswith(EXTENSIONS):
                    stat = entry.stat()
                    files.append((entry.path, index, (stat.st_size, stat.st_mtime_ns)))
    except OSError as error:                 # an unreadable folder, a broken link
        raise DataError(f"cannot read {error.filename or folder} ({error.strerror or error}); "
                        "fix or remove it") from None
    if not files:
        raise DataError(f"no .png or .jpg images in {folder}/<class>/")
    return files, classes


def decode(files):
    """Pillow-decode every file: uint8 (N, C, H, W); C = 1 where every image is greyscale,
    else 3 (RGB; a greyscale image among colour ones repeats its one channel three times, as
    Pillow's convert("RGB") does)."""
    from PIL import Image, UnidentifiedImageError

    images, size = [], None
    for path, _, _ in files:
        try:
            with Image.open(path) as image:
                grey = image.mode in ("L", "1")
                array = np.asarray(image.convert("L" if grey else "RGB"))
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"cannot decode image {path} ({error}); remove or replace it") from None
        if size is None:
            size = array.shape[:2]
        elif array.shape[:2] != size:
            raise DataError(f"image {path} is {array.shape[:2]}, the others {size}: all "
                            "images of a folder must have one size")
        images.append(array)
    if all(image.ndim == 2 for image in images):
        return np.stack(images)[:, None]
    colour = [np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
              for image in images]
    return np.stack(colour).transpose(0, 3, 1, 2)


def _writable(folder):
    """Whether we may write into `folder`; its mode bits count even for root, so a folder
    someone made read-only stays untouched."""
    return os.access(folder, os.W_OK) and bool(os.stat(folder).st_mode & 0o200)


def _cache_paths(root):
    """Where the cache may live: beside the data, then in the user's cache folder."""
    yield os.path.join(root, CACHE_NAME)
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:16]
    yield os.path.join(os.path.expanduser("~"), ".cache", "slotnp", f"{key}-{CACHE_NAME}")


def _signature(file_lists):
    digest = hashlib.sha1()
    for files in file_lists:
        for path, label, (size, modified) in files:
            digest.update(f"{os.path.basename(path)}:{label}:{size}:{modified};".encode())
    return digest.hexdigest()


def load(root):
    """Train and test arrays of an image folder, from its cache when the files are unchanged."""
    train_files, classes = list_split(root, "train")
    test_files, test_classes = list_split(root, "test")
    if test_classes != classes:
        only = [f"{', '.join(sorted(set(a) - set(b)))} only in {split}/"
                for a, b, split in ((classes, test_classes, "train"),
                                    (test_classes, classes, "test")) if set(a) - set(b)]
        raise DataError(f"{root}: train/ and test/ have different class folders ("
                        f"{'; '.join(only) or 'in another order'}); give both the same")
    signature = _signature([train_files, test_files])
    for path in _cache_paths(root):
        if os.path.exists(path):
            try:
                with np.load(path) as cache:
                    if str(cache["signature"]) == signature:
                        return dict(x_train=cache["x_train"], y_train=cache["y_train"],
                                    x_test=cache["x_test"], y_test=cache["y_test"],
                                    classes=classes)
            except Exception:  # a damaged cache is simply rebuilt
                pass
    data = dict(x_train=decode(train_files), y_train=np.array([f[1] for f in train_files]),
                x_test=decode(test_files), y_test=np.array([f[1] for f in test_files]),
                classes=classes)
    for path in _cache_paths(root):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not _writable(os.path.dirname(path)):
                continue
            temporary = path + ".part.npz"
            np.savez(temporary, signature=signature,
                     **{k: v for k, v in data.items() if k != "classes"})
            os.replace(temporary, path)
            break
        except OSError:
            continue  # read-only next to the data: try the user cache
    return data
