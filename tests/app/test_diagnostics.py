"""The rotating log file and the crash reporter: what is written, where, and what people see."""

import logging
import logging.handlers
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import QTimer

from kernelstudio.app import controller as controller_module
from kernelstudio.app import diagnostics
from kernelstudio.app.controller import Controller
from kernelstudio.app.diagnostics import (
    LOG_FILE_BACKUPS,
    LOG_FILE_BYTES,
    LOG_FILE_NAME,
    CrashReporter,
    default_log_folder,
    install_log_file,
)
from kernelstudio.kernels import PRESETS
from kernelstudio.samples import sample_image_path
from tests.app.test_main_window import wait_for_result

WAIT_MS = 10_000
PACKAGE_LOGGER = logging.getLogger("kernelstudio")


@pytest.fixture
def restore_logging():
    """Take away the handlers a test installs and give the package logger its level back."""
    handlers, level = list(PACKAGE_LOGGER.handlers), PACKAGE_LOGGER.level
    yield
    for handler in [h for h in PACKAGE_LOGGER.handlers if h not in handlers]:
        PACKAGE_LOGGER.removeHandler(handler)
        handler.close()
    PACKAGE_LOGGER.setLevel(level)


@pytest.fixture
def log_file(tmp_path, restore_logging):
    path = install_log_file(tmp_path / "state")
    assert path is not None
    return path


def read_log(path):
    for handler in PACKAGE_LOGGER.handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def log_handlers():
    return [h for h in PACKAGE_LOGGER.handlers if getattr(h, "kernelstudio_log_file", False)]


@pytest.fixture
def make_reporter():
    """Build crash reporters; every one installed is uninstalled again, newest first."""
    reporters = []

    def build(log_path, parent=None, *, install=True):
        reporter = CrashReporter(log_path, parent)
        if install:
            reporter.install()
            reporters.append(reporter)
        return reporter

    yield build
    for reporter in reversed(reporters):
        reporter.uninstall()


@pytest.fixture
def controller(qtbot):
    controller = Controller()
    yield controller
    controller.shutdown()


def tiny_image():
    return np.random.default_rng(4).integers(0, 256, (12, 12, 3), dtype=np.uint8)


# The log file ------------------------------------------------------------------------


def test_install_creates_a_rotating_log_in_the_folder(tmp_path, restore_logging):
    folder = tmp_path / "not" / "yet" / "there"
    path = install_log_file(folder)
    assert path == folder / LOG_FILE_NAME
    assert path.is_file()
    (handler,) = log_handlers()
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (LOG_FILE_BYTES, LOG_FILE_BACKUPS)
    assert PACKAGE_LOGGER.level == logging.INFO
    logging.getLogger("kernelstudio.anywhere").info("hello %s", "log")
    (line,) = read_log(path).splitlines()
    assert line.endswith(" INFO     MainThread kernelstudio.anywhere: hello log")


def test_by_default_the_log_goes_to_the_users_state_folder(tmp_path, monkeypatch, restore_logging):
    state = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    path = install_log_file()
    assert path == default_log_folder() / LOG_FILE_NAME
    assert path.is_file()
    assert path.is_relative_to(state)


def test_installing_again_moves_the_log_and_writes_every_record_once(tmp_path, restore_logging):
    first = install_log_file(tmp_path / "first")
    second = install_log_file(tmp_path / "second")
    PACKAGE_LOGGER.info("only once")
    assert len(log_handlers()) == 1
    assert read_log(second).count("only once") == 1
    assert "only once" not in read_log(first)


def test_the_log_rotates_past_its_size_and_keeps_its_backups(
    tmp_path, monkeypatch, restore_logging
):
    monkeypatch.setattr(diagnostics, "LOG_FILE_BYTES", 4_000)
    path = install_log_file(tmp_path)
    writer = logging.getLogger("kernelstudio.test")
    for number in range(400):
        writer.info("record %04d %s", number, "x" * 60)
    read_log(path)
    backups = [f"{LOG_FILE_NAME}.{n}" for n in range(1, LOG_FILE_BACKUPS + 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG_FILE_NAME, *backups]
    assert all((tmp_path / name).stat().st_size <= 4_000 for name in [LOG_FILE_NAME, *backups])
    assert "record 0399" in path.read_text(encoding="utf-8")
    # Newest first: the current file, then .1, .2 …; the oldest records are gone.
    numbers = [
        [int(line.split("record ")[1][:4]) for line in (tmp_path / name).read_text().splitlines()]
        for name in [LOG_FILE_NAME, *backups]
    ]
    flat = [n for chunk in reversed(numbers) for n in chunk]
    assert flat == list(range(flat[0], 400))
    assert flat[0] > 0


def test_the_real_limit_rotates_after_about_a_megabyte(tmp_path, restore_logging):
    path = install_log_file(tmp_path)
    writer = logging.getLogger("kernelstudio.test")
    record = "y" * 1_000
    for _ in range(LOG_FILE_BYTES // len(record) + 50):
        writer.info(record)
    read_log(path)
    backup = tmp_path / f"{LOG_FILE_NAME}.1"
    assert backup.is_file()
    assert LOG_FILE_BYTES - 2_000 < backup.stat().st_size <= LOG_FILE_BYTES
    assert path.stat().st_size < LOG_FILE_BYTES


def _under_a_file(tmp_path):
    (tmp_path / "plain.txt").write_text("a file, not a folder")
    return tmp_path / "plain.txt" / "logs"


def _log_name_taken_by_a_folder(tmp_path):
    (tmp_path / "logs" / LOG_FILE_NAME).mkdir(parents=True)
    return tmp_path / "logs"


@pytest.mark.parametrize("make_folder", [_under_a_file, _log_name_taken_by_a_folder])
def test_an_unwritable_folder_means_no_log_but_no_failure(
    tmp_path, capsys, restore_logging, make_folder
):
    working = install_log_file(tmp_path / "working")
    assert install_log_file(make_folder(tmp_path)) is None
    assert "kernelstudio: no log file" in capsys.readouterr().err
    PACKAGE_LOGGER.info("still logged")
    assert "still logged" in read_log(working)


# What the log says ---------------------------------------------------------------------


def test_loading_computing_and_exporting_are_logged(qtbot, log_file, make_window, tmp_path):
    window = make_window()
    result_path, kernel_path = tmp_path / "result.png", tmp_path / "mine.json"
    for export, path in ((window.export_result, result_path), (window.export_kernel, kernel_path)):
        with qtbot.waitSignal(window.controller.saved, timeout=WAIT_MS):
            export(path)
    lines = read_log(log_file).splitlines()
    sample = sample_image_path().name

    def logged(words):
        return [line for line in lines if " INFO " in line and words in line]

    assert logged(f"kernelstudio.app.controller: loaded {sample} ((400, 600, 3), uint8)")
    assert logged("computed 400×600×3 with a 3×3 kernel, border mirror")
    assert logged(f"saved {result_path}")
    assert logged(f"saved {kernel_path}")


def test_expected_failures_are_one_line_each(qtbot, controller, log_file, tmp_path):
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(tiny_image(), "tiny")
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS):
        controller.load_path(tmp_path / "missing.png")
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS):
        controller.export_result(tmp_path / "no-such-folder" / "result.png")
    lines = read_log(log_file).splitlines()
    warnings = [line for line in lines if " WARNING " in line]
    assert len(warnings) == 2
    assert "load failed: " in warnings[0]
    assert "missing.png" in warnings[0]
    assert "export failed: " in warnings[1]
    assert "result.png" in warnings[1]
    assert "Traceback" not in "\n".join(lines)


def test_unexpected_failures_are_logged_with_their_traceback(
    qtbot, controller, log_file, monkeypatch
):
    with qtbot.waitSignal(controller.renderingReady, timeout=WAIT_MS):
        controller.load_pixels(tiny_image(), "tiny")

    def broken_render(*args):
        raise RuntimeError("kaboom in the worker")

    monkeypatch.setattr(controller_module, "_render", broken_render)
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS):
        controller.update(weights=PRESETS["sharpen"])
    text = read_log(log_file)
    assert " ERROR    " in text
    assert "render failed unexpectedly" in text
    assert "Traceback (most recent call last):" in text
    assert 'in broken_render\n    raise RuntimeError("kaboom in the worker")' in text
    assert text.rstrip().endswith("RuntimeError: kaboom in the worker")


def test_errors_the_window_reports_are_logged_too(qtbot, log_file, window, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"weights": [[1, 2]]}', encoding="utf-8")
    window.import_kernel(broken)
    assert "broken.json" in window.message_bar.text
    assert "broken.json" in read_log(log_file)


# The crash reporter -------------------------------------------------------------------------


def _raise_in_a_slot():
    raise ZeroDivisionError("a slot divided by zero")


def test_an_exception_in_a_qt_slot_is_logged_and_told(qtbot, log_file, make_reporter):
    reporter = make_reporter(log_file)
    with qtbot.waitSignal(reporter.crashed, timeout=WAIT_MS) as blocker:
        QTimer.singleShot(0, _raise_in_a_slot)
    message = blocker.args[0]
    assert message.startswith("Something went wrong (ZeroDivisionError: a slot divided by zero)")
    assert "keeps running" in message
    assert f"Details are in {log_file}." in message
    text = read_log(log_file)
    assert " CRITICAL MainThread kernelstudio: uncaught exception" in text
    assert "Traceback (most recent call last):" in text
    assert "in _raise_in_a_slot" in text
    assert "ZeroDivisionError: a slot divided by zero" in text
    ran = []
    QTimer.singleShot(0, lambda: ran.append(True))
    qtbot.waitUntil(lambda: ran == [True], timeout=WAIT_MS)  # the event loop goes on


def test_an_exception_in_a_thread_is_logged_and_told_on_the_gui_thread(
    qtbot, log_file, make_reporter
):
    reporter = make_reporter(log_file)
    delivered_on = []
    reporter.crashed.connect(lambda text: delivered_on.append(threading.current_thread()))

    def work():
        raise KeyError("lost in a thread")

    thread = threading.Thread(target=work, name="crashing-worker")
    with qtbot.waitSignal(reporter.crashed, timeout=WAIT_MS) as blocker:
        thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    assert "KeyError: 'lost in a thread'" in blocker.args[0]
    assert str(log_file) in blocker.args[0]
    assert delivered_on == [threading.main_thread()]
    text = read_log(log_file)
    assert " CRITICAL crashing-worker kernelstudio: uncaught exception" in text
    assert "in work\n" in text
    assert "KeyError: 'lost in a thread'" in text


def test_the_crash_message_shows_in_the_window_which_keeps_working(
    qtbot, log_file, make_reporter, window
):
    # As launch.run_app wires it; run_app itself runs app.exec() and cannot be called here.
    reporter = make_reporter(log_file, window)
    reporter.crashed.connect(window.message_bar.show_message)
    with qtbot.waitSignal(reporter.crashed, timeout=WAIT_MS):
        QTimer.singleShot(0, _raise_in_a_slot)
    assert "a slot divided by zero" in window.message_bar.text
    assert str(log_file) in window.message_bar.text
    window.set_kernel(PRESETS["outline"])
    rendering = wait_for_result(qtbot, window, PRESETS["outline"])
    assert rendering.result8.dtype == np.uint8


def test_without_a_log_file_the_message_does_not_promise_one(qtbot, make_reporter):
    reporter = make_reporter(None, install=False)
    with qtbot.waitSignal(reporter.crashed, timeout=WAIT_MS) as blocker:
        reporter.report(ValueError, ValueError("no log"), None)
    assert "ValueError: no log" in blocker.args[0]
    assert "Details" not in blocker.args[0]


def test_install_and_uninstall_swap_both_hooks(log_file, make_reporter):
    before = (sys.excepthook, threading.excepthook)
    reporter = make_reporter(log_file)
    assert sys.excepthook == reporter.report
    assert threading.excepthook is not before[1]
    reporter.uninstall()
    assert sys.excepthook is before[0]
    assert threading.excepthook is before[1]


def test_keyboard_interrupt_goes_to_the_previous_hook(qtbot, monkeypatch, log_file, make_reporter):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, traceback: seen.append(kind))
    reporter = make_reporter(log_file, install=False)
    with qtbot.assertNotEmitted(reporter.crashed):
        reporter.report(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert seen == [KeyboardInterrupt]
    assert "KeyboardInterrupt" not in read_log(log_file)


class _UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("str() of this exception fails")


def test_an_exception_that_cannot_be_printed_is_still_reported(qtbot, log_file, make_reporter):
    reporter = make_reporter(log_file, install=False)
    with qtbot.waitSignal(reporter.crashed, timeout=WAIT_MS) as blocker:
        reporter.report(_UnprintableError, _UnprintableError(), None)
    assert "_UnprintableError" in blocker.args[0]
    assert "_UnprintableError" in read_log(log_file)


def test_a_thread_ending_with_system_exit_is_not_a_crash(qtbot, qapp, log_file, make_reporter):
    reporter = make_reporter(log_file)
    told = []
    reporter.crashed.connect(told.append)
    thread = threading.Thread(target=sys.exit, args=(0,))
    thread.start()
    thread.join(timeout=WAIT_MS / 1000)
    qapp.processEvents()
    assert told == []


@pytest.mark.qt_no_exception_capture
def test_every_event_filter_we_override_reports_instead_of_unwinding(monkeypatch, window):
    from kernelstudio.app.kernel_editor import LeaveShortcutsToWindow
    from kernelstudio.app.launch import FileOpenFilter

    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, trace: seen.append(kind))
    shortcuts = window.findChildren(LeaveShortcutsToWindow)
    assert shortcuts  # the grid's, the spin boxes', the number fields'
    window.start_tutorial()  # its filter watches the tutorial's dock while it runs
    watching = [(window.views, window), *((shortcut, window) for shortcut in shortcuts)]
    watching += [(window.tutorial, window.walkthrough_dock), (FileOpenFilter(window), window)]
    filters = [instance for instance, _watched in watching]
    for instance, watched in watching:
        # No event at all: the body fails at once, as an injected bug would.
        assert instance.eventFilter(watched, None) is False
    assert seen == [AttributeError] * len(filters)
