"""Render resources/icon.svg into the icon files desktops want.

Writes ``packaging/icons/hicolor/<N>x<N>/apps/kernelstudio.png`` for the usual
sizes, ``kernelstudio.ico`` (Windows) and ``kernelstudio.icns`` (macOS). Run with
``.venv/bin/python packaging/make_icons.py`` after changing the SVG; the outputs
are committed so that building a bundle needs no extra step.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "resources" / "icon.svg"
ICONS = Path(__file__).resolve().parent / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """Draw the SVG into a transparent square image of `size` pixels."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    """Write every icon file; return 0."""
    QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    pngs = {}
    for size in SIZES:
        target = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "kernelstudio.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        render(renderer, size).save(str(target))
        pngs[size] = target
    largest = Image.open(pngs[max(SIZES)])
    largest.save(ICONS / "kernelstudio.ico", sizes=[(s, s) for s in SIZES if s <= 256])
    largest.save(ICONS / "kernelstudio.icns")
    print(f"wrote {len(SIZES)} PNGs, kernelstudio.ico and kernelstudio.icns into {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
