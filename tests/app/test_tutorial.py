"""The tutorial as a session of its own: the panel, the steps, and giving the window back (F6)."""

import threading

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QLabel, QMainWindow

from kernelstudio.app import tutorial as tutorial_module
from kernelstudio.app.tutorial import TUTORIAL_IMAGE_NAME, Tutorial
from kernelstudio.app.walkthrough_panel import WalkthroughPanel
from kernelstudio.kernels import PRESETS
from kernelstudio.pipeline import Recipe, Stage
from kernelstudio.samples import sample_image_path
from kernelstudio.walkthrough import STEPS

LAST = len(STEPS) - 1


def wait_for_rendering(qtbot, controller):
    qtbot.waitUntil(
        lambda: controller.rendering is not None and controller.is_idle, timeout=10_000
    )
    return controller.rendering


@pytest.fixture
def panel(qtbot):
    panel = WalkthroughPanel()
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def user_state(qtbot, controller):
    """The person's work: an image, two stages, wrap, signed, the result's channels."""
    pixels = np.random.default_rng(6).integers(0, 256, size=(37, 53, 3)).astype(np.uint8)
    controller.load_pixels(pixels, "mine.png")
    wait_for_rendering(qtbot, controller)
    recipe = Recipe(
        (Stage(PRESETS["box-blur"], divisor=9), Stage(PRESETS["sharpen"], offset=3)),
        border="wrap",
        display="signed",
    )
    controller.update(recipe=recipe, channels_of_result=True)
    controller.select(1)
    wait_for_rendering(qtbot, controller)
    return controller.image, controller.recipe, controller.view


@pytest.fixture
def docked(qtbot, controller, panel):
    """A real main window with the panel in a bottom dock, and the tutorial driving both."""
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("picture"))
    dock = QDockWidget("Tutorial walkthrough", window)
    dock.setObjectName("walkthroughDock")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.hide()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    tutorial = Tutorial(controller, panel, window, dock=dock)
    return window, dock, tutorial


def assert_given_back(qtbot, controller, saved, selected=1):
    image, recipe, view = saved
    assert controller.image is image
    assert controller.image.pixels is image.pixels
    assert controller.recipe == recipe
    assert controller.view == view
    assert controller.selected == selected
    rendering = wait_for_rendering(qtbot, controller)
    assert rendering.result.shape == image.pixels.shape
    assert rendering.recipe == recipe
    assert rendering.view == view


def walk_about(qtbot, controller, tutorial, panel, saved):
    """Start, step 3, Next twice, Back: the tutorial's state shows, the person's is kept."""
    with qtbot.waitSignal(tutorial.started):
        tutorial.start()
    tutorial.show_step(2)
    panel.next_button.click()
    panel.next_button.click()
    panel.back_button.click()
    assert tutorial.running
    assert tutorial.index == panel.index == 3
    assert controller.recipe == STEPS[3].recipe
    assert tutorial.saved_state == saved
    qtbot.waitUntil(lambda: controller.image.name == TUTORIAL_IMAGE_NAME, timeout=10_000)
    wait_for_rendering(qtbot, controller)


# The panel -------------------------------------------------------------------


def test_every_button_has_a_name_an_accessible_name_and_a_tooltip(panel):
    buttons = {
        "walkthroughBack": panel.back_button,
        "walkthroughNext": panel.next_button,
        "walkthroughFinish": panel.finish_button,
    }
    for name, button in buttons.items():
        assert panel.findChild(QAbstractButton, name) is button
        assert button.accessibleName()
        assert button.toolTip()


def test_panel_shows_the_step_and_its_place(panel):
    panel.show_step(2, STEPS[2])
    assert panel.title.text() == STEPS[2].title
    assert panel.sentence.text() == STEPS[2].sentence
    assert panel.counter.text() == f"3 / {len(STEPS)}"
    assert panel.back_button.isEnabled()
    assert panel.next_button.isEnabled()
    assert panel.finish_button.isEnabled()


def test_first_step_has_no_back_and_the_last_makes_finish_the_default(panel):
    panel.show_step(0, STEPS[0])
    assert not panel.back_button.isEnabled()
    assert panel.next_button.isDefault()
    assert not panel.finish_button.isDefault()
    panel.show_step(LAST, STEPS[LAST])
    assert not panel.next_button.isEnabled()
    assert panel.finish_button.isEnabled()
    assert panel.finish_button.isDefault()
    assert not panel.next_button.isDefault()


def test_buttons_ask_for_neighbouring_steps_and_for_the_end(qtbot, panel):
    panel.show_step(2, STEPS[2])
    with qtbot.waitSignal(panel.stepRequested) as asked:
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert asked.args == [3]
    with qtbot.waitSignal(panel.stepRequested) as asked:
        qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert asked.args == [1]
    with qtbot.waitSignal(panel.finishRequested):
        qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)


def test_escape_in_the_panel_asks_for_the_end_before_a_window_shortcut(qtbot, docked):
    window, dock, _tutorial = docked
    panel = dock.widget()
    escapes_of_the_window = []
    action = QAction("Cancel", window)
    action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    action.triggered.connect(lambda: escapes_of_the_window.append(True))
    window.addAction(action)
    dock.show()
    panel.show_step(1, STEPS[1])
    panel.focus_default_button()
    qtbot.waitUntil(panel.next_button.hasFocus)
    with qtbot.waitSignal(panel.finishRequested):
        qtbot.keyClick(panel.next_button, Qt.Key.Key_Escape)
    assert escapes_of_the_window == []


def test_panel_ignores_steps_that_do_not_exist(panel):
    panel.show_step(2, STEPS[2])
    for index, step in ((len(STEPS), STEPS[0]), (-1, STEPS[0]), ("1", STEPS[1]), (1, None)):
        panel.show_step(index, step)
        assert panel.index == 2
        assert panel.title.text() == STEPS[2].title


def test_no_sentence_is_clipped_in_the_bottom_dock_of_a_1280_wide_window(qtbot, docked):
    window, dock, _tutorial = docked
    panel = dock.widget()
    dock.show()
    assert window.width() == 1280
    for index, step in enumerate(STEPS):
        panel.show_step(index, step)
        sentence = panel.sentence
        qtbot.waitUntil(
            lambda sentence=sentence: (
                sentence.height() >= sentence.heightForWidth(sentence.width())
            )
        )
        assert sentence.wordWrap()
        assert sentence.visibleRegion().boundingRect() == sentence.rect()
        for widget in (panel.title, panel.counter, panel.back_button, panel.finish_button):
            assert widget.visibleRegion().boundingRect() == widget.rect()
            assert widget.width() >= widget.sizeHint().width()


# The tutorial's steps ---------------------------------------------------------


def test_each_step_sets_up_its_image_and_recipe(qtbot, controller, panel):
    sample = sample_image_path()
    grey = cv2.cvtColor(cv2.imread(str(sample)), cv2.COLOR_BGR2GRAY)
    side = min(grey.shape)
    top, left = (grey.shape[0] - side) // 2, (grey.shape[1] - side) // 2
    centre = np.ascontiguousarray(grey[top : top + side, left : left + side])
    expected_grey = cv2.resize(centre, (100, 100), interpolation=cv2.INTER_AREA)
    loaded = []
    controller.imageLoaded.connect(lambda image: loaded.append(image.name))
    tutorial = Tutorial(controller, panel)
    tutorial.start()
    for index, step in enumerate(STEPS):
        tutorial.show_step(index)
        assert controller.recipe == Recipe(
            (Stage(PRESETS[step.preset]),), border=step.border, display=step.display
        )
        assert not controller.view.channels_of_result
        assert panel.title.text() == step.title
        name = TUTORIAL_IMAGE_NAME if step.image == "tutorial" else sample.name
        qtbot.waitUntil(
            lambda name=name: controller.image is not None and controller.image.name == name,
            timeout=10_000,
        )
        rendering = wait_for_rendering(qtbot, controller)
        assert rendering.recipe == controller.recipe
        if step.image == "tutorial":
            assert np.abs(controller.image.pixels.astype(int) - expected_grey).max() <= 1
        else:
            assert controller.image.path == sample
            assert controller.image.pixels.shape == (*grey.shape, 3)
    # The image is loaded again only when a step's image differs from the one before.
    assert loaded == [TUTORIAL_IMAGE_NAME, sample.name]


def test_an_image_opened_mid_tutorial_is_replaced_by_the_next_steps_image(
    qtbot, controller, panel
):
    tutorial = Tutorial(controller, panel)
    tutorial.start()
    wait_for_rendering(qtbot, controller)
    controller.load_pixels(np.zeros((5, 7), np.uint8), "other.png")
    qtbot.waitUntil(lambda: controller.image.name == "other.png", timeout=10_000)
    tutorial.show_step(1)
    qtbot.waitUntil(lambda: controller.image.name == TUTORIAL_IMAGE_NAME, timeout=10_000)


def test_steps_outside_the_walkthrough_change_nothing(qtbot, controller, panel, user_state):
    tutorial = Tutorial(controller, panel)
    tutorial.start(len(STEPS))
    assert not tutorial.running
    tutorial.show_step(1)  # not running: nothing to set up
    assert controller.recipe == user_state[1]
    tutorial.start(2)
    for index in (-1, len(STEPS), "3", 1.0):
        tutorial.show_step(index)
        assert tutorial.index == 2
        assert controller.recipe == STEPS[2].recipe
    tutorial.finish()


# Giving the window back ------------------------------------------------------


def test_finish_gives_back_the_image_recipe_and_view(qtbot, controller, panel, user_state):
    tutorial = Tutorial(controller, panel)
    walk_about(qtbot, controller, tutorial, panel, user_state)
    with qtbot.waitSignal(tutorial.ended):
        qtbot.mouseClick(panel.finish_button, Qt.MouseButton.LeftButton)
    assert not tutorial.running
    assert tutorial.saved_state is None
    assert_given_back(qtbot, controller, user_state)


def test_escape_in_the_panel_gives_the_window_back(qtbot, controller, docked, user_state):
    _window, dock, tutorial = docked
    panel = dock.widget()
    walk_about(qtbot, controller, tutorial, panel, user_state)
    assert dock.isVisible()
    panel.focus_default_button()
    qtbot.waitUntil(panel.next_button.hasFocus)
    with qtbot.waitSignal(tutorial.ended):
        qtbot.keyClick(panel.next_button, Qt.Key.Key_Escape)
    assert not dock.isVisible()
    assert_given_back(qtbot, controller, user_state)


def test_escape_on_the_dock_itself_gives_the_window_back(qtbot, controller, docked, user_state):
    _window, dock, tutorial = docked
    walk_about(qtbot, controller, tutorial, dock.widget(), user_state)
    with qtbot.waitSignal(tutorial.ended):
        qtbot.keyClick(dock, Qt.Key.Key_Escape)
    assert_given_back(qtbot, controller, user_state)


def test_closing_the_dock_gives_the_window_back(qtbot, controller, docked, user_state):
    _window, dock, tutorial = docked
    walk_about(qtbot, controller, tutorial, dock.widget(), user_state)
    close_button = dock.findChild(QAbstractButton, "qt_dockwidget_closebutton")
    with qtbot.waitSignal(tutorial.ended):
        qtbot.mouseClick(close_button, Qt.MouseButton.LeftButton)
    assert not dock.isVisible()
    assert_given_back(qtbot, controller, user_state)


def test_hiding_the_window_does_not_end_the_tutorial(qtbot, controller, docked):
    window, dock, tutorial = docked
    tutorial.start()
    assert dock.isVisible()
    window.hide()
    assert tutorial.running


def test_a_tutorial_image_still_loading_does_not_replace_the_restored_one(
    qtbot, controller, panel, user_state, monkeypatch
):
    release = threading.Event()
    real_tutorial_image = tutorial_module.tutorial_image

    def slow_tutorial_image(pixels):
        release.wait(10)
        return real_tutorial_image(pixels)

    monkeypatch.setattr(tutorial_module, "tutorial_image", slow_tutorial_image)
    names = []
    controller.imageLoaded.connect(lambda image: names.append(image.name))
    tutorial = Tutorial(controller, panel)
    tutorial.start()
    tutorial.finish()
    release.set()
    # The controller's running jobs: empty once the tutorial load has reported.
    qtbot.waitUntil(lambda: not controller._background, timeout=10_000)
    assert names == ["mine.png"]
    assert_given_back(qtbot, controller, user_state)


def test_without_an_image_of_their_own_the_person_gets_the_sample(qtbot, controller, panel):
    tutorial = Tutorial(controller, panel)
    tutorial.start()
    assert tutorial.saved_state[0] is None
    qtbot.waitUntil(lambda: controller.image is not None, timeout=10_000)
    tutorial.finish()
    qtbot.waitUntil(lambda: controller.image.path == sample_image_path(), timeout=10_000)
    rendering = wait_for_rendering(qtbot, controller)
    assert rendering.result.shape == controller.image.pixels.shape


def test_finishing_twice_or_before_starting_does_nothing(qtbot, controller, panel, user_state):
    tutorial = Tutorial(controller, panel)
    ended = []
    tutorial.ended.connect(lambda: ended.append(True))
    tutorial.finish()
    assert ended == []
    tutorial.start(4)
    tutorial.finish()
    controller.update(display="abs")  # the person edits again after the tutorial
    tutorial.finish()
    assert ended == [True]
    assert controller.recipe.display == "abs"


def test_starting_again_while_running_keeps_the_first_saved_state(
    qtbot, controller, panel, user_state
):
    tutorial = Tutorial(controller, panel)
    started = []
    tutorial.started.connect(lambda: started.append(True))
    tutorial.start()
    tutorial.start(3)
    assert started == [True]
    assert tutorial.index == 3
    assert tutorial.saved_state == user_state
    tutorial.finish()
    assert_given_back(qtbot, controller, user_state)
