"""One window per user: a second launch hands its file to the first and exits.

The first instance listens on a local socket named after the user; a later
``kernelstudio photo.jpg`` (for instance "Open With" in a file manager) connects,
sends the path, and the running window opens it in place of its image.
"""

from __future__ import annotations

import getpass
import json
import logging
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 300


def server_name() -> str:
    """Return the local socket name shared by this user's instances."""
    user = re.sub(r"[^\w-]", "_", getpass.getuser())
    return f"kernelstudio-{user}"


def send_to_running_instance(path: str, name: str | None = None) -> bool:
    """Ask a running instance to open `path`; return whether one took it.

    Parameters
    ----------
    path : str
        Absolute path of the file to open.
    name : str, optional
        Socket name; :func:`server_name` by default.
    """
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(json.dumps({"open": path}).encode("utf-8") + b"\n")
    delivered = socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    socket.disconnectFromServer()
    return delivered


def _answers(name: str) -> bool:
    probe = QLocalSocket()
    probe.connectToServer(name)
    connected = probe.waitForConnected(CONNECT_TIMEOUT_MS)
    probe.abort()
    return connected


class InstanceServer(QObject):
    """Listens for later launches and announces the files they ask to open.

    Signals
    -------
    openRequested(str)
        Another launch asked this instance to open a path.
    """

    openRequested = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)
        # Asked first: with socket options Qt's listen() replaces a live socket
        # file instead of failing. A live instance keeps its socket (this window
        # then does not receive files from later launches); a file nobody
        # answers on is a crashed instance's leftover and can go.
        if _answers(self.name):
            log.info("another Kernel Studio listens on %s", self.name)
            return
        QLocalServer.removeServer(self.name)
        if not self._server.listen(self.name):
            log.warning("cannot listen on %s: %s", self.name, self._server.errorString())

    @property
    def is_listening(self) -> bool:
        """Whether later launches can reach this instance."""
        return self._server.isListening()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(socket.deleteLater)

    def _on_ready_read(self) -> None:
        socket = self.sender()
        while socket.canReadLine():
            line = bytes(socket.readLine()).decode("utf-8", errors="replace")
            try:
                path = json.loads(line)["open"]
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring a malformed request from another launch: %r", line)
                continue
            if isinstance(path, str):
                self.openRequested.emit(path)
