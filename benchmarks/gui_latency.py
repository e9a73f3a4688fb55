"""Edit-to-result latency of the window, and the longest GUI-thread stall.

Run with ``.venv/bin/python -m benchmarks.gui_latency [--edits N] [--megapixels …]
[--sliders-only]``. The window runs offscreen, with its settings and session in a
temporary folder. For each image (the sample, then synthetic 12 and 24 megapixel
photographs made by enlarging it, 1, 12, 24 and 100 MP by default) the script
starts from the 3×3 Gaussian blur and types a new weight into the centre cell,
as a person would (a dense, non-separable 3×3 kernel: the common worst case),
in a 1280×800 window showing the whole image, and measures:

- edit → ``previewReady``: the pixels on screen are exact and repainted (on a
  large image a preview of them comes first, see ``Controller.previewReady``);
- edit → ``resultReady``: the whole float result is back on the GUI thread;
- edit → painted: the 8-bit views are updated and the result view has repainted;
- the longest gap between ticks of a 1 ms GUI-thread timer while the jobs run,
  which is how long the window could not react to input.

Then, on the 1 MP image, it drags each generator's slider in the "From
parameters" panel as a person would (one step every 16 ms, a 60 Hz pointer)
across a range that keeps the kernel at most 15×15, and measures, for every
step, slider moved → result view repainted with that step's kernel, and how
many of the steps were computed at all (latest wins: steps that arrive while
a job runs are superseded, never queued). For the single steps it also gives the
GUI thread's share: how long the panels took to show the new state before the
job could start (``Controller.update``, timed on the instance), and the CPU time
the GUI thread spent on the step until everything, the grid included, was
shown. Both depend much less on what else the machine runs than the latencies.

Waiting sleeps in the event loop as the window does; a loop spinning on
``processEvents`` would take a core and the GIL from the job it waits for.

Medians over the edits are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2
import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit

from kernelstudio.app import MainWindow
from kernelstudio.app.launch import configure_application, freeze_after_first_result
from kernelstudio.samples import sample_image_path


class StallMeter:
    """Records the longest gap between ticks of a 1 ms timer on the GUI thread."""

    def __init__(self) -> None:
        self._clock = QElapsedTimer()
        self._timer = QTimer(interval=1)
        self._timer.timeout.connect(self._tick)
        self.longest_ms = 0.0
        self._last = 0

    def start(self) -> None:
        self.longest_ms = 0.0
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.longest_ms

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.longest_ms = max(self.longest_ms, float(now - self._last))
        self._last = now


WAKE_MS = 20  # how often a wait looks at the clock when no event comes


def wait_until(app: QApplication, condition, timeout_s: float = 120.0) -> None:
    """Run the event loop until `condition()` holds, asleep while no event comes."""
    deadline = time.perf_counter() + timeout_s
    waker = QTimer(interval=WAKE_MS)
    waker.start()
    try:
        while not condition():
            if time.perf_counter() > deadline:
                raise TimeoutError("the window did not answer in time")
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    finally:
        waker.stop()


def wait_for_moment(app: QApplication, moment: float) -> None:
    """Run the event loop until ``time.perf_counter()`` reaches `moment`."""
    alarm = QTimer(singleShot=True, timerType=Qt.TimerType.PreciseTimer)
    alarm.start(max(0, round((moment - time.perf_counter()) * 1000)))
    wait_until(app, lambda: time.perf_counter() >= moment or not alarm.isActive())


def enlarged_sample(folder: Path, megapixels: float) -> Path:
    image = cv2.imread(str(sample_image_path()))
    scale = (megapixels * 1e6 / (image.shape[0] * image.shape[1])) ** 0.5
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    # BMP: quick to write and read at any size (a 100 MP PNG takes a minute).
    path = folder / f"sample-{megapixels:g}mp.bmp"
    cv2.imwrite(str(path), cv2.resize(image, size, interpolation=cv2.INTER_CUBIC))
    return path


def measure(app: QApplication, window: MainWindow, edits: int) -> dict[str, float]:
    # From the 3×3 Gaussian each time: the last edit on one image may have typed
    # the very weight the first edit on the next would type, which changes nothing.
    window.choose_preset("gaussian-blur")
    wait_until(app, lambda: window.controller.is_idle)
    cell = window.findChild(QLineEdit, "cell_1_1")
    result_canvas = window.views.views["result"].getViewWidget()
    to_preview, to_result, to_paint, previewed = [], [], [], []
    stalls = StallMeter()
    stalls.start()
    for edit in range(edits):
        cell.setFocus()
        cell.selectAll()
        shown: list[float] = []
        arrived: list[float] = []
        painted: list[float] = []

        def on_preview(preview, shown=shown) -> None:
            if not preview.whole:
                result_canvas.viewport().repaint()
            shown.append(time.perf_counter())
            previewed.append(not preview.whole)

        def on_result(_result, arrived=arrived) -> None:
            arrived.append(time.perf_counter())

        def on_rendering(_rendering, painted=painted) -> None:
            result_canvas.viewport().repaint()
            painted.append(time.perf_counter())

        window.controller.previewReady.connect(on_preview)
        window.controller.resultReady.connect(on_result)
        window.controller.renderingReady.connect(on_rendering)
        started = time.perf_counter()
        QTest.keyClicks(cell, str(2 + edit % 7))
        wait_until(app, lambda painted=painted: painted and window.controller.is_idle)
        window.controller.previewReady.disconnect(on_preview)
        window.controller.resultReady.disconnect(on_result)
        window.controller.renderingReady.disconnect(on_rendering)
        to_preview.append(shown[0] - started)
        to_result.append(arrived[-1] - started)
        to_paint.append(painted[-1] - started)
    return {
        "edit_to_preview_ms": 1000 * statistics.median(to_preview),
        "edit_to_result_ms": 1000 * statistics.median(to_result),
        "edit_to_paint_ms": 1000 * statistics.median(to_paint),
        "longest_stall_ms": stalls.stop(),
        "previewed": sum(previewed),
    }


# (generator, parameters held, slider dragged, from, to): every kernel at most 15×15.
DRAGS = (
    ("gaussian", {}, "sigma", 1.0, 2.3),
    ("disk", {}, "radius", 2.0, 7.0),
    ("motion-blur", {"length": 15.0}, "angle", 0.0, 90.0),
    ("log", {}, "sigma", 1.0, 2.3),
    ("gabor", {"sigma": 2.3, "wavelength": 6.0}, "theta", 0.0, 90.0),
    ("unsharp-mask", {"amount": 1.5}, "sigma", 1.0, 2.3),
)
STEP_MS = 16


def drag(app: QApplication, window: MainWindow, slug: str, held: dict, name: str, low, high):
    """Drag one parameter from `low` to `high`, a step per frame.

    The spin box beside the slider is set, as a drag or the wheel sets it;
    each step's latency runs to the repaint of the result its kernel made.
    Returns the single steps' latencies, their refresh and GUI CPU times, the
    drag's latencies, how many results were computed and how many steps made.
    """
    combo = window.findChild(QComboBox, "generatorCombo")
    combo.setCurrentIndex(combo.findData(slug))
    for held_name, value in held.items():
        window.findChild(QAbstractSpinBox, f"spin_{held_name}").setValue(value)
    panel = window.generator_panel
    grid = window.editor.grid

    def settled() -> bool:
        controller = window.controller
        return (
            controller.is_idle
            and controller.rendering is not None
            and not panel.has_pending
            and not grid.look_pending
        )

    wait_until(app, settled)
    spin = window.findChild(QAbstractSpinBox, f"spin_{name}")
    result_canvas = window.views.views["result"].getViewWidget()
    painted_at: dict[object, float] = {}
    computed = [0]

    def on_rendering(rendering) -> None:
        result_canvas.viewport().repaint()
        generator = rendering.recipe.stages[window.controller.selected].generator
        painted_at.setdefault(generator, time.perf_counter())
        computed[0] += 1

    refreshes: list[float] = []
    controller = window.controller
    update = controller.update

    def timed_update(**changes) -> None:
        started = time.perf_counter()
        update(**changes)
        refreshes.append(time.perf_counter() - started)

    controller.update = timed_update
    controller.renderingReady.connect(on_rendering)
    try:
        # One step at a time from rest: the latency of a single nudge.
        single, refresh, gui_cpu = [], [], []
        for step in range(10):
            current = controller.stage.generator
            refreshes.clear()
            cpu_started = time.thread_time()
            started = time.perf_counter()
            spin.setValue(low + (high - low) * (step + 0.5) / 10)
            expected = current.with_values(**{name: spin.value()})
            if expected == current:  # the spin box rounds it to the value it has
                continue
            wait_until(app, lambda key=expected: key in painted_at and settled())
            single.append(painted_at[expected] - started)
            gui_cpu.append(time.thread_time() - cpu_started)
            refresh.append(sum(refreshes))
        painted_at.clear()
        computed[0] = 0
        moved_at: dict[object, float] = {}
        steps = 40
        next_step = time.perf_counter()
        for step in range(steps):
            wait_for_moment(app, next_step)
            spin.setValue(low + (high - low) * step / (steps - 1))
            expected = controller.stage.generator.with_values(**{name: spin.value()})
            moved_at.setdefault(expected, time.perf_counter())
            next_step += STEP_MS / 1000
        wait_until(app, settled)
    finally:
        controller.renderingReady.disconnect(on_rendering)
        del controller.update  # the class's method again
    latencies = [painted_at[key] - moved for key, moved in moved_at.items() if key in painted_at]
    return (single, refresh, gui_cpu), latencies, computed[0], len(moved_at)


def print_edits(app: QApplication, window: MainWindow, images: list[Path], edits: int) -> None:
    """Measure and print the typed edits on each of `images`."""
    print(
        f"{'image':<22}{'pixels':>10}{'edits':>7}{'→on screen':>12}{'→result':>10}"
        f"{'→painted':>10}{'stall':>8}  previews"
    )
    for path in images:
        window.open_path(path)
        wait_until(
            app,
            lambda path=path: (
                window.controller.image is not None
                and window.controller.image.name == path.name
                and window.controller.is_idle
            ),
            timeout_s=600,
        )
        height, width = window.controller.image.pixels.shape[:2]
        # Whole results of the largest images take seconds: fewer edits there.
        count = edits if height * width < 50e6 else max(3, edits // 5)
        figures = measure(app, window, count)
        print(
            f"{path.name:<22}{height * width / 1e6:>8.1f}MP{count:>7}"
            f"{figures['edit_to_preview_ms']:>10.1f}ms"
            f"{figures['edit_to_result_ms']:>8.0f}ms"
            f"{figures['edit_to_paint_ms']:>8.0f}ms"
            f"{figures['longest_stall_ms']:>6.0f}ms"
            f"  {figures['previewed']} of {count}"
        )
    print(
        "→on screen: edit → previewReady, the pixels on screen exact (and repainted); on\n"
        "small images that is the whole result. →result: edit → resultReady (whole);\n"
        "→painted: the whole result's views repainted; stall: the longest gap between\n"
        "ticks of a 1 ms GUI-thread timer over all the edits, whole results included."
    )
    print(f"medians; numpy {np.__version__}, {os.cpu_count()}-core machine")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=15, help="edits per image (default 15)")
    parser.add_argument(
        "--megapixels",
        type=float,
        nargs="*",
        default=[1, 12, 24, 100],
        help="synthetic image sizes (default 1 12 24 100)",
    )
    parser.add_argument(
        "--sliders-only", action="store_true", help="skip the typed edits, only drag sliders"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        # The session, autosave and logs of a person's own window stay out of it.
        for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[variable] = str(Path(folder) / variable.lower())
        app = QApplication(sys.argv[:1])
        configure_application(app)
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, folder)
        window = MainWindow()
        freeze_after_first_result(window)  # as run_app does
        window.resize(1280, 800)
        window.show()
        wait_until(app, lambda: window.controller.rendering is not None)
        window.choose_preset("gaussian-blur")
        images = [sample_image_path()]
        images += [enlarged_sample(Path(folder), size) for size in options.megapixels]
        if not options.sliders_only:
            print_edits(app, window, images, options.edits)
        slider_image = images[1] if len(images) > 1 else images[0]
        window.open_path(slider_image)
        wait_until(
            app,
            lambda: (
                window.controller.image is not None
                and window.controller.image.name == slider_image.name
                and window.controller.is_idle
            ),
        )
        height, width = window.controller.image.pixels.shape[:2]
        print(f"dragging a slider on {slider_image.name} ({height * width / 1e6:.1f} MP, RGB)")
        print(
            f"{'generator':<30}{'kernel':>10}{'one step':>10}{'refresh':>9}{'GUI CPU':>9}"
            f"{'drag':>9}{'p90':>9}{'shown':>12}"
        )
        for slug, held, name, low, high in DRAGS:
            singles, latencies, computed, steps = drag(app, window, slug, held, name, low, high)
            single, refresh, gui_cpu = singles
            shape = window.controller.stage.weights.shape
            latencies.sort()
            print(
                f"{slug + ' ' + name + f' {low:g}→{high:g}':<30}"
                f"{shape[0]:>6}×{shape[1]:<3}"
                f"{1000 * statistics.median(single):>8.1f}ms"
                f"{1000 * statistics.median(refresh):>7.1f}ms"
                f"{1000 * statistics.median(gui_cpu):>7.1f}ms"
                f"{1000 * statistics.median(latencies):>7.1f}ms"
                f"{1000 * latencies[int(0.9 * (len(latencies) - 1))]:>7.1f}ms"
                f"{computed:>6} of {steps}"
            )
        print(
            "one step: a single change from rest → result view repainted (median of 10);\n"
            "refresh: the panels showing its state before the job starts (Controller.update);\n"
            "GUI CPU: the GUI thread's CPU time for it until all is shown, the grid included;\n"
            f"drag: a step every {STEP_MS} ms, each shown step's change → repainted"
        )
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
