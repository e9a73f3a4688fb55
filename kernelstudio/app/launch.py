"""Starting the Qt application and showing the main window."""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kernelstudio import __version__
from kernelstudio.app.diagnostics import CrashReporter, install_log_file, qt_virtual
from kernelstudio.app.main_window import MainWindow
from kernelstudio.app.single_instance import InstanceServer, send_to_running_instance
from kernelstudio.samples import ICON_PATH

ORGANIZATION = "KernelStudio"
APPLICATION = "Kernel Studio"
SMOKE_TIMEOUT_MS = 60_000


def configure_application(app: QApplication) -> None:
    """Give `app` the names that decide where settings and presets are kept."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("kernelstudio")
    app.setWindowIcon(QIcon(str(ICON_PATH)))


def freeze_startup_objects() -> None:
    """Collect garbage, then keep every object alive now out of later collections.

    The modules, widgets and plots made at start-up live as long as the window.
    Without this, each full pass of Python's cyclic garbage collector walks all
    of them and holds the GUI thread for 30–40 ms (measured while typing with a
    24 MP image open). Objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()


def freeze_after_first_result(window: MainWindow) -> None:
    """Call :func:`freeze_startup_objects` once `window` has shown its first result.

    The collection takes about 25 ms; done then, it no longer delays the first
    paint, and it is over before anyone starts typing.
    """

    def first_result(_rendering) -> None:
        window.controller.renderingReady.disconnect(first_result)
        QTimer.singleShot(0, freeze_startup_objects)

    window.controller.renderingReady.connect(first_result)


def run_app(image_path: str | Path | None = None, *, quit_after_first_result: bool = False) -> int:
    """Open the main window on `image_path` (the sample when ``None``) until it closes.

    Parameters
    ----------
    image_path : str or pathlib.Path, optional
        Image to open. When another Kernel Studio of this user is running, the
        path is handed to it and this call returns 0 at once.
    quit_after_first_result : bool
        Print ``first result painted after N ms`` and quit with status 0 once
        the first result is on screen (status 1 after a minute without one).
        Used by the packaging smoke test and the start-up measurement.

    Returns
    -------
    int
        The application's exit status.
    """
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    handed_over = (
        image_path is not None
        and not quit_after_first_result
        and send_to_running_instance(str(Path(image_path).resolve()))
    )
    if handed_over:
        return 0
    log_file = install_log_file()
    window = MainWindow(image_path)
    crash_reporter = CrashReporter(log_file, parent=window)
    crash_reporter.crashed.connect(window.message_bar.show_message)
    crash_reporter.install()
    server = InstanceServer(parent=window)
    server.openRequested.connect(window.open_from_elsewhere)
    file_opener = FileOpenFilter(window)
    app.installEventFilter(file_opener)
    freeze_after_first_result(window)
    window.show()
    if quit_after_first_result:
        _quit_after_first_result(app, window, started)
    return app.exec()


class FileOpenFilter(QObject):
    """Opens files that macOS's Finder sends as ``QFileOpenEvent`` in `window`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Route file-open events to the window; let everything else through."""
        if event.type() == QEvent.Type.FileOpen and event.file():
            self._window.open_from_elsewhere(event.file())
            return True
        return super().eventFilter(watched, event)


def _quit_after_first_result(app: QApplication, window: MainWindow, started: float) -> None:
    def painted(_rendering) -> None:
        window.views.repaint()
        elapsed_ms = (time.perf_counter() - started) * 1000
        print(f"first result painted after {elapsed_ms:.0f} ms", flush=True)
        window.close()
        app.exit(0)

    window.controller.renderingReady.connect(painted)
    QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: app.exit(1))
