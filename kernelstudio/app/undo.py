"""Undo and redo of recipe changes, acting on the controller."""

from __future__ import annotations

from collections.abc import Hashable

from PySide6.QtGui import QUndoCommand, QUndoStack

from kernelstudio.app.controller import Controller
from kernelstudio.app.diagnostics import qt_virtual
from kernelstudio.pipeline import Recipe

UNDO_LIMIT = 100
"""Steps of the person's history kept (GIMP and Photoshop keep a few dozen by default).

Unlimited, a long session kept every recipe in memory and the autosave wrote
the whole history after every change: 5,000 changes slowed the window four
times and grew it by 40 to 60 MB. Typing into one cell, or a drag, is one step.
"""


class RecipeChange(QUndoCommand):
    """One change of the recipe: weights, a divisor, an option, a stage added.

    Consecutive changes with the same `key` (typing into one cell, say) merge
    into one step (:func:`push_recipe` merges them; Qt never does, see there);
    ``None`` makes a step of its own. `applied` is ``True`` for
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
        self.key = key
        self._applied = applied

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
    """Apply `recipe` through `stack`, as one undoable step; return whether it changed anything.

    A change with the `key` of the latest step, when nothing was undone since,
    becomes part of that step, with its text (a drag to σ 2.5 is undone as
    "sigma 2.5", not as its first step). It is merged here, not by Qt: a command
    Qt merges is deleted inside ``QUndoStack.push``, before PySide makes it the
    stack's child, and the stack then keeps its wrapper (and both its recipes)
    for as long as the stack lives.
    """
    before = controller.recipe
    if recipe == before:
        return False
    index = stack.index()
    latest = stack.command(index - 1) if index > 0 else None
    if (
        key is not None
        and isinstance(latest, RecipeChange)
        and latest.key == key
        and index == stack.count()
        and index != stack.cleanIndex()
    ):
        latest.after = recipe
        latest.setText(text)
        controller.update(recipe=recipe)
        # What QUndoStack says after a merge: the Edit menu shows the new text,
        # and whatever follows the index hears of the change.
        stack.indexChanged.emit(index)
        stack.undoTextChanged.emit(stack.undoText())
        return True
    stack.push(RecipeChange(controller, before, recipe, text, key))
    return True
