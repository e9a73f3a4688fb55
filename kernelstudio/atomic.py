"""Atomic file writes: a file is either completely written or left as it was."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

# Read once at import, while only one thread runs: os.umask can only be read by
# setting it, and mkstemp creates files readable by their owner alone.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` through a temporary file and :func:`os.replace`.

    The bytes go to a hidden temporary file in the same folder, are flushed to
    disk, and only then replace `path`. If anything fails, the temporary file is
    removed and an existing file at `path` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    data : bytes
        The complete new content.

    Raises
    ------
    OSError
        If the folder is missing or read-only, the disk is full, and so on.
    """
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    replaced = False
    try:
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.chmod(temporary, 0o666 & ~_UMASK)
        os.replace(temporary, target)
        replaced = True
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _write_all(descriptor: int, data: bytes) -> None:
    remaining = memoryview(data)
    while remaining:
        written = os.write(descriptor, remaining)
        remaining = remaining[written:]


def describe_os_error(error: OSError, *, saving: bool) -> str:
    """Say in a few plain words why reading or saving a file failed.

    Examples
    --------
    >>> describe_os_error(FileNotFoundError(2, "No such file or directory"), saving=True)
    'the folder does not exist'
    """
    if isinstance(error, FileNotFoundError):
        return "the folder does not exist" if saving else "the file does not exist"
    if isinstance(error, IsADirectoryError):
        return "a folder of that name is in the way" if saving else "it is a folder, not a file"
    if isinstance(error, NotADirectoryError):
        return "part of the path is not a folder"
    if isinstance(error, PermissionError):
        return "permission denied"
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno == errno.EROFS:
        return "the disk is read-only"
    detail = error.strerror or str(error) or type(error).__name__
    return detail[:1].lower() + detail[1:]
