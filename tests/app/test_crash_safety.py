"""Crashes and kills in processes of their own: no value kills the window, nor kill -9 work."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from kernelstudio.imageio import save_image

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


def driver_env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")}
    for name in ("config", "state", "data", "cache"):
        (home / name).mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(home / name)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_driver(scenario, home, image=None):
    command = [sys.executable, "-m", "tests.app.window_driver", scenario]
    if image is not None:
        command.append(str(image))
    return subprocess.run(
        command,
        env=driver_env(home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def reports(completed):
    assert completed.returncode == 0, (completed.returncode, completed.stderr[-3000:])
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert lines, completed.stdout + completed.stderr[-3000:]
    return [json.loads(line) for line in lines]


def last_report(completed):
    return reports(completed)[-1]


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(3).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    save_image(path, pixels)
    return path


def test_huge_weights_typed_or_imported_leave_the_window_alive(tmp_path):
    # Before the fix: 1e308 in two cells was a segmentation fault (exit 139).
    typed_huge, final = reports(run_driver("overflow", tmp_path / "home"))
    assert "too large" in typed_huge["refused"]["cell_0_0"]
    assert typed_huge["weights"][0][0] == 1e30  # the last value that was a weight
    # 2e38 + 2e38 is beyond float32: the second cell says so and is not applied.
    assert list(final["refused"]) == ["cell_2_2"]
    assert "float32 limit" in final["refused"]["cell_2_2"]
    assert final["weights"] == [[0, 0, 0], [0, 1, 0], [2e38, 0, 2000.0]]
    weights = np.array(final["weights"])
    assert np.isfinite(np.abs(weights).astype(np.float32).sum(dtype=np.float32))
    assert "float32 limit" in final["message"]  # the import was refused, and said so


def test_an_exception_inside_an_undo_command_is_reported_not_fatal(tmp_path):
    state = last_report(run_driver("inject", tmp_path / "home"))
    assert "injected failure" in state["message"]
    assert "keeps running" in state["message"]


def wait_for(predicate, timeout_s=TIMEOUT_S):
    """Poll `predicate` (a file another process writes) until it holds."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_kill_9_loses_nothing_older_than_a_second(tmp_path, photo):
    home = tmp_path / "home"
    session_file = home / "state" / "KernelStudio" / "Kernel Studio" / "session.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.app.window_driver", "type", str(photo)],
        env=driver_env(home),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        typed = json.loads(process.stdout.readline())
        assert typed["weights"][0][0] == -1
        shown_at = time.monotonic()

        def saved():
            try:
                stages = json.loads(session_file.read_text())["recipe"]["stages"]
                return stages[0]["weights"] == typed["weights"]
            except (OSError, ValueError):
                return False

        wait_for(saved)
        assert time.monotonic() - shown_at < 1.0
        process.send_signal(signal.SIGKILL)
        process.wait(TIMEOUT_S)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    state = last_report(run_driver("report", home))
    assert state["weights"] == typed["weights"]
    assert state["grid"] == typed["weights"]
    assert state["image_path"] == str(photo.resolve())
    assert "Restored your session from" in state["message"]

    # It closed normally this time: the next start restores quietly.
    state = last_report(run_driver("report", home))
    assert state["weights"] == typed["weights"]
    assert "Restored" not in state["message"]
