"""Refresh the screenshots in docs/screenshots/: seven scenes at 1280×800 and 1920×1080.

- ``kernel-7x7``: the 7×7 motion blur in the recipe panel;
- ``pixel``: the Sobel kernel, one pixel's arithmetic in the Pixel tab;
- ``recipe``: a two-stage recipe (blur, then emboss + 128) in the split view;
- ``rgba``: an image with transparency over the checkerboard, colour weighted by alpha;
- ``generator``: a motion blur made from parameters, with its sliders;
- ``code``: Edit ▸ Copy as Code on a two-stage recipe, as a NumPy script;
- ``preview``: a 24 MP photograph just after an edit: the pixels on screen are
  shown, the whole result is on its way (held back until the picture is taken).

Run with ``.venv/bin/python docs/make_screenshot.py [SCENE …]`` (every scene
when none is named; no screen needed: the window is drawn offscreen, as it is
under Xvfb, with fresh settings).
"""

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QWidget

from kernelstudio.app import MainWindow
from kernelstudio.app import controller as controller_module
from kernelstudio.app.launch import configure_application
from kernelstudio.imageio import load_image
from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.samples import sample_image_path

FOLDER = Path(__file__).with_name("screenshots")
SIZES = ((1280, 800), (1920, 1080))
PIXEL = (294, 327)  # on the saucer's rim, where the Sobel response is strong


def wait_for(app: QApplication, done: Callable[[], bool], seconds: float = 20) -> None:
    """Run the event loop until `done()` (a script may spin; the app never does)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def idle(window: MainWindow) -> Callable[[], bool]:
    """Return a test of whether the window has a result, no work left, and has drawn it.

    The grid repaints at the event loop's turn after a result (it waits for it).
    """
    controller = window.controller
    grid = window.editor.grid
    return lambda: (
        controller.is_idle and controller.rendering is not None and grid.updatesEnabled()
    )


def with_alpha() -> np.ndarray:
    """Return the sample photograph with a soft round hole and a transparent border."""
    pixels = load_image(sample_image_path())
    height, width = pixels.shape[:2]
    rows, columns = np.mgrid[0:height, 0:width]
    distance = np.hypot((rows - height / 2) / height, (columns - width / 2) / width)
    alpha = np.clip((0.48 - distance) * 900, 0, 255)
    alpha[np.hypot(rows - height * 0.3, columns - width * 0.75) < height * 0.12] = 0
    return np.dstack([pixels, alpha.astype(np.uint8)])


def scene_kernel(window: MainWindow) -> None:
    """Show the 7×7 motion blur in the recipe panel."""
    window.choose_preset("motion-blur-7x7")
    window.show_side_tab("recipe")


def scene_pixel(window: MainWindow) -> None:
    """Explain one pixel of the Sobel result."""
    window.choose_preset("sobel-left")
    window.choose_pixel(*PIXEL)


def scene_recipe(window: MainWindow) -> None:
    """Show a two-stage recipe in the split view."""
    recipe = Recipe(
        (
            Stage(PRESETS["gaussian-blur-5x5"], name="soften"),
            Stage(PRESETS["emboss"], offset=128, name="emboss + 128"),
        ),
        display="clip",
    )
    window.apply_recipe(recipe, "Two stages")
    window.controller.select(1)
    window.set_view_mode("split")


def scene_rgba(window: MainWindow) -> None:
    """Show an image with transparency, blurred with colour weighted by alpha."""
    window.controller.load_pixels(with_alpha(), "coffee with a hole.png")
    window.apply_recipe(
        Recipe.single(PRESETS["gaussian-blur-5x5"], alpha="weighted"), "Blur, weighted by alpha"
    )


def scene_generator(window: MainWindow) -> None:
    """Make a motion blur from parameters: choose it, then set its length and angle."""
    window.show_side_tab("recipe")
    panel = window.generator_panel
    panel.combo.setCurrentIndex(panel.combo.findData("motion-blur"))
    for name, value in (("length", 7.0), ("angle", 30.0)):
        panel.findChild(QDoubleSpinBox, f"spin_{name}").setValue(value)


def scene_code(window: MainWindow) -> QWidget:
    """Show a two-stage recipe as a NumPy script in the Copy as Code dialog."""
    scene_recipe(window)
    return window.show_code("numpy")


class Held:
    """The whole result of the latest edit, held back on its worker until released."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.real = controller_module._render
        controller_module._render = self._render

    def _render(self, *arguments):
        self.gate.wait(60)
        return self.real(*arguments)

    def release(self) -> None:
        """Let the whole result be computed, and later edits compute theirs."""
        controller_module._render = self.real
        self.gate.set()


def scene_preview(window: MainWindow) -> Held:
    """Sharpen a 24 MP photograph: its preview is shown, its whole result held back."""
    app = QApplication.instance()
    sample = load_image(sample_image_path())
    scale = (24e6 / (sample.shape[0] * sample.shape[1])) ** 0.5
    size = (round(sample.shape[1] * scale), round(sample.shape[0] * scale))
    window.controller.load_pixels(
        cv2.resize(sample, size, interpolation=cv2.INTER_CUBIC), "coffee, 24 MP.png"
    )
    wait_for(app, lambda: window.controller.image.name == "coffee, 24 MP.png", 60)
    wait_for(app, idle(window), 60)
    window.fit_side_column()
    window.views.fit()
    wait_for(app, idle(window), 60)
    held = Held()
    window.choose_preset("sharpen")
    wait_for(app, lambda: not window.controller.preview_pending)
    for _ in range(5):
        app.processEvents()
    return held


SCENES: dict[str, Callable[[MainWindow], QWidget | Held | None]] = {
    "kernel-7x7": scene_kernel,
    "pixel": scene_pixel,
    "recipe": scene_recipe,
    "rgba": scene_rgba,
    "generator": scene_generator,
    "code": scene_code,
    "preview": scene_preview,
}


def shoot(app: QApplication, name: str, size: tuple[int, int]) -> Path:
    """Draw scene `name` in a new window of `size` with fresh settings; return the file."""
    with tempfile.TemporaryDirectory() as settings_folder:
        for variable in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = settings_folder
        QSettings.setPath(
            QSettings.Format.NativeFormat, QSettings.Scope.UserScope, settings_folder
        )
        window = MainWindow()
        window.resize(*size)
        window.show()
        wait_for(app, idle(window))
        dialog = SCENES[name](window)
        if isinstance(dialog, Held):
            target = FOLDER / f"{name}-{size[0]}x{size[1]}.png"
            window.grab().save(str(target))
            dialog.release()
            wait_for(app, idle(window), 60)
            window.close()
            window.deleteLater()
            app.processEvents()
            return target
        wait_for(app, idle(window))
        window.fit_side_column()
        window.views.fit()
        wait_for(app, idle(window))
        target = FOLDER / f"{name}-{size[0]}x{size[1]}.png"
        picture = window.grab()
        if dialog is not None:  # a window of its own: drawn over the main one, centred
            painter = QPainter(picture)
            corner = (picture.size() - dialog.size()) / 2
            painter.drawPixmap(corner.width(), corner.height(), dialog.grab())
            painter.end()
            dialog.close()
        picture.save(str(target))
        window.close()
        window.deleteLater()
        app.processEvents()
    return target


def main(names: list[str]) -> int:
    """Write the scenes `names` (every scene when empty) at every size; return the exit status."""
    unknown = [name for name in names if name not in SCENES]
    if unknown:
        print(f"no scene {unknown[0]!r}; the scenes are {', '.join(SCENES)}", file=sys.stderr)
        return 2
    app = QApplication(sys.argv[:1])
    configure_application(app)
    FOLDER.mkdir(exist_ok=True)
    for name in names or SCENES:
        for size in SIZES:
            print(f"wrote {shoot(app, name, size)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
