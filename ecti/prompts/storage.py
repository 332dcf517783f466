"""Where prompt audio lives: behind :class:`MediaStorage`, on the filesystem by default.

Keys are ASCII paths such as ``t12/audio/prompt-5f0c….wav``; the first segment is always the
tenant (``t<id>``), which the signed media URLs rely on. The filesystem storage keeps files
under ``ecti.media_dir``; several app servers share it over a network filesystem, or the
``ecti.media_storage`` setting names another factory (dotted path of a callable taking the
settings), for example one that talks to S3-compatible object storage.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

KEY_PATTERN = re.compile(r"^t\d+(/[a-z0-9][a-z0-9_.-]*)+$")


class MediaNotFound(LookupError):
    """No file is stored under this key."""


@runtime_checkable
class MediaStorage(Protocol):
    """Stores and returns the bytes of media files by key. Writes must be atomic: a reader
    sees the old file, the new file or nothing, never half a file (app servers share it)."""

    def save(self, key: str, data: bytes) -> None: ...

    def load(self, key: str) -> bytes:
        """The bytes stored under ``key``; raise :class:`MediaNotFound` when there are none."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file; a key that is already gone is not an error."""


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"not a media key: {key!r}")
    return key


class FilesystemStorage:
    """Files under one directory (``ecti.media_dir``), written atomically with ``os.replace``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: dict) -> "FilesystemStorage":
        return cls(settings["ecti.media_dir"])

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
