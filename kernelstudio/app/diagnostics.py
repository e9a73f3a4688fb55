"""The log file and the last line of defence against uncaught exceptions.

Everything Kernel Studio loads, computes and exports is logged, with every
error and its traceback, to a rotating file in the user's state folder, so a
bug report can attach it. An exception nobody caught, on any thread, is logged
and shown to the person in the window instead of ending the program.
"""

from __future__ import annotations

import functools
import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from traceback import format_exception_only
from types import TracebackType
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QStandardPaths, Signal

LOG_FILE_NAME = "kernelstudio.log"
LOG_FILE_BYTES = 1_000_000
LOG_FILE_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)-8s %(threadName)s %(name)s: %(message)s"

log = logging.getLogger("kernelstudio")


def default_log_folder() -> Path:
    """Return the user's state folder for Kernel Studio (``~/.local/state/…`` on Linux)."""
    location = QStandardPaths.StandardLocation.StateLocation
    return Path(QStandardPaths.writableLocation(location))


def install_log_file(folder: Path | None = None) -> Path | None:
    """Send the ``kernelstudio`` loggers to a rotating file in `folder`.

    Parameters
    ----------
    folder : pathlib.Path, optional
        Where the log goes; :func:`default_log_folder` by default.

    Returns
    -------
    pathlib.Path or None
        The log file, or ``None`` when the folder cannot be written (the app
        then runs without a log rather than not at all).
    """
    folder = folder or default_log_folder()
    path = folder / LOG_FILE_NAME
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # File names that are not UTF-8 (bytes kept as surrogates) are logged escaped.
        handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=LOG_FILE_BYTES,
            backupCount=LOG_FILE_BACKUPS,
            encoding="utf-8",
            errors="backslashreplace",
        )
    except OSError as error:
        sys.stderr.write(f"kernelstudio: no log file ({error})\n")
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    for old in [h for h in log.handlers if getattr(h, "kernelstudio_log_file", False)]:
        log.removeHandler(old)
        old.close()
    handler.kernelstudio_log_file = True
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return path


_Method = TypeVar("_Method", bound=Callable[..., Any])


def qt_virtual(default: object = None) -> Callable[[_Method], _Method]:
    """Guard a Qt virtual method we override, so that no exception unwinds into C++.

    Qt calls overridden virtuals (``QUndoCommand.redo``, ``event``, ``paintEvent``,
    ``eventFilter`` …) from C++, where a Python exception has nowhere to go: at
    best the call is abandoned half done, at worst the process dies. A guarded
    method hands any exception to :data:`sys.excepthook` (the
    :class:`CrashReporter` once installed: logged, and told to the person) and
    returns `default` to Qt.

    Examples
    --------
    >>> import sys
    >>> class Filter:
    ...     @qt_virtual(default=False)
    ...     def eventFilter(self, watched, event):
    ...         raise RuntimeError("injected")
    >>> seen = []
    >>> sys.excepthook, previous = (lambda kind, error, trace: seen.append(kind)), sys.excepthook
    >>> Filter().eventFilter(None, None), seen
    (False, [<class 'RuntimeError'>])
    >>> sys.excepthook = previous
    """

    def decorate(method: _Method) -> _Method:
        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception:
                sys.excepthook(*sys.exc_info())
                return default

        return guarded  # type: ignore[return-value]

    return decorate


class CrashReporter(QObject):
    """Catches exceptions that escaped everything else, on any thread.

    Signals
    -------
    crashed(str)
        A sentence for the person; delivered on the GUI thread.
    """

    crashed = Signal(str)

    def __init__(self, log_file: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._log_file = log_file
        self._previous_hooks = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        """Become ``sys.excepthook`` and ``threading.excepthook``."""
        sys.excepthook = self.report
        threading.excepthook = self._report_thread

    def uninstall(self) -> None:
        """Give the hooks back to whoever had them before :meth:`install`."""
        sys.excepthook, threading.excepthook = self._previous_hooks

    def _report_thread(self, info: threading.ExceptHookArgs) -> None:
        # Like Python's own hook, a thread that ends with sys.exit() is not an error.
        if not issubclass(info.exc_type, SystemExit):
            self.report(info.exc_type, info.exc_value, info.exc_traceback)

    def report(
        self,
        kind: type[BaseException],
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Log an uncaught exception with its traceback and tell the person."""
        if issubclass(kind, KeyboardInterrupt):
            self._previous_hooks[0](kind, error, traceback)
            return
        log.critical("uncaught exception", exc_info=(kind, error, traceback))
        where = f" Details are in {self._log_file}." if self._log_file else ""
        summary = "".join(format_exception_only(kind, error)).strip()
        self.crashed.emit(
            f"Something went wrong ({summary}). Kernel Studio keeps running; your image "
            f"and kernel are unchanged.{where}"
        )
