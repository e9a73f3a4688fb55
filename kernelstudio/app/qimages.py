"""Converting between NumPy pixel arrays and QImage (clipboard, drops)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def array_to_qimage(pixels8: np.ndarray) -> QImage:
    """Return a QImage holding its own copy of uint8 grey or RGB `pixels8`."""
    pixels = np.ascontiguousarray(pixels8, dtype=np.uint8)
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        image_format = QImage.Format.Format_Grayscale8
        row_bytes = width
    else:
        image_format = QImage.Format.Format_RGB888
        row_bytes = 3 * width
    # The QImage only borrows the buffer; copy() gives it memory of its own.
    return QImage(pixels.data, width, height, row_bytes, image_format).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """Return the pixels of `image` as an ``H×W×3`` uint8 RGB array (alpha dropped)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    height, width, row_bytes = rgb.height(), rgb.width(), rgb.bytesPerLine()
    buffer = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=row_bytes * height)
    return buffer.reshape(height, row_bytes)[:, : 3 * width].reshape(height, width, 3).copy()
