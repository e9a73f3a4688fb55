"""Safe file access: atomic writes, and bounded reads of regular files only.

A write leaves a file either completely written or as it was. A read never
blocks on a FIFO or a device and never reads more than its cap, so a stray
link to ``/dev/zero`` in a settings folder costs nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
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
    if isinstance(error, NotARegularFileError | FileTooLargeError):
        return error.strerror
    if error.errno == errno.ENOSPC:
        return "the disk is full"
    if error.errno == errno.EROFS:
        return "the disk is read-only"
    detail = error.strerror or str(error) or type(error).__name__
    return detail[:1].lower() + detail[1:]


class NotARegularFileError(OSError):
    """The path names a FIFO, a device, a socket or a folder instead of a file."""


class FileTooLargeError(OSError):
    """The file holds more bytes than the reader accepts."""


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """Return the bytes of the regular file at `path`, refusing anything else.

    The file is opened without blocking (a FIFO would otherwise wait for a
    writer forever) and checked with ``fstat`` on the open descriptor, so the
    check and the read concern the same file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read; links are followed.
    max_bytes : int
        The largest size accepted.

    Returns
    -------
    bytes

    Raises
    ------
    NotARegularFileError
        If `path` is not a regular file.
    FileTooLargeError
        If it holds more than `max_bytes` bytes.
    OSError
        If it cannot be opened or read.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            kind = "a folder" if stat.S_ISDIR(status.st_mode) else "not a regular file"
            raise NotARegularFileError(errno.EINVAL, f"it is {kind}", os.fspath(path))
        if status.st_size > max_bytes:
            raise FileTooLargeError(
                errno.EFBIG,
                f"it holds {status.st_size:,} bytes, more than the {max_bytes:,} accepted",
                os.fspath(path),
            )
        chunks = []
        remaining = max_bytes + 1  # one more byte tells a file that grew meanwhile
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:
            message = f"it holds more than the {max_bytes:,} bytes accepted"
            raise FileTooLargeError(errno.EFBIG, message, os.fspath(path))
        return b"".join(chunks)
    finally:
        os.close(descriptor)
