"""Running a function on a worker thread and hearing about it on the GUI thread."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from kernelstudio.app import memory


class TaskSignals(QObject):
    """Signals of a :class:`Task`, created on the GUI thread.

    ``done`` carries the task's tag, its return value (or ``None``) and the
    exception it raised (or ``None``). Receivers on the GUI thread get it queued
    there, so they may touch widgets.
    """

    done = Signal(object, object, object)


class Task(QRunnable):
    """One call of `function` on a thread pool, reported through ``signals.done``.

    Once it has reported, the task holds neither the function (nor what its
    closure holds: images, results, encoded files) nor the tag nor the outcome.
    A receiver may keep the task itself; it then keeps no arrays. Start it with
    :meth:`start_on`, not ``pool.start(task)``.

    A reported exception keeps its traceback (for the log) but not the
    variables of its frames: a failed export's frames would otherwise keep
    the montage and the encoded file for as long as anything keeps the
    exception (a log record, a message).

    After reporting it lets glibc give freed memory back
    (:func:`kernelstudio.app.memory.after_job`).

    Parameters
    ----------
    function : callable
        Called with no arguments on the worker thread; it must not touch widgets.
    tag : object
        Handed back with the outcome so the receiver knows which request it was.
    """

    def __init__(self, function: Callable[[], Any], tag: object = None) -> None:
        super().__init__()
        self._function: Callable[[], Any] | None = function
        self._tag = tag
        self.signals = TaskSignals()

    def start_on(self, pool: QThreadPool) -> None:
        """Run on `pool`, which keeps nothing of the task once it has run.

        The pool gets the task's ``run`` as a callable. Handed the runnable
        itself, PySide makes it the pool's child after ``QThreadPool.start``
        returns; a quick job has run and been deleted by then, and the pool
        kept its wrapper and signals object for good (one render in five).
        """
        pool.start(self.run)

    def run(self) -> None:
        """Call the function and emit ``done``; never raise."""
        function, self._function = self._function, None
        tag, self._tag = self._tag, None
        signals = self.signals
        # The frames of a failure link back to this one (f_back), and a finished
        # frame keeps its variables: this one must not keep the task.
        del self
        if function is None:  # run twice: nothing left to call
            return
        value, failure = _call(function)
        del function
        if failure is not None:
            _drop_frames(failure)
        signals.done.emit(tag, value, failure)
        del signals, tag, value, failure
        memory.after_job()  # the job's temporaries are free now: give big runs of them back


def _call(function: Callable[[], Any]) -> tuple[Any, Exception | None]:
    """Return ``(function(), None)``, or ``(None, error)`` when it raised `error`."""
    try:
        return function(), None
    except Exception as error:  # a worker reports failures instead of dying
        return None, error


def _drop_frames(error: BaseException) -> None:
    """Clear the local variables of the frames in `error`'s tracebacks and its causes'.

    The tracebacks still format (file, line, function); only the locals go.
    Frames still executing (the caller's) are left as they are.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        pending.extend((current.__cause__, current.__context__))
        grouped = getattr(current, "exceptions", None)  # an ExceptionGroup's members
        if isinstance(grouped, tuple):
            pending.extend(error for error in grouped if isinstance(error, BaseException))
