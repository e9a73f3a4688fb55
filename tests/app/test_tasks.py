"""Task: what a finished task still holds, and the failures it reports."""

import gc
import traceback
import weakref

import numpy as np

from kernelstudio.app import memory
from kernelstudio.app.tasks import Task


class Canvas:
    """Stands for a big array a job makes: weak-referenceable, unlike ndarray."""

    def __init__(self):
        self.pixels = np.zeros((256, 256, 3), np.uint8)


def run_and_wait(qtbot, task):
    outcomes = []
    task.signals.done.connect(lambda *outcome: outcomes.append(outcome))
    task.run()  # on this thread: the emission is direct
    qtbot.waitUntil(lambda: bool(outcomes))
    return outcomes[0]


def test_a_finished_task_holds_neither_its_function_nor_the_closure(qtbot):
    def make_task():
        canvas = Canvas()
        return Task(lambda: canvas.pixels.sum(), tag="export"), weakref.ref(canvas)

    task, alive = make_task()
    _, value, error = run_and_wait(qtbot, task)
    assert error is None
    assert value == 0
    gc.collect()
    assert alive() is None, "the task keeps what its function used"
    assert task._function is None
    assert task._tag is None


def test_a_failure_keeps_its_traceback_text_but_not_the_frames_variables(qtbot):
    def encode(canvas):
        data = canvas.pixels.tobytes()  # noqa: F841 - a local the frame would keep
        raise OSError("the folder does not exist")

    def save():
        canvas = Canvas()
        holder.append(weakref.ref(canvas))
        try:
            encode(canvas)
        except OSError as error:
            raise ValueError("Cannot save") from error

    holder = []
    task = Task(save, tag="export")
    _, value, error = run_and_wait(qtbot, task)
    gc.collect()
    assert value is None
    assert isinstance(error, ValueError)
    assert holder[0]() is None, "the exception's frames keep the canvas"
    text = "".join(traceback.format_exception(error))
    for part in ("in encode", "the folder does not exist", "in save"):
        assert part in text
    frame = error.__cause__.__traceback__.tb_next.tb_frame
    assert frame.f_locals == {}


def test_after_job_and_trim_never_fail():
    memory.after_job()
    memory.trim()
    free = memory.free_bytes()
    assert free is None or free >= 0
