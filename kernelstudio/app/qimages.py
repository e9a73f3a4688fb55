"""Converting between NumPy pixel arrays and QImage (clipboard, drops)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def array_to_qimage(pixels8: np.ndarray) -> QImage:
    """Return a QImage holding its own copy of uint8 grey, RGB or RGBA `pixels8`."""
    pixels = np.ascontiguousarray(pixels8, dtype=np.uint8)
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        image_format = QImage.Format.Format_Grayscale8
        row_bytes = width
    elif pixels.shape[2] == 4:
        image_format = QImage.Format.Format_RGBA8888
        row_bytes = 4 * width
    else:
        image_format = QImage.Format.Format_RGB888
        row_bytes = 3 * width
    # The QImage only borrows the buffer; copy() gives it memory of its own.
    return QImage(pixels.data, width, height, row_bytes, image_format).copy()


def qimage_to_array(image: QImage) -> np.ndarray:
    """Return the pixels of `image` as uint8 RGB, or RGBA when it has alpha (``H×W×C``)."""
    channels = 4 if image.hasAlphaChannel() else 3
    wanted = QImage.Format.Format_RGBA8888 if channels == 4 else QImage.Format.Format_RGB888
    converted = image.convertToFormat(wanted)
    height, width, row_bytes = converted.height(), converted.width(), converted.bytesPerLine()
    buffer = np.frombuffer(converted.constBits(), dtype=np.uint8, count=row_bytes * height)
    rows = buffer.reshape(height, row_bytes)[:, : channels * width]
    return rows.reshape(height, width, channels).copy()
