"""Whole processes: ``kernelstudio apply`` against a cv2 script, libvips and ImageMagick.

Run with ``.venv/bin/python -m benchmarks.cli [--runs 3]``. In a temporary
folder it makes one 12 MP RGB BMP and twenty 6 MP JPEGs, then times each
command as a fresh process applying a 3×3 Gaussian (mirror border, the cv2
default): one image, and the twenty in one call (or a loop, for the programs
that take one file). It prints, per command, the median wall time with its
spread over the runs, the median peak memory of the process and its children
(``ru_maxrss`` from ``os.wait4``), and both as ratios to the cv2 script's. The
images are made by a child process, so that this one stays small: a child's
peak counts what its parent held when it started (about 12 MiB here).
libvips (``vips``) and ImageMagick (``/usr/bin/convert``; ``/usr/local/bin``'s
is not ImageMagick here) are timed where installed. Children run without
``PYTHONDONTWRITEBYTECODE`` (set on the machines we measure on), so that Python
programs start from their bytecode, as an installed program does: compiling
Kernel Studio's modules afresh took 0.1 s of every run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CHILD_ENVIRONMENT = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}

KERNEL = "1/16 1/8 1/16; 1/8 1/4 1/8; 1/16 1/8 1/16"
IMAGEMAGICK = Path("/usr/bin/convert")
# The six lines the issue compares with: read, filter2D, write, for each input.
CV2_SCRIPT = textwrap.dedent(
    """\
    import sys, cv2, numpy as np
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16
    folder, sources = sys.argv[1], sys.argv[2:]
    for source in sources:
        image = cv2.imread(source, cv2.IMREAD_UNCHANGED)
        cv2.imwrite(f"{folder}/{source.rsplit('/', 1)[-1]}", cv2.filter2D(image, -1, kernel))
    """
)
VIPS_MASK = "3 3 16 0\n1 2 1\n2 4 2\n1 2 1\n"
IMAGEMAGICK_KERNEL = "3x3: 0.0625,0.125,0.0625 0.125,0.25,0.125 0.0625,0.125,0.0625"


@dataclass(frozen=True)
class Timing:
    """The runs of one command: wall seconds and peak resident MiB of each."""

    name: str
    seconds: list[float]
    peak_mib: list[float]

    @property
    def median_seconds(self) -> float:
        """Return the median wall time."""
        return statistics.median(self.seconds)

    @property
    def median_peak(self) -> float:
        """Return the median peak memory."""
        return statistics.median(self.peak_mib)


def tree_pss_mib(root: int) -> float:
    """Return the proportional set size of `root` and all its descendants, in MiB."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grown = {root}, True
    while grown:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= found
        grown = bool(found)
    total_kib = 0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total_kib += sum(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
    return total_kib / 1024


def run_once(command: list[str]) -> tuple[float, float]:
    """Run `command`; return its wall seconds and the peak MiB of it and its children.

    The peak is the larger of ``ru_maxrss`` (from ``os.wait4``: the process and
    the children it waited for) and the sum of the whole process tree's
    proportional set sizes sampled every 50 ms, which also counts processes the
    command did not wait for itself (the workers of ``--jobs``, children of
    multiprocessing's fork server), and their shared pages once.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=CHILD_ENVIRONMENT
    )
    sampled = [0.0]
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            sampled[0] = max(sampled[0], tree_pss_mib(process.pid))
            time.sleep(0.05)  # a scan costs about 2 ms of one core

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    running.clear()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}): {errors.strip()}")
    return elapsed, max(usage.ru_maxrss / 1024, sampled[0])


def time_command(name: str, make_command, runs: int, work: Path) -> Timing:
    """Time `runs` runs of ``make_command(output_folder)``, each into a fresh folder."""
    seconds, peaks = [], []
    for run in range(runs + 1):
        folder = work / f"{name.replace(' ', '_').replace('/', '_')}-{run}"
        folder.mkdir()
        elapsed, peak = run_once(make_command(folder))
        shutil.rmtree(folder)
        if run:  # the first run warms the file cache and the imports
            seconds.append(elapsed)
            peaks.append(peak)
    return Timing(name, seconds, peaks)


def make_images(folder: Path) -> None:
    """Write one 12 MP RGB BMP and twenty 6 MP JPEGs of smooth gradients and noise."""
    import cv2  # here only: the process that times the others stays small
    import numpy as np

    generator = np.random.default_rng(17)

    def photo(height: int, width: int) -> np.ndarray:
        rows = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
        columns = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
        tint = np.array([1.0, 0.7, 0.4], np.float32)
        noise = generator.normal(0, 12, (height, width, 3)).astype(np.float32)
        return np.clip((rows + columns) / 2 * tint + noise, 0, 255).astype(np.uint8)

    single = folder / "single.bmp"
    cv2.imwrite(str(single), photo(3000, 4000))
    batch = folder / "batch"
    batch.mkdir()
    base = photo(2000, 3000)
    for number in range(20):
        cv2.imwrite(str(batch / f"photo{number:02d}.jpg"), np.roll(base, 97 * number, axis=1))


def commands(work: Path, single: Path, photos: list[Path]) -> list[tuple[str, object]]:
    """Return (name, make_command) for every command to time; make_command takes a folder."""
    kernelstudio = str(Path(sys.executable).with_name("kernelstudio"))
    script = work / "cv2_filter.py"
    script.write_text(CV2_SCRIPT)
    mask = work / "gaussian.mat"
    mask.write_text(VIPS_MASK)
    names = [str(path) for path in photos]
    listed = [
        ("cv2 script, one", lambda out: [sys.executable, str(script), str(out), str(single)]),
        (
            "kernelstudio, one",
            lambda out: [kernelstudio, "apply", str(single), "-k", KERNEL, "-o", str(out)],
        ),
        ("cv2 script, twenty", lambda out: [sys.executable, str(script), str(out), *names]),
        (
            "kernelstudio, twenty",
            lambda out: [kernelstudio, "apply", *names, "-k", KERNEL, "-o", str(out)],
        ),
        (
            "kernelstudio --jobs 1, twenty",
            lambda out: [kernelstudio, "apply", *names, "-k", KERNEL, "-o", str(out), "-j", "1"],
        ),
    ]
    vips = shutil.which("vips")
    if vips:
        listed.append(
            (
                "vips conv, one",
                lambda out: [vips, "conv", str(single), f"{out}/out.bmp", str(mask)],
            )
        )
        loop = f'for f in "$@"; do {vips} conv "$f" "$0/${{f##*/}}" {mask}; done'
        listed.append(("vips conv loop, twenty", lambda out: ["sh", "-c", loop, str(out), *names]))
    if IMAGEMAGICK.exists():
        listed.append(
            (
                "ImageMagick, one",
                lambda out: [
                    str(IMAGEMAGICK),
                    str(single),
                    "-morphology",
                    "Convolve",
                    IMAGEMAGICK_KERNEL,
                    f"{out}/out.bmp",
                ],
            )
        )
    return listed


def report(timings: list[Timing]) -> None:
    """Print each timing with its spread and its ratios to the cv2 script's."""
    by_name = {timing.name: timing for timing in timings}
    print(f"{'command':<32} {'wall s (min–max)':>20} {'peak MiB (min–max)':>20}  vs cv2")
    for timing in timings:
        reference = by_name["cv2 script, twenty" if "twenty" in timing.name else "cv2 script, one"]
        wall = f"{timing.median_seconds:.2f} ({min(timing.seconds):.2f}–{max(timing.seconds):.2f})"
        peak = f"{timing.median_peak:.0f} ({min(timing.peak_mib):.0f}–{max(timing.peak_mib):.0f})"
        ratios = (
            f"×{timing.median_seconds / reference.median_seconds:.2f} time, "
            f"×{timing.median_peak / reference.median_peak:.2f} memory"
        )
        print(f"{timing.name:<32} {wall:>20} {peak:>20}  {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command")
    parser.add_argument("--make-images", metavar="FOLDER", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.make_images:
        make_images(Path(options.make_images))
        return
    with tempfile.TemporaryDirectory(prefix="kernelstudio-cli-bench-") as folder:
        work = Path(folder)
        subprocess.run(
            [sys.executable, "-m", "benchmarks.cli", "--make-images", folder], check=True
        )
        single, photos = work / "single.bmp", sorted((work / "batch").glob("*.jpg"))
        timings = [
            time_command(name, make_command, options.runs, work)
            for name, make_command in commands(work, single, photos)
        ]
    print(f"{os.cpu_count()} cores, median of {options.runs} runs after one warm-up run")
    report(timings)


if __name__ == "__main__":
    main()
