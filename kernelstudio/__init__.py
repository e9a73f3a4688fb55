"""Kernel Studio: a playground for image convolution kernels."""

__version__ = "0.1.0"
