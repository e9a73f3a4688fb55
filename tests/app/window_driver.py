"""Drive a real Kernel Studio window in a process of its own, for crash and restart tests.

``python -m tests.app.window_driver SCENARIO [IMAGE]`` opens the window offscreen
(with the crash reporter installed, as ``kernelstudio`` does), waits for its first
result, acts out SCENARIO and prints one JSON line per report on stdout:

- ``type``: type ``-1`` into the top-left cell, report once the result shows
  it, then keep running until killed.
- ``report``: report the state the window started in, then close normally.
- ``overflow``: type ``1e308`` into a cell, put it right, type ``2e38`` into
  two cells (whose sum float32 cannot hold), import a kernel file of
  ``[[1e308, 0, 1e308]]``, report, close.
- ``inject``: make the controller raise inside the undo command's
  ``redo()``, set a kernel, report, close.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from kernelstudio.app.diagnostics import CrashReporter, install_log_file
from kernelstudio.app.launch import configure_application
from kernelstudio.app.main_window import MainWindow


def report(window: MainWindow, **extra: object) -> None:
    image = window.controller.image
    state = {
        "weights": window.controller.stage.weights.tolist(),
        "grid": window.editor.weights.tolist(),
        "refused": {
            cell.objectName(): cell.toolTip()
            for cell in window.findChildren(QLineEdit)
            if cell.property("invalid")
        },
        "border": window.controller.recipe.border,
        "image": None if image is None else image.name,
        "image_path": None if image is None or image.path is None else str(image.path),
        "message": window.message_bar.text,
        **extra,
    }
    print(json.dumps(state), flush=True)


def type_into(window: MainWindow, row: int, column: int, text: str) -> None:
    cell = window.findChild(QLineEdit, f"cell_{row}_{column}")
    cell.setFocus()
    cell.selectAll()
    QTest.keyClicks(cell, text)


def act(window: MainWindow, scenario: str, app: QApplication) -> None:
    if scenario == "type":
        type_into(window, 0, 0, "-1")

        def shown(rendering) -> None:
            if rendering.recipe.stages[0].weights[0, 0] == -1:
                report(window)

        window.controller.renderingReady.connect(shown)
        return
    if scenario == "overflow":
        type_into(window, 0, 0, "1e308")
        report(window)
        type_into(window, 0, 0, "0")
        for row, column in ((2, 0), (2, 2)):
            type_into(window, row, column, "2e38")
        kernel_file = Path(tempfile.mkdtemp()) / "huge.json"
        kernel_file.write_text('{"weights": [[1e308, 0, 1e308]]}')
        window.import_kernel(kernel_file)
    elif scenario == "inject":

        def broken(*_args, **_kwargs):
            raise RuntimeError("injected failure")

        window.controller.update = broken
        window.set_kernel([[0, 0, 0], [0, 2, 0], [0, 0, 0]])
    if scenario != "report":
        app.processEvents()
    report(window)
    window.close()
    app.quit()


def main(scenario: str, image: str | None) -> int:
    app = QApplication(sys.argv[:1])
    configure_application(app)
    window = MainWindow(image)
    reporter = CrashReporter(install_log_file(), parent=window)
    reporter.crashed.connect(window.message_bar.show_message)
    reporter.install()
    window.show()

    def first(_rendering) -> None:
        window.controller.renderingReady.disconnect(first)
        QTimer.singleShot(0, lambda: act(window, scenario, app))

    window.controller.renderingReady.connect(first)
    QTimer.singleShot(60_000, lambda: app.exit(3))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
