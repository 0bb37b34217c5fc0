"""Fetch a file over HTTP from a list of sources tried in turn, with a progress bar; verify its
MD5 and only then move it in place."""
import hashlib
import http.client
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


def fetch(url, path, md5):
    """Download `url` into a temporary file beside `path`; move it to `path` if its MD5 is
    `md5`. Raises OSError (urllib's errors included) or ValueError (a wrong MD5)."""
    from tqdm import tqdm

    folder = os.path.dirname(path) or "."
    handle, partial = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(path)) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        actual = md5sum(partial)
        if actual != md5:
            raise ValueError(f"MD5 {actual}, expected {md5}")
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def download(urls, path, md5, hint):
    """Download `path` from the first of `urls` (one URL or a list) that delivers a file with
    MD5 `md5`; nothing unverified is ever left at `path`.

    When every source fails, one DataError names each source and why, then `hint` (where to
    put the file by hand).
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:                     # --data-dir names a file, say
        raise DataError(f"cannot use {folder} as the data folder ({error.strerror or error}): "
                        "pass --data-dir a folder") from None
    failures = []
    for url in urls:
        try:
            fetch(url, path, md5)
            return
        except ValueError as error:
            failures.append(f"{url} arrived corrupt or changed ({error})")
        except urllib.error.HTTPError as error:
            failures.append(f"{url}: {error}")                    # HTTP Error 403: Forbidden
        except urllib.error.URLError as error:
            failures.append(f"{url}: {error.reason}")             # [Errno 111] Connection ...
        except (OSError, http.client.HTTPException) as error:   # (a reply cut short)
            failures.append(f"{url}: {error!r}" if not str(error) else f"{url}: {error}")
    raise DataError(f"could not download {os.path.basename(path)} from any of "
                    f"{len(urls)} source(s): {'; '.join(failures)}. {hint}")
