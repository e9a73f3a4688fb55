"""The tutorial walkthrough as a session of its own: it borrows the window and gives it back.

Starting the tutorial keeps the person's image, recipe and view options; each
step then shows the tutorial's image and kernel; finishing (Finish, Esc, or
closing the tutorial's dock) brings back what was kept.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget

from kernelstudio.app.controller import Controller, LoadedImage, ViewOptions
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.app.walkthrough_panel import WalkthroughPanel
from kernelstudio.imageio import load_image
from kernelstudio.pipeline import Recipe
from kernelstudio.samples import sample_image_path
from kernelstudio.walkthrough import STEPS, tutorial_image

log = logging.getLogger(__name__)

TUTORIAL_IMAGE_NAME = "sample, grey, 100×100"
"""The name the tutorial's grey square goes by."""


@dataclass(frozen=True)
class _Kept:
    image: LoadedImage | None
    recipe: Recipe
    view: ViewOptions
    selected: int


class Tutorial(QObject):
    """Runs the walkthrough on a controller and restores the person's work at the end.

    Parameters
    ----------
    controller : Controller
        The window's state; the tutorial changes it through its methods only.
    panel : WalkthroughPanel
        Shows the steps; its ``stepRequested`` and ``finishRequested`` are
        connected here.
    parent : QObject, optional
        The Qt parent.
    dock : QDockWidget, optional
        The dock holding `panel`, as :meth:`set_dock` takes it.

    Signals
    -------
    started()
        The tutorial took over the window (the person's state is kept).
    ended()
        The person's image, recipe and view options were given back.
    """

    started = Signal()
    ended = Signal()

    def __init__(
        self,
        controller: Controller,
        panel: WalkthroughPanel,
        parent: QObject | None = None,
        *,
        dock: QDockWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._panel = panel
        self._dock: QDockWidget | None = None
        self._kept: _Kept | None = None
        self._index = 0
        # Which of the step images ('tutorial', 'colour') was asked for last;
        # None when the current image is someone else's.
        self._image_kind: str | None = None
        self._image_name: str | None = None
        panel.stepRequested.connect(self.show_step)
        panel.finishRequested.connect(self.finish)
        controller.imageLoaded.connect(self._on_image_loaded)
        if dock is not None:
            self.set_dock(dock)

    @property
    def running(self) -> bool:
        """Whether the tutorial has the window."""
        return self._kept is not None

    @property
    def index(self) -> int:
        """The index of the step shown last."""
        return self._index

    @property
    def saved_state(self) -> tuple[LoadedImage | None, Recipe, ViewOptions] | None:
        """The person's ``(image, recipe, view)`` kept while the tutorial runs, else ``None``.

        This, not the controller's state, is what to save while the tutorial runs.
        """
        if self._kept is None:
            return None
        return (self._kept.image, self._kept.recipe, self._kept.view)

    def set_dock(self, dock: QDockWidget) -> None:
        """Show `dock` with each step; closing it or Esc in it finishes the tutorial."""
        if self._dock is not None:
            self._dock.removeEventFilter(self)
        self._dock = dock
        dock.installEventFilter(self)

    def start(self, index: int = 0) -> None:
        """Keep the person's state (unless already running), then show step `index`.

        An index outside :data:`~kernelstudio.walkthrough.STEPS` is logged and
        starts nothing.
        """
        if not _is_step(index):
            log.warning("there is no walkthrough step %r", index)
            return
        if self._kept is None:
            controller = self._controller
            self._kept = _Kept(
                controller.image, controller.recipe, controller.view, controller.selected
            )
            self._image_kind = None
            self.started.emit()
        self.show_step(index)
        self._panel.focus_default_button()

    def show_step(self, index: int) -> None:
        """Set the controller up as step `index` (only while running; others are ignored)."""
        if self._kept is None or not _is_step(index):
            return
        step = STEPS[index]
        if step.image != self._image_kind:
            self._load(step.image)
        # Straight to the controller: tutorial steps are no edits to undo.
        self._controller.update(recipe=step.recipe, channels_of_result=False)
        self._index = index
        self._panel.show_step(index, step)
        if self._dock is not None:
            self._dock.show()
            self._dock.raise_()

    def finish(self) -> None:
        """Give the kept image, recipe and view options back and hide the dock.

        Does nothing when the tutorial is not running. A tutorial image still
        loading never replaces the restored one: the restore is the newer request.
        """
        kept, self._kept = self._kept, None
        if kept is None:
            return
        self._image_kind = self._image_name = None
        controller = self._controller
        if kept.image is not None:
            controller.use_image(kept.image)
        else:
            controller.load_path(sample_image_path())
        controller.update(recipe=kept.recipe, **asdict(kept.view))
        controller.select(min(kept.selected, len(kept.recipe.stages) - 1))
        if self._dock is not None:
            self._dock.hide()
        self.ended.emit()

    @qt_virtual(default=False)
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Finish when the dock is closed, or on Esc while the dock has the focus."""
        if watched is not self._dock or self._kept is None:
            return False
        kind = event.type()
        if kind == QEvent.Type.Close:
            self.finish()
        elif kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and (
            event.key() == Qt.Key.Key_Escape
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            event.accept()
            if kind == QEvent.Type.KeyPress:
                self.finish()
            return True
        return False

    def _load(self, kind: str) -> None:
        self._image_kind = kind
        sample = sample_image_path()
        if kind == "tutorial":
            self._image_name = TUTORIAL_IMAGE_NAME
            self._controller.load_from(
                lambda: tutorial_image(load_image(sample)), TUTORIAL_IMAGE_NAME
            )
        else:
            self._image_name = sample.name
            self._controller.load_path(sample)

    def _on_image_loaded(self, image: LoadedImage) -> None:
        # The person opened another image mid-tutorial: the next step loads its own again.
        if self._kept is not None and image.name != self._image_name:
            self._image_kind = self._image_name = None


def _is_step(index: object) -> bool:
    return type(index) is int and 0 <= index < len(STEPS)
