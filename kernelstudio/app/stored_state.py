"""Everything Kernel Studio reads back from disk goes through here, and is checked.

Stored state outlives versions, crashes and hand edits, so nothing read back is
trusted: each setting is checked for its type, range and size, each stored file
must be a regular file under a size cap, and a JSON document may not nest deeper
than its format allows. A bad value is reset to its default, a file that cannot
be parsed is moved aside as ``NAME.bad`` (never deleted), and each problem is
kept as a sentence for the window to show and the log to record.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Collection
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from kernelstudio.atomic import describe_os_error, read_regular_file
from kernelstudio.kernels import brief

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
"""Longest text setting accepted (a path, a mode name)."""

MAX_BYTES_SETTING = 1 << 20
"""Largest binary setting accepted (window geometry and dock layout are a few hundred bytes)."""


class StoredFileError(ValueError):
    """A stored file that is missing, unreadable, too large or malformed; says why."""


class StoredState:
    """Checked reads of the window's :class:`~PySide6.QtCore.QSettings`.

    Every getter returns a value of the promised type; a stored value that is
    not one is removed from the settings, and the reason joins :attr:`problems`.

    Parameters
    ----------
    settings : QSettings
        The store to read and repair.
    """

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings
        self.problems: list[str] = []

    def text(self, key: str, default: str, *, choices: Collection[str] | None = None) -> str:
        """Return the text at `key`, or `default` when it is absent or unusable."""
        value = self._value(key)
        if value is None:
            return default
        if not isinstance(value, str):
            return self._reset(key, default, f"holds {_kind(value)}, not text")
        if len(value) > MAX_TEXT_LENGTH:
            return self._reset(key, default, f"holds {len(value):,} characters")
        if choices is not None and value not in choices:
            return self._reset(
                key, default, f"holds {brief(value)}, which is not one of the choices"
            )
        return value

    def flag(self, key: str, default: bool) -> bool:
        """Return the yes/no setting at `key` (stored as ``true``/``false``)."""
        value = self._value(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return self._reset(key, default, f"holds {brief(value)}, not true or false")

    def byte_array(self, key: str) -> QByteArray | None:
        """Return the binary setting at `key` (window geometry, dock layout), or ``None``."""
        value = self._value(key)
        if value is None:
            return None
        if not isinstance(value, QByteArray | bytes):
            return self._reset(key, None, f"holds {_kind(value)}, not binary data")
        if len(value) > MAX_BYTES_SETTING:
            return self._reset(key, None, f"holds {len(value):,} bytes")
        return QByteArray(value)

    def text_list(self, key: str, *, max_items: int) -> list[str]:
        """Return the list of texts at `key` (at most `max_items`), or an empty list."""
        value = self._value(key)
        if value is None:
            return []
        if isinstance(value, str):  # QSettings gives a one-item list back as its item
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return self._reset(key, [], f"holds {_kind(value)}, not a list of texts")
        if len(value) > max_items or any(len(item) > MAX_TEXT_LENGTH for item in value):
            return self._reset(key, [], "holds more than it ever should")
        return value

    def _value(self, key: str) -> object:
        try:
            return self._settings.value(key)
        except (TypeError, ValueError, RecursionError, MemoryError) as error:
            return self._reset(key, None, f"could not be read ({type(error).__name__})")

    def _reset(self, key: str, default: object, reason: str) -> object:
        self.problems.append(f"the setting '{key}' {reason}; it was reset")
        log.warning("reset the setting %s: it %s", key, reason)
        self._settings.remove(key)
        return default


def read_json_document(path: Path, *, max_bytes: int, max_depth: int) -> object:
    """Parse the JSON file at `path`, checking that it is small and shallow.

    Parameters
    ----------
    path : pathlib.Path
        A regular file (a FIFO, a device or a folder is refused without waiting).
    max_bytes : int
        The largest file accepted.
    max_depth : int
        How deeply lists and objects may nest.

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    FileNotFoundError
        If there is no file (nothing stored yet is not a problem).
    StoredFileError
        If the file cannot be read, is too large, is not UTF-8 JSON, or nests too deeply.
    """
    try:
        data = read_regular_file(path, max_bytes)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise StoredFileError(
            f"'{path.name}' cannot be read: {describe_os_error(error, saving=False)}"
        ) from None
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError) as error:
        raise StoredFileError(
            f"'{path.name}' is not valid JSON ({brief(str(error), 80)})"
        ) from None
    if depth_exceeds(document, max_depth):
        raise StoredFileError(f"'{path.name}' nests deeper than {max_depth} levels")
    return document


def depth_exceeds(document: object, max_depth: int) -> bool:
    """Whether lists and objects in `document` nest more than `max_depth` deep.

    Iterative, so a document nested 10⁵ deep costs no recursion.

    Examples
    --------
    >>> depth_exceeds([[1, 2], [3]], 2), depth_exceeds([[[1]]], 2)
    (False, True)
    """
    pending = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            if depth + 1 > max_depth:
                return True
            pending.extend((item, depth + 1) for item in value)
    return False


def move_aside(path: Path) -> Path | None:
    """Rename the unusable file `path` to ``NAME.bad`` (or ``NAME.1.bad`` …), keeping it.

    Returns the new path, or ``None`` when even renaming failed (it stays where it is).
    """
    for attempt in range(100):
        suffix = ".bad" if attempt == 0 else f".{attempt}.bad"
        target = path.with_name(path.name + suffix)
        if os.path.lexists(target):
            continue
        with contextlib.suppress(OSError):
            os.rename(path, target)
            log.warning("moved the unusable file %s aside as %s", path, target.name)
            return target
        return None
    return None


def _kind(value: object) -> str:
    return f"a {type(value).__name__}"
