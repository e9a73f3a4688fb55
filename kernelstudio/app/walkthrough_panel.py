"""Step-by-step replay of the tutorial: a sentence per step, Back / Next and Finish."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.walkthrough import STEPS, WalkthroughStep

log = logging.getLogger(__name__)


class WalkthroughPanel(QWidget):
    """Shows one walkthrough step and asks for another step or for the end.

    Esc while the panel (or one of its buttons) has the focus asks for the end,
    as Finish does.

    Signals
    -------
    stepRequested(int)
        The index of the step the person wants to see.
    finishRequested()
        The person is done with the tutorial (Finish, or Esc).
    """

    stepRequested = Signal(int)
    finishRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("walkthroughPanel")
        self._index = 0
        self.title = QLabel(self)
        self.title.setObjectName("walkthroughTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.sentence = QLabel(self)
        self.sentence.setObjectName("walkthroughSentence")
        self.sentence.setWordWrap(True)
        self.sentence.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Wrapped text needs its height for the width it gets, at least.
        self.sentence.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.counter = QLabel(self)
        self.counter.setObjectName("walkthroughCounter")
        self.back_button = self._button(
            "◀ Back", "walkthroughBack", "Previous tutorial step", "Show the previous step"
        )
        self.next_button = self._button(
            "Next ▶", "walkthroughNext", "Next tutorial step", "Show the next step"
        )
        self.finish_button = self._button(
            "Finish",
            "walkthroughFinish",
            "Finish the tutorial",
            "End the tutorial and bring back your image, kernel and options (Esc)",
        )
        self.back_button.clicked.connect(lambda: self.stepRequested.emit(self._index - 1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(self._index + 1))
        self.finish_button.clicked.connect(self.finishRequested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.counter)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        buttons.addWidget(self.finish_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.sentence, 1)
        layout.addLayout(buttons)
        self.show_step(0, STEPS[0])

    def _button(self, text: str, name: str, accessible: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setToolTip(tip)
        return button

    @property
    def index(self) -> int:
        """The index of the step shown."""
        return self._index

    def show_step(self, index: int, step: WalkthroughStep) -> None:
        """Show `step`, number `index` of :data:`~kernelstudio.walkthrough.STEPS`.

        An index outside the steps, or a `step` that is not one, is logged and
        changes nothing.
        """
        if type(index) is not int or not 0 <= index < len(STEPS):
            log.warning("there is no walkthrough step %r", index)
            return
        if not isinstance(step, WalkthroughStep):
            log.warning("%s is not a walkthrough step", type(step).__name__)
            return
        self._index = index
        last = index == len(STEPS) - 1
        self.title.setText(step.title)
        self.sentence.setText(step.sentence)
        self.counter.setText(f"{index + 1} / {len(STEPS)}")
        self.counter.setAccessibleName(f"Step {index + 1} of {len(STEPS)}")
        self.back_button.setEnabled(index > 0)
        if last and self.next_button.hasFocus():
            self.finish_button.setFocus()  # Next is about to be disabled under the focus
        self.next_button.setEnabled(not last)
        self.next_button.setDefault(not last)
        self.finish_button.setDefault(last)

    def focus_default_button(self) -> None:
        """Give the keyboard focus to Next, or to Finish on the last step."""
        default = self.finish_button if self.finish_button.isDefault() else self.next_button
        default.setFocus(Qt.FocusReason.OtherFocusReason)

    @qt_virtual(default=False)
    def event(self, event: QEvent) -> bool:
        """Claim Esc before any shortcut of the window does, while the focus is here."""
        if event.type() == QEvent.Type.ShortcutOverride and _is_escape(event):
            event.accept()
            return True
        return super().event(event)

    @qt_virtual()
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc asks for the end of the tutorial."""
        if _is_escape(event):
            event.accept()
            self.finishRequested.emit()
            return
        super().keyPressEvent(event)


def _is_escape(event: QKeyEvent) -> bool:
    return event.key() == Qt.Key.Key_Escape and event.modifiers() == Qt.KeyboardModifier.NoModifier
