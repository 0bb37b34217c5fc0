"""Fetch a file over HTTP with a progress bar, verify its MD5, and only then move it in place."""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

from .errors import DataError


def md5sum(path, chunk=1 << 20):
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url, path, md5, hint):
    """Download `url` to `path` unless it is already there; check the MD5 of what arrived.

    `hint` ends the error message when there is no network (where to put the file instead).
    """
    from tqdm import tqdm

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(path)) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        actual = md5sum(partial)
        if actual != md5:
            raise DataError(f"{url} arrived with MD5 {actual}, expected {md5}: the download is "
                            f"corrupt or was changed; try again, or fetch it by hand ({hint})")
        os.replace(partial, path)
    except (urllib.error.URLError, OSError) as error:
        raise DataError(f"could not download {url} ({error}). {hint}") from None
    finally:
        if os.path.exists(partial):
            os.remove(partial)
