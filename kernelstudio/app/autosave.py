"""Writing the session to the state folder soon after every change, off the GUI thread.

After ``kill -9``, a power cut or a logout, the next start finds the session as it
was at most :data:`AUTOSAVE_DELAY_MS` (plus one write) before the end. Writes are
atomic, so the file on disk is always a whole old session or a whole new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from kernelstudio.app.session import (
    IMAGE_COPY_STEM,
    MAX_SESSION_BYTES,
    MAX_SESSION_DEPTH,
    SESSION_FILE_NAME,
    Session,
    session_from_document,
    session_to_json,
)
from kernelstudio.app.stored_state import StoredFileError, move_aside, read_json_document
from kernelstudio.app.tasks import Task
from kernelstudio.atomic import describe_os_error, write_atomically
from kernelstudio.imageio import save_image

log = logging.getLogger(__name__)

AUTOSAVE_DELAY_MS = 300
"""Changes are gathered for this long, then written in one go."""


@dataclass(frozen=True)
class Snapshot:
    """A session to write and, for a pasted or generated image, its pixels to keep."""

    session: Session
    pixels: np.ndarray | None = None


def image_copy_name(pixels: np.ndarray) -> str:
    """Name the file that keeps a copy of `pixels`: PNG, or TIFF for float pixels."""
    return f"{IMAGE_COPY_STEM}{'.tif' if pixels.dtype.kind == 'f' else '.png'}"


def load_session(folder: Path) -> tuple[Session | None, str | None]:
    """Read the session stored in `folder`.

    Returns
    -------
    tuple of (Session or None, str or None)
        The session (``None`` when there is none or it is unusable) and, when it
        was unusable, a sentence saying so; the bad file is moved aside.
    """
    path = folder / SESSION_FILE_NAME
    try:
        document = read_json_document(
            path, max_bytes=MAX_SESSION_BYTES, max_depth=MAX_SESSION_DEPTH
        )
        return session_from_document(document), None
    except FileNotFoundError:
        return None, None
    except StoredFileError as error:
        moved = move_aside(path)
        kept = f" (kept as {moved.name})" if moved is not None else ""
        log.warning("the stored session is unusable: %s", error)
        return None, f"The last session could not be restored: {error}{kept}."


class SessionKeeper(QObject):
    """Writes the session produced by `snapshot` soon after each :meth:`schedule`.

    Parameters
    ----------
    folder : pathlib.Path
        The state folder; created when first written.
    snapshot : callable
        Called on the GUI thread to describe the session now (must be cheap).

    Signals
    -------
    failed(str)
        The session could not be written; said once until a write succeeds again.
    """

    failed = Signal(str)

    def __init__(
        self, folder: Path, snapshot: Callable[[], Snapshot], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.folder = folder
        self._snapshot = snapshot
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self._timer.timeout.connect(self._write_soon)
        self._writing: Task | None = None
        self._waiting: Snapshot | None = None
        self._copied: np.ndarray | None = None
        self._failing = False

    def schedule(self) -> None:
        """Note a change: the session is written within :data:`AUTOSAVE_DELAY_MS`."""
        if not self._timer.isActive():
            self._timer.start()

    def write_now(self, *, closed_normally: bool = False) -> None:
        """Write the session at once on this thread (on closing), after pending writes."""
        self._timer.stop()
        self._waiting = None
        self._pool.waitForDone()
        snapshot = self._snapshot()
        session = replace(snapshot.session, closed_normally=closed_normally)
        try:
            self._write(replace(snapshot, session=session))
        except (OSError, ValueError) as error:
            log.warning("could not write the session on closing: %s", error)

    def _write_soon(self) -> None:
        snapshot = self._snapshot()
        if self._writing is not None:
            self._waiting = snapshot  # latest wins: one write runs, one waits
            return
        self._start(snapshot)

    def _start(self, snapshot: Snapshot) -> None:
        task = Task(lambda: self._write(snapshot))
        task.signals.done.connect(self._on_written)
        self._writing = task
        task.start_on(self._pool)

    def _on_written(self, _tag: object, _value: object, error: Exception | None) -> None:
        self._writing = None
        if error is not None:
            log.warning("could not write the session: %s", error)
            if not self._failing:
                self._failing = True
                reason = (
                    describe_os_error(error, saving=True)
                    if isinstance(error, OSError)
                    else str(error)
                )
                self.failed.emit(
                    f"Your session could not be saved to {self.folder} ({reason}); "
                    "it will not come back after a crash."
                )
        else:
            self._failing = False
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._start(waiting)

    def _write(self, snapshot: Snapshot) -> None:
        # Runs on the writer thread (or on closing, on the GUI thread with the pool idle).
        self.folder.mkdir(parents=True, exist_ok=True)
        pixels = snapshot.pixels
        if pixels is not None and pixels is not self._copied:
            save_image(self.folder / image_copy_name(pixels), pixels)
            self._copied = pixels
        text = session_to_json(snapshot.session)
        write_atomically(self.folder / SESSION_FILE_NAME, text.encode("utf-8"))
