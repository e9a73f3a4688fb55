"""A monkey in the suite: seeded random actions on the real window, every control checked.

The seed comes from KERNELSTUDIO_MONKEY_SEED (default below) and is printed on failure:
``KERNELSTUDIO_MONKEY_SEED=123 .venv/bin/python -m pytest -q tests/app/test_monkey.py``.
The actions and the invariants are in tests/app/monkey.py.
"""

import gc
import logging
import os
import threading
import time

import pytest
from PySide6.QtCore import QTimer, qWarning

from tests.app.monkey import Monkey, Trap, main_image
from tests.app.test_soak import resident_bytes
from tests.corpus import deny_reading

DEFAULT_SEED = 20240601
ACTIONS = 500
SLOW_ACTIONS = 5_000
WARM_UP_ACTIONS = 500
RSS_LIMIT_MB = 50


@pytest.fixture
def seed():
    return int(os.environ.get("KERNELSTUDIO_MONKEY_SEED", DEFAULT_SEED))


@pytest.fixture
def trap():
    """Uncaught exceptions, Qt warnings and logged errors, collected for every check."""
    trap = Trap()
    trap.install()
    yield trap
    trap.uninstall()


@pytest.fixture
def monkey(qtbot, make_window, corpus, monkeypatch, tmp_path, seed, trap):
    for case in corpus.values():
        deny_reading(monkeypatch, case)  # root reads a mode-000 file; a person could not
    path, _ = main_image(tmp_path, seed)
    window = make_window(path)
    folder = tmp_path / "monkey"
    folder.mkdir()
    monkey = Monkey(window, qtbot, seed, folder, corpus, trap, path)
    monkey.settle()
    monkey.check()
    return monkey


def test_the_trap_hears_every_kind_of_failure_and_ignores_only_the_listed_line(qtbot, trap):
    def explode():
        raise RuntimeError("exploded")

    QTimer.singleShot(0, explode)  # an exception in a slot goes to sys.excepthook
    qtbot.waitUntil(lambda: bool(trap.problems))
    worker = threading.Thread(target=explode)
    worker.start()
    worker.join()
    qWarning("This plugin does not support propagateSizeHints()")
    qWarning("a real warning")
    logging.getLogger("kernelstudio.app.controller").error("render failed unexpectedly")
    logging.getLogger("kernelstudio.app.controller").warning("told the person: bad file")
    problems = trap.take()
    assert len(problems) == 4, problems
    assert problems[0].startswith("uncaught: ")
    assert "RuntimeError: exploded" in problems[0]
    assert problems[1].startswith("uncaught in thread")
    assert "exploded" in problems[1]
    assert problems[2] == "Qt QtWarningMsg: a real warning"
    assert problems[3] == "logged ERROR: render failed unexpectedly"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 2e38 weights overflow to infinity
def test_monkey_keeps_every_control_true_to_the_state(monkey):
    monkey.run(ACTIONS)
    monkey.finish()
    print(f"\nmonkey seed {monkey.seed}: {sorted(monkey.counts.items())}")
    assert len(monkey.counts) == len(monkey._actions), "an action was never chosen"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_five_thousand_monkey_actions_keep_memory_flat(monkey, record_property):
    monkey.run(WARM_UP_ACTIONS)
    gc.collect()
    before = resident_bytes()
    started = time.perf_counter()
    monkey.run(SLOW_ACTIONS - WARM_UP_ACTIONS)
    seconds = time.perf_counter() - started
    gc.collect()
    growth_mb = (resident_bytes() - before) / 2**20
    monkey.finish()
    rate = (SLOW_ACTIONS - WARM_UP_ACTIONS) / seconds
    print(
        f"\nmonkey seed {monkey.seed}: {SLOW_ACTIONS} actions, {rate:.1f} actions/s, "
        f"resident memory grew {growth_mb:.1f} MB after {WARM_UP_ACTIONS} warm-up actions"
    )
    record_property("seed", monkey.seed)
    record_property("actions_per_second", round(rate, 1))
    record_property("rss_growth_mb", round(growth_mb, 2))
    assert growth_mb < RSS_LIMIT_MB
    assert monkey.controller.recipe == monkey.first_recipe
