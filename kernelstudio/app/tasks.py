"""Running a function on a worker thread and hearing about it on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal


class TaskSignals(QObject):
    """Signals of a :class:`Task`, created on the GUI thread.

    ``done`` carries the task's tag, its return value (or ``None``) and the
    exception it raised (or ``None``). Receivers on the GUI thread get it queued
    there, so they may touch widgets.
    """

    done = Signal(object, object, object)


class Task(QRunnable):
    """One call of `function` on a thread pool, reported through ``signals.done``.

    Parameters
    ----------
    function : callable
        Called with no arguments on the worker thread; it must not touch widgets.
    tag : object
        Handed back with the outcome so the receiver knows which request it was.
    """

    def __init__(self, function: Callable[[], Any], tag: object = None) -> None:
        super().__init__()
        self._function = function
        self._tag = tag
        self.signals = TaskSignals()

    def run(self) -> None:
        """Call the function and emit ``done``; never raise."""
        try:
            value = self._function()
        except Exception as error:  # a worker reports failures instead of dying
            self.signals.done.emit(self._tag, None, error)
        else:
            self.signals.done.emit(self._tag, value, None)
