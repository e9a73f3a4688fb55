"""Starting the Qt application and showing the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from kernelstudio import __version__
from kernelstudio.app.main_window import MainWindow
from kernelstudio.samples import ICON_PATH

ORGANIZATION = "KernelStudio"
APPLICATION = "Kernel Studio"


def configure_application(app: QApplication) -> None:
    """Give `app` the names that decide where settings and presets are kept."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("kernelstudio")
    app.setWindowIcon(QIcon(str(ICON_PATH)))


def run_app(image_path: str | Path | None = None) -> int:
    """Open the main window on `image_path` (the sample when ``None``) until it closes.

    Returns
    -------
    int
        The application's exit status.
    """
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    window = MainWindow(image_path)
    window.show()
    return app.exec()
