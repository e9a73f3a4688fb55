"""Fixtures for the Qt tests: isolated settings, a configured app, a ready window."""

import gc
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from scipy import ndimage

from kernelstudio.app.launch import configure_application
from kernelstudio.colour import to_grey
from kernelstudio.display import to_uint8


@pytest.fixture(autouse=True)
def isolated_settings(qapp, tmp_path, monkeypatch):
    """Every test gets empty settings and its own config folder."""
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    configure_application(qapp)
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(config))
    QSettings().clear()
    yield config
    QSettings().clear()


@pytest.fixture(autouse=True)
def collect_windows_on_the_main_thread():
    """After each test, collect its windows' reference cycles here, on the GUI thread.

    Left to a later automatic collection, they may be collected on a worker
    thread; shiboken then deletes the widgets from the main thread's pending
    calls while holding the GIL, which deadlocked once against a worker emitting
    a queued signal (seen in CI: QObject::~QObject waiting on a signal lock held
    by a thread waiting for the GIL).
    """
    yield
    gc.collect()


@pytest.fixture
def controller(qtbot):
    """A Controller of its own, shut down after the test."""
    from kernelstudio.app.controller import Controller

    controller = Controller()
    yield controller
    controller.shutdown()


@pytest.fixture
def make_window(qtbot):
    """Build a MainWindow and wait for its first result."""
    from kernelstudio.app import MainWindow

    def build(image_path=None):
        window = MainWindow(image_path)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.controller.rendering is not None, timeout=10_000)
        qtbot.waitUntil(lambda: window.controller.is_idle, timeout=10_000)
        return window

    return build


@pytest.fixture
def window(make_window):
    return make_window()


def oracle(image, weights, *, border="mirror", flip=False):
    """scipy.ndimage per channel, in float64: the independent reference."""
    operation = ndimage.convolve if flip else ndimage.correlate
    pixels = np.asarray(image, dtype=np.float64)
    if border == "valid":
        half_rows, half_columns = weights.shape[0] // 2, weights.shape[1] // 2
        full = oracle(image, weights, border="constant", flip=flip)
        return full[
            half_rows : pixels.shape[0] - half_rows, half_columns : pixels.shape[1] - half_columns
        ]
    if pixels.ndim == 2:
        return operation(pixels, weights, mode=border)
    return np.stack(
        [operation(pixels[..., c], weights, mode=border) for c in range(pixels.shape[2])], axis=-1
    )


def oracle8(image, weights, display="clip", **options):
    """The oracle mapped to 8-bit as the views show it (±1 from rounding)."""
    return to_uint8(oracle(image, weights, **options), display)


def assert_close(result, expected, weights=None, image=None):
    scale = 1.0
    if weights is not None and image is not None:
        scale = float(np.abs(weights).sum() * max(1.0, float(np.abs(image).max())))
    np.testing.assert_allclose(result, expected, atol=2e-6 * scale + 1e-6)


def state_of(holder) -> SimpleNamespace:
    """The edited stage, the recipe's options and the view options of a controller or rendering."""
    recipe, view, stage = holder.recipe, holder.view, holder.recipe.stages[0]
    return SimpleNamespace(
        weights=stage.weights,
        divisor=stage.divisor,
        offset=stage.offset,
        border=recipe.border,
        flip=recipe.flip,
        grey=recipe.grey,
        channels=recipe.channels,
        alpha=recipe.alpha,
        display=recipe.display,
        channels_of_result=view.channels_of_result,
        histogram=view.histogram,
    )


def oracle_recipe(image, recipe):
    """scipy.ndimage stage by stage on the channels a recipe filters; the others pass through.

    ``weighted`` alpha follows the formula in pipeline.Recipe's Notes, with scipy's
    sums (tests/test_pipeline.py checks the engine against a slow loop of it too).
    """
    pixels = np.asarray(image)
    has_alpha = pixels.ndim == 3 and pixels.shape[2] in (2, 4)
    colour = pixels[..., :-1] if has_alpha else pixels
    if colour.ndim == 3 and colour.shape[2] == 1:
        colour = colour[..., 0]
    if recipe.grey and colour.ndim == 3:
        colour = to_grey(colour)  # tested on its own in tests/test_colour.py
    planes = [colour] if colour.ndim == 2 else [colour[..., c] for c in range(3)]
    letters = ["rgb"] if colour.ndim == 2 else list("rgb")
    if has_alpha:
        planes.append(pixels[..., -1])
        letters.append("a")
    wanted = [any(name in recipe.channels for name in letter) for letter in letters]
    if has_alpha:
        wanted[-1] = wanted[-1] and recipe.alpha != "keep"
    values = [np.asarray(plane, dtype=np.float64) for plane in planes]
    weighted = has_alpha and recipe.alpha == "weighted"
    white = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "iu" else 1.0
    stages = recipe.active_stages
    for number, stage in enumerate(stages, start=1):
        coverage = np.clip(values[-1] / white, 0, 1) if weighted else None
        values = [
            _oracle_stage(plane, stage, recipe, coverage if letter != "a" else None)
            if filtered
            else _cropped(plane, stage, recipe.border)
            for plane, letter, filtered in zip(values, letters, wanted, strict=True)
        ]
        if number < len(stages):  # alpha beside weighted colour is never treated
            weighted_colour = weighted and any(wanted[:-1])
            values = [
                _between_stages(plane, recipe, pixels.dtype)
                if filtered and not (weighted_colour and letter == "a")
                else plane
                for plane, letter, filtered in zip(values, letters, wanted, strict=True)
            ]
    return values[0] if len(values) == 1 else np.stack(values, axis=-1)


ORACLE_ROUNDING = {
    "half-up": lambda v: np.floor(v + 0.5),
    "half-even": np.rint,
    "truncate": np.trunc,
}


def _between_stages(plane, recipe, dtype):
    """What the next stage sees, in float64: clipped, rounded or wrapped (Recipe's docs)."""
    if recipe.between_stages == "float":
        return plane
    integer = np.dtype(dtype).kind in "iu"
    white = float(np.iinfo(dtype).max) if np.dtype(dtype).kind in "iu" else 1.0
    if recipe.between_stages == "wrap" and integer:
        return np.mod(ORACLE_ROUNDING[recipe.rounding](plane), white + 1)
    plane = np.clip(plane, 0, white)
    if recipe.between_stages == "round" and integer:
        return ORACLE_ROUNDING[recipe.rounding](plane)
    return plane


def _oracle_stage(plane, stage, recipe, coverage):
    options = {"border": recipe.border, "flip": recipe.flip}
    if coverage is None:
        return oracle(plane, stage.weights, **options) / stage.divisor + stage.offset
    from kernelstudio.pipeline import COVERAGE_FLOOR

    magnitudes = np.abs(stage.weights)
    premultiplied = np.where(coverage > 0, plane * coverage, 0.0)
    sums = oracle(premultiplied, stage.weights, **options)
    covered = oracle(coverage, magnitudes, **options)
    with np.errstate(divide="ignore", invalid="ignore"):
        averaged = np.where(covered > COVERAGE_FLOOR * magnitudes.sum(), sums / covered, 0.0)
    return averaged * magnitudes.sum() / stage.divisor + stage.offset


def _cropped(plane, stage, border):
    if border != "valid":
        return plane
    top, left = stage.weights.shape[0] // 2, stage.weights.shape[1] // 2
    return plane[top : plane.shape[0] - top, left : plane.shape[1] - left]
