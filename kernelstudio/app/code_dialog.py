"""Copy as Code: the recipe as a program for another tool, shown before it is copied or saved."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kernelstudio.atomic import describe_os_error, write_atomically
from kernelstudio.code_export import (
    PYTHON_SCRIPT_TARGETS,
    TARGET_NAMES,
    CodeExportError,
    export_code,
)
from kernelstudio.pipeline import Recipe

SaveChooser = Callable[[str], "Path | None"]
"""``chooser(kind) -> path``: asks where to save a ``"script"`` or a ``"command"``;
``None`` is cancel."""

_TARGET_TIPS = {
    "numpy": "A Python script on NumPy alone: the sliding window, written vectorised",
    "scipy": "A Python script on scipy.ndimage",
    "opencv": "A Python script on OpenCV's filter2D",
    "dask": "A Python script on dask-image, for folders of photos or gigapixel scans",
    "imagemagick": "An ImageMagick command line",
    "vips": "A libvips command line",
    "gmic": "A G'MIC command line",
}


class CodeDialog(QDialog):
    """Shows the program that reproduces a recipe in the chosen target, to copy or save.

    Parameters
    ----------
    recipe : Recipe
        What the program must reproduce; the dialog never changes it.
    target : str
        The target shown first, one of :data:`kernelstudio.code_export.TARGETS`.
    source, destination : str
        The files the program reads and writes; the person may change them.
    ask_save : SaveChooser
        Asks where to save the program.
    parent : QWidget, optional

    Signals
    -------
    told(str)
        A line for the status bar: copied, saved, or why saving failed.
    """

    told = Signal(str)

    def __init__(
        self,
        recipe: Recipe,
        target: str,
        *,
        source: str,
        destination: str,
        ask_save: SaveChooser,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("codeDialog")
        self.setWindowTitle("Copy as Code")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._recipe = recipe
        self._ask_save = ask_save
        self._program = ""

        self.target_combo = QComboBox(self)
        self.target_combo.setObjectName("codeTargetCombo")
        self.target_combo.setAccessibleName("Program to write the recipe for")
        for slug, name in TARGET_NAMES.items():
            self.target_combo.addItem(name, slug)
            self.target_combo.setItemData(
                self.target_combo.count() - 1, _TARGET_TIPS[slug], Qt.ItemDataRole.ToolTipRole
            )
        self.target_combo.setCurrentIndex(max(self.target_combo.findData(target), 0))
        self.source_edit = self._path_edit("codeInputEdit", source, "Image the program reads")
        self.destination_edit = self._path_edit(
            "codeOutputEdit", destination, "Image the program writes"
        )
        self.code_view = QPlainTextEdit(self)
        self.code_view.setObjectName("codeView")
        self.code_view.setAccessibleName("The program")
        self.code_view.setReadOnly(True)
        self.code_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.problem_label = QLabel(self)
        self.problem_label.setObjectName("codeProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("&Copy", self)
        self.copy_button.setObjectName("copyCodeButton")
        self.copy_button.setAccessibleName("Copy the program to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("&Save…", self)
        self.save_button.setObjectName("saveCodeButton")
        self.save_button.setAccessibleName("Save the program as a file")
        self.save_button.clicked.connect(self.choose_save)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Write for:", self.target_combo)
        form.addRow("Reads:", self.source_edit)
        form.addRow("Writes:", self.destination_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.code_view, 1)
        layout.addWidget(buttons)
        self.target_combo.currentIndexChanged.connect(self.refresh)
        self.refresh()

    def _path_edit(self, name: str, text: str, accessible: str) -> QLineEdit:
        edit = QLineEdit(text, self)
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setToolTip(f"{accessible}, as the program names it")
        edit.textChanged.connect(self.refresh)
        return edit

    @property
    def target(self) -> str:
        """The target shown."""
        return str(self.target_combo.currentData())

    @property
    def program(self) -> str:
        """The program shown; ``""`` when the target refuses the recipe."""
        return self._program

    def refresh(self) -> None:
        """Write the program again for the target and files shown."""
        try:
            program = export_code(
                self._recipe,
                self.target,
                source=self.source_edit.text() or "input.png",
                destination=self.destination_edit.text() or "output.png",
            )
        except CodeExportError as error:
            program = ""
            self.problem_label.setText(f"{TARGET_NAMES[self.target]} cannot do this: {error}")
        self.problem_label.setVisible(not program)
        self._program = program
        self.code_view.setPlainText(program)
        self.copy_button.setEnabled(bool(program))
        self.save_button.setEnabled(bool(program))

    def copy(self) -> None:
        """Put the program on the clipboard."""
        if self._program:
            QGuiApplication.clipboard().setText(self._program)
            self.told.emit(f"{TARGET_NAMES[self.target]} code copied to the clipboard")

    def choose_save(self) -> None:
        """Ask where to save the program, then save it."""
        kind = "script" if self.target in PYTHON_SCRIPT_TARGETS else "command"
        path = self._ask_save(kind)
        if path is not None:
            self.save(path)

    def save(self, path: str | os.PathLike[str]) -> bool:
        """Write the program to `path` atomically, runnable by its owner; return whether it was.

        A failure is told (``told``) and leaves any existing file as it was.
        """
        target = Path(path)
        if not self._program:
            return False
        try:
            write_atomically(target, self._program.encode("utf-8"))
            mode = target.stat().st_mode
            target.chmod(mode | stat.S_IXUSR)
        except OSError as error:
            reason = describe_os_error(error, saving=True)
            self.told.emit(f"Could not save '{target.name}': {reason}")
            return False
        self.told.emit(f"Saved {target.name}")
        return True
