"""``nivox.save`` to an fsspec URL: written locally, then uploaded in one piece.

An image is first saved, by the usual atomic machinery, into a private
temporary folder under the URL's file name (so the format and compression
follow the name, as for a path); then each file is uploaded with one
``put_file``. Object stores (S3, GCS, Azure) create an object only when its
upload completes (a single PUT, or a multipart upload that becomes visible
when it is completed and is aborted on failure), so readers never see part
of an image, and an upload that fails leaves the object there before
untouched. ``file://`` URLs are saved in place with the local atomic rename.
A pair format (``.hdr``/``.img``) is two objects: the image file is uploaded
before its header.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from typing import Any

from .errors import NivoxError, RemoteFileError

__all__ = ["save_url"]


def _with_url(err: BaseException, local: str, url: str) -> BaseException:
    """``err`` with the temporary path in its message replaced by ``url`` (same class, when it allows)."""
    message = str(err).replace(local, url)
    try:
        renamed = type(err)(message)
    except Exception:  # a class with another constructor: keep the original
        return err
    return renamed


def save_url(img: Any, target: Any, storage_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Save ``img`` to URL or fsspec OpenFile ``target``; see the module docstring.

    Raises
    ------
    RemoteFileError
        The upload failed; the message names the URL and says the object
        there (if any) was left as it was.
    """
    from . import _remote
    from .loadsave import save

    if _remote.is_openfile(target):
        fs, path = target.fs, target.path
        url = fs.unstrip_protocol(path) if hasattr(fs, "unstrip_protocol") else path
    else:
        url = str(target)
        fs, path = _remote.filesystem_for(url, storage_options)
    if _is_local(fs):
        save(img, path, **kwargs)  # a local file: the atomic rename is the guarantee
        return
    name = posixpath.basename(path.rstrip("/"))
    if not name or url.endswith("/"):
        raise RemoteFileError(f"{url}: a URL to save to must end with a file name")
    with tempfile.TemporaryDirectory(prefix="nivox-upload-") as folder:
        local = os.path.join(folder, name)
        try:
            save(img, local, **kwargs)
        except NivoxError as err:
            raise _with_url(err, local, url) from err
        written = sorted(os.listdir(folder), key=lambda entry: entry == name)  # the named file last
        parent = posixpath.dirname(path)
        for entry in written:
            remote_path = posixpath.join(parent, entry) if parent else entry
            try:
                fs.put_file(os.path.join(folder, entry), remote_path)
            except Exception as err:  # any transport or permission failure: one error naming the URL
                shown = url if entry == name else posixpath.join(posixpath.dirname(url), entry)
                raise RemoteFileError(
                    f"{shown}: cannot upload it ({type(err).__name__}: {err}); an object already there "
                    "is left as it was"
                ) from err


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")
