"""Cold start: process start → first result painted, for the installed command.

Run with ``.venv/bin/python -m benchmarks.startup [COMMAND ...]``; by default it
times ``.venv/bin/kernelstudio``, or the PyInstaller bundle given as COMMAND. Each
run starts a fresh process offscreen with ``--quit-after-first-result`` and an
empty settings folder, and the clock stops when the process reports the first
painted result. Prints the median of the runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def time_start(command: list[str]) -> float:
    with tempfile.TemporaryDirectory() as config:
        environment = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=config)
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--quit-after-first-result"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        for line in process.stdout:
            if line.startswith("first result painted"):
                elapsed = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{command[0]} never painted a result")
        process.wait(timeout=60)
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = str(Path(sys.executable).with_name("kernelstudio"))
    parser.add_argument("command", nargs="*", default=[default], help="how to start the app")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    time_start(options.command)  # warm the file cache: "cold" means a new process
    times = [time_start(options.command) for _ in range(options.runs)]
    print(
        f"{' '.join(options.command)}: process start → first result painted, median "
        f"{1000 * statistics.median(times):.0f} ms (min {1000 * min(times):.0f}, "
        f"max {1000 * max(times):.0f}) over {options.runs} runs"
    )


if __name__ == "__main__":
    main()
