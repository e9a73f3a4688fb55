"""A plot of how many result pixels have each 8-bit value."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

_PENS = {1: ("#e8eaed",), 3: ("#ff5f56", "#27c93f", "#4f8cf7")}


class HistogramView(pg.PlotWidget):
    """Histogram of the displayed result, one curve per channel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="#202124")
        self.setMinimumWidth(260)
        self.setLabel("bottom", "value (8-bit, as shown)")
        self.setLabel("left", "pixels")
        self.setXRange(0, 255, padding=0.01)
        self.counts: np.ndarray | None = None

    def show_counts(self, counts: np.ndarray) -> None:
        """Plot `counts`, a ``C×256`` array of pixel counts per channel."""
        self.counts = counts
        self.clear()
        edges = np.arange(257)
        for row, colour in zip(counts, _PENS.get(len(counts), _PENS[1]), strict=False):
            self.plot(edges, row, stepMode="center", pen=pg.mkPen(colour, width=1.5))
