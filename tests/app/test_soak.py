"""Soak and concurrency: thousands of edits, mixed operations, closing mid-job, worker errors.

The controller keeps at most one render running and one waiting, so however fast the
requests come, memory stays flat, the backlog stays at one job, and the last request wins.
"""

import gc
import os
import random
import resource
import sys
import threading

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QUndoStack

from kernelstudio.app import controller as controller_module
from kernelstudio.app.tasks import Task
from kernelstudio.app.undo import RecipeChange, push_recipe
from kernelstudio.colour import to_grey
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES, to_uint8
from kernelstudio.kernels import PRESET_DISPLAY, PRESETS
from kernelstudio.pipeline import Recipe
from tests.app.conftest import assert_close, oracle, state_of
from tests.app.test_main_window import sample_rgb, wait_for_result

WAIT_MS = 10_000
EDITS = 10_000
WARM_UP_EDITS = 500
BURST = 4
RSS_LIMIT_MB = 50
OPERATIONS = 1_000


def resident_bytes() -> int:
    """The process's current resident set (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class RenderSpy:
    """Stands in for ``controller._render``: counts calls and how many run at once."""

    def __init__(self, render):
        self._render = render
        self._lock = threading.Lock()
        self.calls = 0
        self.active = 0
        self.max_active = 0

    def __call__(self, *args):
        with self._lock:
            self.calls += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            return self._render(*args)
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def render_spy(monkeypatch):
    spy = RenderSpy(controller_module._render)
    monkeypatch.setattr(controller_module, "_render", spy)
    return spy


@pytest.fixture
def failures(controller):
    messages = []
    controller.failed.connect(messages.append)
    return messages


def settle(qtbot, controller):
    """Wait until nothing runs or waits and the latest request has its result."""
    qtbot.waitUntil(
        lambda: (
            controller.is_idle
            and controller.rendering is not None
            and controller.rendering.recipe is controller.recipe
        ),
        timeout=WAIT_MS,
    )
    return controller.rendering


def settle_on_image(qtbot, controller, name):
    qtbot.waitUntil(
        lambda: controller.image is not None and controller.image.name == name,
        timeout=WAIT_MS,
    )
    return settle(qtbot, controller)


def random_image(rng, grey=False):
    height, width = rng.integers(16, 41, size=2)
    shape = (height, width) if grey else (height, width, 3)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


# Rapid edits ---------------------------------------------------------------------------


def test_ten_thousand_rapid_edits_keep_memory_flat_and_end_on_the_last_kernel(
    qtbot, qapp, controller, render_spy, failures, record_property
):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    kernels = [rng.normal(size=(5, 5) if step % 4 == 0 else (3, 3)) for step in range(EDITS)]
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(image, "soak")

    def edit(first, stop):
        # Bursts of edits come faster than renders; between bursts the event loop runs
        # until the latest result is in, as when a person pauses, so thousands of renders
        # start, finish and are dropped or delivered.
        for step in range(first, stop):
            controller.update(weights=kernels[step])
            if step % BURST == BURST - 1 and not controller.is_idle:
                qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS).wait()

    edit(0, WARM_UP_EDITS)
    settle(qtbot, controller)
    gc.collect()
    before = resident_bytes()
    edit(WARM_UP_EDITS, EDITS)
    renders_when_typing_stopped = render_spy.calls
    rendering = settle(qtbot, controller)
    gc.collect()
    growth_mb = (resident_bytes() - before) / 2**20

    print(
        f"\nsoak: {EDITS} edits -> {render_spy.calls} renders, "
        f"resident memory grew {growth_mb:.1f} MB after {WARM_UP_EDITS} warm-up edits"
    )
    record_property("edits", EDITS)
    record_property("renders", render_spy.calls)
    record_property("rss_growth_mb", round(growth_mb, 2))
    assert growth_mb < RSS_LIMIT_MB
    assert failures == []
    assert render_spy.max_active == 1
    # At most the running job and the one waiting were left when typing stopped.
    assert render_spy.calls - renders_when_typing_stopped <= 2
    assert render_spy.calls <= EDITS / 2 + 2
    np.testing.assert_array_equal(rendering.recipe.stages[0].weights, kernels[-1])
    assert_close(rendering.result, oracle(image, kernels[-1]), kernels[-1], image)


# Nothing left behind --------------------------------------------------------------------
#
# Two leaks too small for a resident-memory limit to see, found by the slow monkey:
# PySide takes its reference to an object handed to Qt (a runnable for the pool, a
# command for the undo stack) after the call returns, so when Qt has deleted the
# object inside that call, the wrapper it keeps is never let go.


def test_merged_undo_steps_leave_no_command_behind(controller):
    stack = QUndoStack()
    for step in range(50):  # typing into one cell: one step, whatever was typed
        recipe = Recipe.single(np.full((3, 3), float(step + 1)))
        push_recipe(stack, controller, recipe, "Edit weight", key=("cell", 1, 1))
    gc.collect()
    kept = [o for o in gc.get_objects() if isinstance(o, RecipeChange)]
    assert stack.count() == 1
    assert [o for o in kept if o._controller is controller] == [stack.command(0)]


def test_finished_jobs_leave_no_task_behind(qtbot, controller):
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(random_image(np.random.default_rng(5)), "tasks")
    for step in range(300):
        # One render runs and one waits; the waiting one starts from the first's report.
        controller.update(weights=PRESETS["box-blur" if step % 2 else "sharpen"])
        controller.update(display="abs" if step % 2 else "clip")
        qtbot.waitUntil(lambda: controller.is_idle and not controller._background, timeout=WAIT_MS)
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, Task)] == []


# Mixed operations ------------------------------------------------------------------------


def test_a_thousand_mixed_operations_end_in_the_state_last_asked_for(
    qtbot, qapp, controller, render_spy, failures, tmp_path, record_property
):
    rng = np.random.default_rng(11)
    choose = random.Random(11)
    files = []
    for name, pixels in (("colour", random_image(rng)), ("grey", random_image(rng, grey=True))):
        path = tmp_path / f"{name}.png"
        written = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        assert cv2.imwrite(str(path), written)
        files.append((path, pixels))
    state = {
        "weights": PRESETS["identity"],
        "border": "mirror",
        "flip": False,
        "display": "clip",
        "grey": False,
    }
    controller.update(**state)
    expected_name, expected_pixels = "start", random_image(rng)
    controller.load_pixels(expected_pixels, expected_name)
    counts = dict.fromkeys(["preset", "option", "pixels", "file"], 0)
    checks = 0

    for step in range(OPERATIONS):
        roll = choose.random()
        if roll < 0.3:
            slug = choose.choice(list(PRESETS))
            changes = {"weights": PRESETS[slug], "display": PRESET_DISPLAY[slug]}
            kind = "preset"
        elif roll < 0.7:
            field = choose.choice(["border", "flip", "display", "grey"])
            if field == "border":
                changes = {"border": choose.choice(BORDERS)}
            elif field == "display":
                changes = {"display": choose.choice(DISPLAY_MODES)}
            else:
                changes = {field: not state[field]}
            kind = "option"
        elif roll < 0.9:
            expected_name = f"pixels-{step}"
            expected_pixels = random_image(rng, grey=choose.random() < 0.3)
            controller.load_pixels(expected_pixels, expected_name)
            changes, kind = {}, "pixels"
        else:
            # Every load gets its own file name, so the final image is known by its name.
            source, expected_pixels = choose.choice(files)
            path = tmp_path / f"file-{step}.png"
            os.symlink(source, path)
            expected_name = path.name
            controller.load_path(path)
            changes, kind = {}, "file"
        if changes:
            controller.update(**changes)
            state.update(changes)
        counts[kind] += 1
        pause = choose.random()
        if pause < 0.05:  # a person stops to look: everything asked for so far arrives
            rendering = settle_on_image(qtbot, controller, expected_name)
            assert_shows(controller, rendering, state, expected_pixels)
            checks += 1
        elif pause < 0.3:
            qapp.processEvents()

    rendering = settle_on_image(qtbot, controller, expected_name)
    assert_shows(controller, rendering, state, expected_pixels)
    print(
        f"\nmixed soak: {OPERATIONS} operations {counts} -> {render_spy.calls} renders, "
        f"{checks + 1} pauses checked against the oracle"
    )
    record_property("operations", counts)
    record_property("renders", render_spy.calls)
    assert failures == []
    assert render_spy.max_active == 1


def assert_shows(controller, rendering, state, pixels):
    """The rendering is of `pixels` with the settings in `state`, as the oracle computes it."""
    np.testing.assert_array_equal(controller.image.pixels, pixels)
    settings = state_of(rendering)
    for field, value in state.items():
        np.testing.assert_array_equal(getattr(settings, field), value, err_msg=field)
    source = to_grey(pixels) if settings.grey else pixels
    expected = oracle(source, settings.weights, border=settings.border, flip=settings.flip)
    assert_close(rendering.result, expected, settings.weights, source)
    difference = rendering.result8.astype(int) - to_uint8(expected, settings.display)
    assert np.abs(difference).max() <= 1


# Closing and failing mid-job -----------------------------------------------------------------


def test_closing_the_window_mid_job_returns_and_nothing_arrives_afterwards(
    qtbot, qapp, make_window, monkeypatch
):
    window = make_window()
    controller = window.controller
    real_render = controller_module._render
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    calls = []

    def blocking_render(*args):
        calls.append(args)
        entered.set()
        if not release.wait(timeout=30):
            raise TimeoutError("the test never released the render")
        try:
            return real_render(*args)
        finally:
            finished.set()

    monkeypatch.setattr(controller_module, "_render", blocking_render)
    window.set_kernel(PRESETS["box-blur"])
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)
    window.set_kernel(PRESETS["sharpen"])  # waits behind the running job
    arrived = []
    for signal in (controller.resultReady, controller.renderingReady, controller.failed):
        signal.connect(arrived.append)
    releaser = threading.Timer(0.3, release.set)
    releaser.start()
    try:
        closed = window.close()
        job_done_before_close_returned = finished.is_set()
    finally:
        release.set()
        releaser.cancel()

    assert closed
    assert job_done_before_close_returned
    assert not window.isVisible()
    qapp.processEvents()  # deliver the finished job's queued report
    controller.update(weights=PRESETS["outline"])
    qapp.processEvents()
    assert arrived == []
    assert len(calls) == 1  # the waiting edit was dropped, the later one never started


def test_after_shutdown_mid_job_the_controller_is_idle(qtbot, qapp, controller, monkeypatch):
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(random_image(np.random.default_rng(2)), "tiny")
    real_render = controller_module._render
    entered, release = threading.Event(), threading.Event()

    def blocking_render(*args):
        entered.set()
        release.wait(timeout=30)
        return real_render(*args)

    monkeypatch.setattr(controller_module, "_render", blocking_render)
    controller.update(weights=PRESETS["box-blur"])
    qtbot.waitUntil(entered.is_set, timeout=WAIT_MS)
    releaser = threading.Timer(0.2, release.set)
    releaser.start()
    try:
        controller.shutdown()
    finally:
        release.set()
        releaser.cancel()
    qapp.processEvents()
    assert controller.is_idle


def test_an_exception_in_the_worker_is_a_message_and_the_next_edit_works(
    qtbot, window, monkeypatch
):
    real_render = controller_module._render
    raised = []

    def fails_once(*args):
        if not raised:
            raised.append(args)
            raise RuntimeError("worker exploded")
        return real_render(*args)

    monkeypatch.setattr(controller_module, "_render", fails_once)
    before = window.controller.rendering
    with qtbot.waitSignal(window.controller.failed, timeout=WAIT_MS) as blocker:
        window.set_kernel(PRESETS["sharpen"])
    assert "RuntimeError: worker exploded" in blocker.args[0]
    assert "worker exploded" in window.message_bar.text
    assert window.controller.rendering is before
    window.set_kernel(PRESETS["box-blur"])
    rendering = wait_for_result(qtbot, window, PRESETS["box-blur"])
    image = sample_rgb()
    assert_close(rendering.result, oracle(image, PRESETS["box-blur"]), PRESETS["box-blur"], image)
    assert len(raised) == 1
