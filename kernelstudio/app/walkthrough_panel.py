"""Step-by-step replay of the tutorial: a sentence per step and Back / Next."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kernelstudio.walkthrough import STEPS, WalkthroughStep


class WalkthroughPanel(QWidget):
    """Shows one walkthrough step and asks for the previous or next one.

    Signals
    -------
    stepRequested(int)
        The index of the step the person wants to see.
    """

    stepRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = 0
        self.title = QLabel(self)
        self.title.setObjectName("walkthroughTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.sentence = QLabel(self)
        self.sentence.setObjectName("walkthroughSentence")
        self.sentence.setWordWrap(True)
        self.back_button = QPushButton("◀ Back", self)
        self.back_button.setObjectName("walkthroughBack")
        self.next_button = QPushButton("Next ▶", self)
        self.next_button.setObjectName("walkthroughNext")
        self.counter = QLabel(self)
        self.back_button.clicked.connect(lambda: self.stepRequested.emit(self.index - 1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(self.index + 1))
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.counter)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.sentence, 1)
        layout.addLayout(buttons)

    def show_step(self, index: int, step: WalkthroughStep) -> None:
        """Show step number `index`."""
        self.index = index
        self.title.setText(step.title)
        self.sentence.setText(step.sentence)
        self.counter.setText(f"{index + 1} / {len(STEPS)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(STEPS) - 1)
