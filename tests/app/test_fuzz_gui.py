"""Fuzzing through the controller and the window: only uint8 reaches a view, any typing is safe."""

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from kernelstudio.app import controller as controller_module
from kernelstudio.app.controller import Controller
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.kernels import PRESETS, parse_weight
from tests.test_fuzz import (
    NUMBERISH,
    WEIGHT_TEXT,
    assert_nothing_ran,
    extreme_kernels,
    numberish_text,
)

GUI_FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
WAIT_MS = 10_000


# Through the controller ------------------------------------------------------------------


@pytest.fixture
def loaded_controller(qtbot):
    controller = Controller()
    image = np.random.default_rng(5).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(image, "fuzz")
    yield controller
    controller.shutdown()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow to infinity is the point
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    weights=extreme_kernels(),
    display=st.sampled_from(DISPLAY_MODES),
    border=st.sampled_from([b for b in BORDERS if b != "valid"]),
)
def test_the_view_only_ever_receives_uint8_pixels(
    qtbot, loaded_controller, weights, display, border
):
    controller = loaded_controller
    if not _float32_can_hold(weights):
        before = controller.recipe
        with pytest.raises(ValueError, match="float32 limit"):
            controller.update(weights=weights, display=display, border=border)
        assert controller.recipe is before
        event("refused: beyond float32")
        return
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS) as blocker:
        controller.update(weights=weights, display=display, border=border)
    rendering = blocker.args[0]
    assert rendering.recipe is controller.recipe
    assert rendering.result8.dtype == np.uint8
    assert rendering.result8.shape == rendering.result.shape == (24, 24, 3)
    assert all(channel.dtype == np.uint8 for channel in rendering.channels8)


def _float32_can_hold(weights):
    with np.errstate(over="ignore"):
        return bool(np.isfinite(np.abs(weights).astype(np.float32).sum(dtype=np.float32)))


# Typing into the window ----------------------------------------------------------------

PRINTABLE = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0xFFFF),
    min_size=1,
    max_size=12,
)
TYPED = st.one_of(
    PRINTABLE,
    numberish_text(NUMBERISH[:-1], max_size=6).filter(lambda t: 0 < len(t) <= 20),
    WEIGHT_TEXT,
)


def type_keys(qtbot, widget, text):
    """Type `text` key by key; QTest only knows ASCII keys, so others come as a keyboard's text."""
    for character in text:
        if " " <= character <= "~":
            qtbot.keyClick(widget, character)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, character)
            QApplication.sendEvent(widget, event)


@pytest.fixture
def render_calls(monkeypatch):
    """Count the renders that reach the worker."""
    calls = []
    real_render = controller_module._render

    def counting(image, recipe, *rest):
        calls.append(recipe)
        return real_render(image, recipe, *rest)

    monkeypatch.setattr(controller_module, "_render", counting)
    return calls


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # typed weights may overflow float32
@GUI_FUZZ
@given(
    text=TYPED.filter(lambda t: "\n" not in t and "\t" not in t),
    row=st.integers(0, 2),
    column=st.integers(0, 2),
)
@example(text="1/16", row=1, column=1)
@example(text="__import__('os')", row=0, column=0)
@example(text="\u22121e30", row=2, column=2)
def test_typing_anything_into_a_cell_updates_the_kernel_or_marks_the_cell(
    qtbot,
    window,
    render_calls,
    text,
    row,
    column,
):
    controller = window.controller
    window.set_kernel(PRESETS["identity"])
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
    target = window.findChild(QLineEdit, f"cell_{row}_{column}")
    target.setFocus()
    target.selectAll()
    qtbot.keyClick(target, Qt.Key.Key_Backspace)
    type_keys(qtbot, target, text[:-1])
    qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
    recipe_before, renders_before = controller.recipe, len(render_calls)

    type_keys(qtbot, target, text[-1])

    try:
        expected, problem = parse_weight(target.text()), ""
    except ValueError as error:
        expected, problem = None, str(error)
    event("cell marked invalid" if expected is None else "kernel updated")
    if expected is None:
        assert target.property("invalid") is True
        assert problem in target.toolTip()
        assert controller.recipe is recipe_before  # no request at all
        qtbot.waitUntil(lambda: controller.is_idle, timeout=WAIT_MS)
        assert len(render_calls) == renders_before
        return
    assert target.property("invalid") is False
    assert target.toolTip().startswith(f"Row {row + 1}, column {column + 1}:")  # its help
    weights = PRESETS["identity"].copy()
    weights[row, column] = expected
    np.testing.assert_array_equal(controller.stage.weights, weights)
    qtbot.waitUntil(
        lambda: controller.is_idle and controller.rendering.recipe is controller.recipe,
        timeout=WAIT_MS,
    )
    assert controller.rendering.result8.dtype == np.uint8
    assert_nothing_ran()
