"""The Qt face of Kernel Studio."""

from kernelstudio.app.main_window import MainWindow

__all__ = ["MainWindow"]
