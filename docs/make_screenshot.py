"""Refresh docs/screenshot.png: the window on the sample, a preset applied, a pixel explained.

Run with ``.venv/bin/python docs/make_screenshot.py`` (no screen needed).
"""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from kernelstudio.app import MainWindow
from kernelstudio.app.launch import configure_application

TARGET = Path(__file__).with_name("screenshot.png")
PRESET = "sobel-left"
PIXEL = (294, 327)  # on the saucer's rim, where the Sobel response is strong


def main() -> int:
    """Show the window offscreen, apply the preset, save the picture; return the status."""
    # Empty settings and state, so the picture never shows someone's last session.
    settings_folder = tempfile.TemporaryDirectory()
    os.environ["XDG_STATE_HOME"] = settings_folder.name
    os.environ["XDG_CONFIG_HOME"] = settings_folder.name
    app = QApplication(sys.argv[:1])
    configure_application(app)
    QSettings.setPath(
        QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_folder.name
    )
    window = MainWindow()
    window.resize(1440, 900)
    window.show()

    def capture(rendering) -> None:
        if rendering.recipe.display != "abs":
            return
        window.choose_pixel(*PIXEL)
        QTimer.singleShot(300, lambda: (window.grab().save(str(TARGET)), app.quit()))

    window.controller.renderingReady.connect(capture)
    QTimer.singleShot(200, lambda: window.choose_preset(PRESET))
    QTimer.singleShot(20_000, lambda: app.exit(1))
    status = app.exec()
    window.close()
    settings_folder.cleanup()
    print(f"wrote {TARGET}" if status == 0 else "timed out", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
