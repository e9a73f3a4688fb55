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


def write_atomically(
    path: str | os.PathLike[str], data: bytes | memoryview, *, overwrite: bool = True
) -> None:
    """Write `data` to `path` through a temporary file, then :func:`publish` it.

    The bytes go to a hidden temporary file in the same folder, are flushed to
    disk, and only then take the place of `path`. If anything fails, the
    temporary file is removed and an existing file at `path` is untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    data : bytes or memoryview
        The complete new content.
    overwrite : bool, optional
        True (the default) replaces an existing regular file and keeps its
        permissions, and its owner and group where allowed. False never
        replaces a file, not even one that appears while writing.

    Raises
    ------
    FileExistsError
        If `overwrite` is False and a file exists at `path`.
    NotARegularFileError
        If `path` names a FIFO, a device or a socket (links followed).
    IsADirectoryError
        If `path` names a folder.
    OSError
        If the folder is missing or read-only, the disk is full, and so on.
    """
    target = Path(path)
    check_replaceable(target, overwrite=overwrite)  # refuse early, before any write
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name[:_NAME_KEPT]}.", suffix=".tmp"
    )
    published = False
    try:
        try:
            _write_all(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        publish(temporary, target, overwrite=overwrite)
        published = True
    finally:
        if not published:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def publish(
    temporary: str | os.PathLike[str], path: str | os.PathLike[str], *, overwrite: bool = True
) -> None:
    """Move the complete file `temporary` to `path` in one step, in the same folder.

    The file gets the permissions of the file it replaces (and its owner and
    group where the system allows), or those the umask gives a new file.

    Parameters
    ----------
    temporary : str or os.PathLike
        A complete file in the folder of `path`; it is gone once this returns.
    path : str or os.PathLike
        Destination file.
    overwrite : bool, optional
        True replaces an existing regular file with :func:`os.replace`. False
        publishes with :func:`os.link`, which fails if `path` exists at that
        very moment, so a file that appeared meanwhile is never lost; where the
        file system has no hard links, an exclusive create claims the name.

    Raises
    ------
    FileExistsError
        If `overwrite` is False and a file exists at `path`; `temporary` is kept.
    NotARegularFileError, IsADirectoryError
        If `path` names something other than a regular file.
    OSError
        If the rename fails.
    """
    existing = check_replaceable(path, overwrite=overwrite)
    _take_permissions(temporary, existing)
    if overwrite:
        os.replace(temporary, path)
    else:
        _link_without_clobbering(temporary, path)


# Room for mkstemp's random part and '.tmp' within a 255-byte file name.
_NAME_KEPT = 48
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}
)


def check_replaceable(
    path: str | os.PathLike[str], *, overwrite: bool = True
) -> os.stat_result | None:
    """Check that a file may be written at `path`; return the status of the file there.

    Parameters
    ----------
    path : str or os.PathLike
        The destination.
    overwrite : bool, optional
        Whether an existing regular file may be replaced.

    Returns
    -------
    os.stat_result or None
        The status of the regular file at `path` (links followed), or None
        when nothing is there.

    Raises
    ------
    FileExistsError
        If `overwrite` is False and something is at `path`.
    NotARegularFileError
        If `path` names a FIFO, a device, a socket or a link to nothing.
    IsADirectoryError
        If `path` names a folder.
    """
    target = os.fspath(path)
    try:
        status = os.stat(target)
    except FileNotFoundError:
        if not os.path.lexists(target):
            return None
        raise NotARegularFileError(
            errno.EINVAL, "it is a link to a missing file", target
        ) from None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", target)
    if not stat.S_ISREG(status.st_mode):
        kind = _SPECIAL_KINDS.get(stat.S_IFMT(status.st_mode), "not a regular file")
        raise NotARegularFileError(errno.EINVAL, f"it is {kind}", target)
    if not overwrite:
        raise FileExistsError(errno.EEXIST, "File exists", target)
    return status


_SPECIAL_KINDS = {
    stat.S_IFIFO: "a FIFO, not a regular file",
    stat.S_IFCHR: "a device, not a regular file",
    stat.S_IFBLK: "a device, not a regular file",
    stat.S_IFSOCK: "a socket, not a regular file",
}


def _take_permissions(temporary: str | os.PathLike[str], existing: os.stat_result | None) -> None:
    if existing is None:
        os.chmod(temporary, 0o666 & ~_UMASK)
        return
    # Owner first: chown clears the mode bits that chmod sets next. Only another
    # user's files, or root's, need it; EPERM just means the file becomes ours.
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) != (existing.st_uid, existing.st_gid):
        with contextlib.suppress(PermissionError):
            os.chown(temporary, existing.st_uid, existing.st_gid)
    # Set-user-ID and friends are not carried over to new content.
    os.chmod(temporary, stat.S_IMODE(existing.st_mode) & 0o777)


def _link_without_clobbering(
    temporary: str | os.PathLike[str], path: str | os.PathLike[str]
) -> None:
    try:
        os.link(temporary, path)
    except OSError as error:  # FileExistsError (EEXIST) passes through
        if error.errno not in _NO_HARD_LINKS:
            raise
        _claim_then_replace(temporary, path)
        return
    with contextlib.suppress(OSError):  # published already; a stray link is only clutter
        os.unlink(temporary)


def _claim_then_replace(temporary: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    # The exclusive create fails if the name is taken; for an instant the name
    # then holds an empty file, never a partial one.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    os.close(os.open(path, flags, 0o600))
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _write_all(descriptor: int, data: bytes | memoryview) -> None:
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
    if isinstance(error, FileExistsError):
        return "a file of that name exists"
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
