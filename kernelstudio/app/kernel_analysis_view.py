"""What the current kernel does: brightness, separability, frequency response."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kernelstudio.analysis import KernelAnalysis
from kernelstudio.kernels import format_weight

_HEAT_MAP = pg.colormap.get("viridis")


class KernelAnalysisView(QWidget):
    """Sum, separability with its two 1-D factors, and a heat map of |DFT|."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brightness = QLabel(self)
        self.brightness.setObjectName("analysisBrightness")
        self.brightness.setWordWrap(True)
        self.brightness.setAccessibleName("What flat areas become")
        self.brightness.setToolTip(
            "A flat area of value v becomes v × sum ÷ divisor + offset; the display mode "
            "decides how that is shown."
        )
        self.separability = QLabel(self)
        self.separability.setObjectName("analysisSeparable")
        self.separability.setWordWrap(True)
        self.behaviour = QLabel(self)
        self.behaviour.setObjectName("analysisBehaviour")
        self.behaviour.setWordWrap(True)
        self.canvas = pg.GraphicsLayoutWidget(self)
        self.canvas.setFixedHeight(140)
        self.canvas.setBackground("#202124")
        self.canvas.setToolTip(
            "Magnitude of the kernel's 2-D Fourier transform: the centre is flat areas "
            "(zero frequency), the edges the finest detail. Bright = passed, dark = removed."
        )
        view = self.canvas.addViewBox(lockAspect=True, enableMouse=False, enableMenu=False)
        self.response = pg.ImageItem(axisOrder="row-major")
        self.response.setColorMap(_HEAT_MAP)
        view.addItem(self.response)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.brightness)
        layout.addWidget(self.separability)
        layout.addWidget(QLabel("Frequency response:", self))
        layout.addWidget(self.canvas)
        layout.addWidget(self.behaviour)

    def show_analysis(self, analysis: KernelAnalysis) -> None:
        """Show `analysis`, made with the stage's divisor and offset and the recipe's display."""
        # The core writes the sentence: it knows the divisor, offset and display mapping.
        self.brightness.setText(analysis.brightness)
        if analysis.rank == 0:
            self.separability.setText("All weights are zero.")
        elif analysis.factors is None:
            self.separability.setText(
                f"Not separable (rank {analysis.rank}): it is no single column × row."
            )
        else:
            column, row = analysis.factors
            self.separability.setText(
                "Separable: column ["
                + " ".join(format_weight(v) for v in column)
                + "] × row ["
                + " ".join(format_weight(v) for v in row)
                + "], two cheap 1-D passes."
            )
        peak = float(analysis.response.max())
        self.response.setImage(analysis.response, autoLevels=False, levels=(0, max(peak, 1e-12)))
        self.behaviour.setText(analysis.behaviour)
