"""A dismissible strip above the views that tells the person what went wrong."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget


class MessageBar(QFrame):
    """Shows one message at a time without blocking the window, unlike a dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setStyleSheet(
            "#messageBar { background: #fce8e6; border: 1px solid #d93025; border-radius: 4px; }"
            "#messageBar QLabel { color: #5f1410; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    @property
    def text(self) -> str:
        """The message shown, or an empty string when hidden."""
        return self.label.text() if not self.isHidden() else ""

    def show_message(self, text: str) -> None:
        """Show `text` until dismissed or replaced."""
        self.label.setText(text)
        self.show()
