"""Launching: start-up objects leave the garbage collector's sweeps; a second
launch hands its file to the running window."""

import gc
import uuid
import weakref

import cv2
import numpy as np
import pytest
from PySide6.QtNetwork import QLocalServer

from kernelstudio.app.launch import freeze_after_first_result, freeze_startup_objects
from kernelstudio.app.single_instance import InstanceServer, send_to_running_instance


class Node:
    pass


def test_start_up_objects_are_frozen_once_garbage_is_collected():
    cycle = Node()
    cycle.itself = cycle
    collected = weakref.ref(cycle)
    del cycle
    survivor = Node()
    survivor.itself = survivor
    try:
        freeze_startup_objects()
        assert collected() is None
        assert gc.get_freeze_count() > 0
        assert all(tracked is not survivor for tracked in gc.get_objects())
    finally:
        gc.unfreeze()


def test_objects_are_frozen_once_the_first_result_is_shown(qtbot):
    from kernelstudio.app import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    gc.unfreeze()
    freeze_after_first_result(window)
    assert gc.get_freeze_count() == 0
    try:
        window.show()
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=10_000)
        assert window.controller.rendering is not None
    finally:
        gc.unfreeze()


@pytest.fixture
def name():
    return f"kernelstudio-test-{uuid.uuid4().hex[:12]}"


def test_a_second_launch_sends_its_file(qtbot, name):
    server = InstanceServer(name)
    assert server.is_listening
    with qtbot.waitSignal(server.openRequested, timeout=5_000) as request:
        assert send_to_running_instance("/photos/café 1.jpg", name)
    assert request.args == ["/photos/café 1.jpg"]


def test_without_a_running_instance_nothing_is_sent(name):
    assert not send_to_running_instance("/photos/a.jpg", name)


def test_a_stale_socket_left_by_a_crash_is_replaced(qtbot, name):
    leftover = QLocalServer()
    assert leftover.listen(name)
    path = leftover.fullServerName()
    leftover.close()
    open(path, "w").close()  # what a killed process leaves behind
    server = InstanceServer(name)
    assert server.is_listening
    with qtbot.waitSignal(server.openRequested, timeout=5_000):
        assert send_to_running_instance("/x.png", name)


def test_malformed_requests_are_ignored(qtbot, name):
    from PySide6.QtNetwork import QLocalSocket

    server = InstanceServer(name)
    socket = QLocalSocket()
    socket.connectToServer(name)
    assert socket.waitForConnected(1_000)
    with qtbot.assertNotEmitted(server.openRequested, wait=300):
        socket.write(b"not json\n")
        socket.write(b'{"open": 5}\n')
        socket.flush()
    socket.disconnectFromServer()


def test_the_window_replaces_its_image_with_the_sent_file(qtbot, window, name, tmp_path):
    rgb = np.random.default_rng(9).integers(0, 256, size=(21, 34, 3)).astype(np.uint8)
    path = tmp_path / "second.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    server = InstanceServer(name, parent=window)
    server.openRequested.connect(window.open_from_elsewhere)
    with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
        assert send_to_running_instance(str(path), name)
    np.testing.assert_array_equal(window.controller.image.pixels, rgb)


def test_finder_file_open_events_reach_the_window(qtbot, qapp, window, tmp_path):
    from PySide6.QtGui import QFileOpenEvent

    from kernelstudio.app.launch import FileOpenFilter

    rgb = np.random.default_rng(10).integers(0, 256, size=(9, 12, 3)).astype(np.uint8)
    path = tmp_path / "finder.png"
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    file_opener = FileOpenFilter(window)
    qapp.installEventFilter(file_opener)
    try:
        with qtbot.waitSignal(window.controller.imageLoaded, timeout=10_000):
            qapp.sendEvent(qapp, QFileOpenEvent(str(path)))
    finally:
        qapp.removeEventFilter(file_opener)
    np.testing.assert_array_equal(window.controller.image.pixels, rgb)


def test_a_second_server_does_not_steal_a_live_instances_socket(qtbot, name):
    first = InstanceServer(name)
    second = InstanceServer(name)
    assert first.is_listening
    assert not second.is_listening
    with qtbot.waitSignal(first.openRequested, timeout=5_000):
        assert send_to_running_instance("/photos/a.png", name)
