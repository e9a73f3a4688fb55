"""Putting the window and the session back at start, and keeping them while it runs.

The room reads the stored window layout and the session (or Kernel Studio 0.1's
settings), hands them to the controller and the undo history, and builds the
snapshot the autosave writes after every change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QSettings
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMainWindow

from kernelstudio.app.autosave import SessionKeeper, Snapshot, image_copy_name, load_session
from kernelstudio.app.controller import Controller, LoadedImage, ViewOptions
from kernelstudio.app.diagnostics import default_log_folder
from kernelstudio.app.session import HistoryStep, Session
from kernelstudio.app.stored_state import StoredState
from kernelstudio.app.undo import UNDO_LIMIT, RecipeChange
from kernelstudio.convolution import BORDERS
from kernelstudio.display import DISPLAY_MODES
from kernelstudio.imageio import load_image
from kernelstudio.kernels import PRESET_GENERATORS, validate_kernel
from kernelstudio.pipeline import Recipe, Stage

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1280, 800)
"""The window's size on a first start (on a larger screen, see :func:`first_size`)."""
SCREEN_SHARE = 0.9
"""On a screen larger than :data:`DEFAULT_SIZE`, a first start takes this share of it."""


UserState = tuple[LoadedImage | None, Recipe, ViewOptions]
"""What the person was working on (image, recipe, view options): the tutorial sets it aside."""


def first_size(window: QMainWindow) -> tuple[int, int]:
    """Return the size for a first start: 1280×800, or most of a larger screen."""
    screen = window.screen()
    if screen is None:
        return DEFAULT_SIZE
    available = screen.availableGeometry()
    width, height = DEFAULT_SIZE
    if available.width() > width and available.height() > height:
        width = max(width, int(available.width() * SCREEN_SHARE))
        height = max(height, int(available.height() * SCREEN_SHARE))
    return width, height


class Persistence(QObject):
    """Restores the window and the session, and snapshots them for the autosave.

    Parameters
    ----------
    window : QMainWindow
        Whose geometry and dock layout are kept.
    store : QSettings
        The settings of the window layout.
    controller : Controller
        Whose image, recipe and view options make the session.
    history : QUndoStack
        The person's undo history.
    region : callable
        Returns the part of the image shown (a ``QRectF`` or ``None``).
    set_aside : callable
        Returns the person's :data:`UserState` while the tutorial runs, else ``None``.
    """

    def __init__(
        self,
        window: QMainWindow,
        store: QSettings,
        controller: Controller,
        history: QUndoStack,
        region: Callable[[], QRectF | None],
        set_aside: Callable[[], UserState | None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._store = store
        self._controller = controller
        self._history = history
        self._region = region
        self._set_aside = set_aside
        self.keeper = SessionKeeper(default_log_folder(), self._snapshot, self)
        self.region_to_restore: QRectF | None = None
        """The part of the image the session showed, for its first image."""

    @property
    def folder(self) -> Path:
        """Where the session and copies of pasted images are kept."""
        return self.keeper.folder

    def restore(self) -> tuple[Session | None, list[str]]:
        """Put back the window layout, then the session.

        Returns
        -------
        tuple of (Session or None, list of str)
            The session restored, if any, and a sentence for each stored value
            that had to be reset (for one message to the person).
        """
        stored = StoredState(self._store)
        window = self._window
        geometry = stored.byte_array("window/geometry")
        if geometry is None or not window.restoreGeometry(geometry):
            if geometry is not None:
                stored.problems.append("the stored window size could not be used; it was reset")
                self._store.remove("window/geometry")
            window.resize(*first_size(window))
        state = stored.byte_array("window/state")
        if state is not None and not window.restoreState(state):
            stored.problems.append("the stored panel layout could not be used; it was reset")
            self._store.remove("window/state")
        session, session_problem = load_session(self.folder)
        if session is None:
            session = self._session_from_older_settings(stored)
        if session is not None:
            self._apply(session)
        else:
            first = Stage.generated(PRESET_GENERATORS["identity"])
            self._controller.update(recipe=Recipe((first,)))
        problems = list(stored.problems)
        if session_problem:
            problems.append(session_problem)
        if session is not None and not session.closed_normally and session_problem is None:
            problems.insert(0, f"Restored your session from {session.saved_at.strftime('%H:%M')}.")
        return session, problems

    def open_image(self, session: Session, open_path: Callable[[Path], None]) -> None:
        """Open the session's image: its copy in the state folder, or its file."""
        if session.image_copy is not None:
            copy = self.folder / session.image_copy
            name = session.image_name or "Restored image"
            self._controller.load_from(lambda: load_image(copy, alpha=True), name)
        elif session.image_path is not None:
            open_path(Path(session.image_path))
        else:
            open_path(None)

    def save(self, *, closed_normally: bool) -> None:
        """Write the layout and the session now (on closing)."""
        self._store.setValue("window/geometry", self._window.saveGeometry())
        self._store.setValue("window/state", self._window.saveState())
        self._store.sync()
        self.keeper.write_now(closed_normally=closed_normally)

    def _apply(self, session: Session) -> None:
        controller = self._controller
        controller.update(recipe=session.recipe, channels_of_result=session.channels_of_result)
        controller.select(min(session.selected, len(session.recipe.stages) - 1))
        self._restore_history(session)
        if session.region is not None:
            self.region_to_restore = QRectF(*session.region)

    def _restore_history(self, session: Session) -> None:
        steps, index = session.history, session.history_index
        if not steps:
            return
        at_index = steps[index - 1].after if index else steps[0].before
        if at_index != session.recipe:
            log.warning("the stored undo history does not lead to the stored recipe; dropped")
            return
        # The stack keeps UNDO_LIMIT steps (a session of an older version may hold
        # more): the oldest go, but never those the index still needs.
        first = min(max(len(steps) - UNDO_LIMIT, 0), index)
        steps, index = steps[first : first + UNDO_LIMIT], index - first
        for step in steps:
            self._history.push(
                RecipeChange(self._controller, step.before, step.after, step.text, applied=True)
            )
        # Pushing ran no step (each was marked applied); moving the index back
        # undoes the redoable ones, which ends at the recipe stored.
        self._history.setIndex(index)
        self._controller.update(recipe=session.recipe)

    def _session_from_older_settings(self, stored: StoredState) -> Session | None:
        # Kernel Studio 0.1 kept the kernel and options in the settings, saved on closing.
        weights_text = stored.text("kernel/weights", "")
        session = None
        if weights_text:
            try:
                weights = validate_kernel(json.loads(weights_text))
            except (ValueError, RecursionError) as error:
                stored.problems.append(f"the stored kernel could not be used ({error})")
            else:
                recipe = Recipe.single(
                    weights,
                    border=stored.text("options/border", "mirror", choices=BORDERS),
                    display=stored.text("options/display", "clip", choices=DISPLAY_MODES),
                    flip=stored.flag("options/flip", False),
                    grey=stored.flag("options/grey", False),
                )
                session = Session(
                    recipe=recipe,
                    channels_of_result=stored.flag("options/channels", False),
                    closed_normally=True,
                )
        for key in ("kernel/weights", "options"):
            self._store.remove(key)
        return session

    def _snapshot(self) -> Snapshot:
        aside = self._set_aside()
        controller = self._controller
        if aside is not None:  # the tutorial runs: keep what the person was working on
            (image, recipe, view), selected = aside, 0
        else:
            image, recipe, view = controller.image, controller.recipe, controller.view
            selected = controller.selected
        pixels = image_path = image_copy = None
        if image is not None and image.path is not None:
            image_path = str(image.path.resolve())
        elif image is not None:
            pixels = image.pixels
            image_copy = image_copy_name(pixels)
        history = self._history_steps()  # the person's, also while the tutorial runs
        region = self._region()
        if region is not None and (region.width() <= 0 or region.height() <= 0):
            region = None
        session = Session(
            recipe=recipe,
            channels_of_result=view.channels_of_result,
            selected=min(selected, len(recipe.stages) - 1),
            image_path=image_path,
            image_copy=image_copy,
            image_name=image.name if image is not None else "",
            history=history,
            history_index=self._history.index() if history else 0,
            region=None if region is None else region.getRect(),
        )
        return Snapshot(session, pixels)

    def _history_steps(self) -> tuple[HistoryStep, ...]:
        commands = [self._history.command(i) for i in range(self._history.count())]
        if not all(isinstance(command, RecipeChange) for command in commands):
            return ()
        return tuple(HistoryStep(c.text(), c.before, c.after) for c in commands)
