"""The pinned result beside the difference between it and the current one."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kernelstudio.compare import Comparison

_INVITATION = (
    "Pin a result (Edit ▸ Pin Result, Ctrl+P), then change the kernel: the difference "
    "shows what the change did (black: unchanged)."
)


class CompareView(QWidget):
    """Pinned result and ``|current − pinned|`` (stretched), with a summary line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(_INVITATION, self)
        self.summary.setObjectName("compareSummary")
        self.summary.setWordWrap(True)
        self.canvas = pg.GraphicsLayoutWidget(self)
        self.canvas.setBackground("#202124")
        self.items: dict[str, pg.ImageItem] = {}
        for column, (name, title) in enumerate(
            (("pinned", "Pinned"), ("difference", "Difference"))
        ):
            self.canvas.addLabel(title, row=0, col=column, color="#e8eaed", size="9pt")
            view = self.canvas.addViewBox(row=1, col=column, lockAspect=True, invertY=True)
            view.setMenuEnabled(False)
            item = pg.ImageItem(axisOrder="row-major")
            view.addItem(item)
            if self.items:
                first = self.canvas.getItem(1, 0)
                view.setXLink(first)
                view.setYLink(first)
            self.items[name] = item
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.canvas, 1)

    def show_comparison(self, pinned8: np.ndarray, comparison: Comparison | str) -> None:
        """Show the pinned result and its comparison (or why there is none)."""
        self.items["pinned"].setImage(pinned8, autoLevels=False)
        if isinstance(comparison, str):
            self.items["difference"].clear()
            self.summary.setText(comparison.capitalize() + ".")
            return
        self.items["difference"].setImage(comparison.difference8, autoLevels=False)
        if comparison.changed == 0:
            self.summary.setText("No value changed.")
        else:
            self.summary.setText(
                f"{comparison.changed:,} values changed ({comparison.fraction:.1%}); "
                f"the largest change is {comparison.largest:.4g}."
            )

    def clear(self) -> None:
        """Forget the comparison."""
        for item in self.items.values():
            item.clear()
        self.summary.setText(_INVITATION)
