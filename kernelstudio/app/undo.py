"""Undo and redo of recipe changes, acting on the controller."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtGui import QUndoCommand, QUndoStack

from kernelstudio.app.controller import Controller
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.pipeline import Recipe

_MERGING_ID = 1

UNDO_LIMIT = 100
"""Steps of the person's history kept (GIMP and Photoshop keep a few dozen by default).

Unlimited, a long session kept every recipe in memory and the autosave wrote
the whole history after every change: 5,000 changes slowed the window four
times and grew it by 40 to 60 MB. Typing into one cell, or a drag, is one step.
"""


class RecipeChange(QUndoCommand):
    """One change of the recipe: weights, a divisor, an option, a stage added.

    Consecutive changes with the same `key` (typing into one cell, say) merge
    into one step; ``None`` makes a step of its own. `applied` is ``True`` for
    a step restored from the session, whose recipe the controller already
    holds: its first :meth:`redo` does nothing.

    Parameters
    ----------
    controller : Controller
        Whose recipe the step changes.
    before, after : Recipe
        The recipe before and after the change.
    text : str
        What the Edit menu calls the step ("Undo Edit weight").
    key : hashable, optional
        What was edited, for merging.
    applied : bool
        Whether the controller already holds `after`.
    """

    def __init__(
        self,
        controller: Controller,
        before: Recipe,
        after: Recipe,
        text: str,
        key: Hashable | None = None,
        *,
        applied: bool = False,
    ) -> None:
        super().__init__(text)
        self._controller = controller
        self.before = before
        self.after = after
        self._key = key
        self._applied = applied

    @qt_virtual(default=-1)
    def id(self) -> int:
        """Merge steps that have a key (Qt merges commands of one id)."""
        return _MERGING_ID if self._key is not None else -1

    @qt_virtual(default=False)
    def mergeWith(self, other: QUndoCommand) -> bool:
        """Take `other`'s result, and its text, when it edited the same thing."""
        if not isinstance(other, RecipeChange) or other._key != self._key:
            return False
        self.after = other.after
        self.setText(other.text())  # a drag to σ 2.5 is undone as "sigma 2.5", not its first step
        return True

    @qt_virtual()
    def redo(self) -> None:
        """Apply the recipe after the change."""
        if self._applied:
            self._applied = False
            return
        self._controller.update(recipe=self.after)

    @qt_virtual()
    def undo(self) -> None:
        """Put the recipe before the change back."""
        self._controller.update(recipe=self.before)


def push_recipe(
    stack: QUndoStack,
    controller: Controller,
    recipe: Recipe,
    text: str,
    key: Hashable | None = None,
) -> bool:
    """Apply `recipe` through `stack`, as one undoable step; return whether it changed anything."""
    before = controller.recipe
    if recipe == before:
        return False
    stack.push(RecipeChange(controller, before, recipe, text, key))
    return True
