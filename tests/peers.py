"""Find and run the real image programs (ImageMagick, libvips, G'MIC) that tests compare with.

Outside CI a missing program skips the test with the reason; with ``CI=true``
it fails, because CI installs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from kernelstudio.imageio import load_image, save_image

_CANDIDATES = {
    # /usr/local/bin/convert may be a stand-in: only a binary whose -version
    # says ImageMagick counts, magick (IM 7) first.
    "imagemagick": ("magick", "/usr/bin/convert", "convert"),
    "vips": ("vips",),
    "gmic": ("gmic",),
}
_SIGNATURES = {"imagemagick": "ImageMagick", "vips": "vips", "gmic": "gmic"}


@cache
def find_program(name: str) -> str | None:
    """Return the path of the real `name` program, or ``None`` when it is not installed."""
    for candidate in _CANDIDATES[name]:
        path = shutil.which(candidate)
        if path is None:
            continue
        try:
            answer = subprocess.run(
                [path, "--version" if name == "vips" else "-version"],
                capture_output=True,
                text=True,
                timeout=30,
                env=program_environment(),
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if _SIGNATURES[name].lower() in (answer.stdout + answer.stderr).lower():
            return path
    return None


def require_program(name: str) -> str:
    """Return the program's path; skip (or, under ``CI=true``, fail) when it is missing."""
    path = find_program(name)
    if path is None:
        reason = f"{name} is not installed (looked for {', '.join(_CANDIDATES[name])})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must install it")
        pytest.skip(reason)
    return path


def program_environment() -> dict[str, str]:
    """The environment the programs run in: G'MIC wants a writable HOME for its cache."""
    environment = dict(os.environ)
    home = Path(environment.get("HOME", "/nonexistent"))
    if not os.access(home, os.W_OK):
        environment["HOME"] = str(Path(os.environ.get("TMPDIR", "/tmp")))
    return environment


def run_shell(script: str, cwd: Path) -> None:
    """Run shell text with sh; fail the test with its error output when it fails."""
    done = subprocess.run(
        ["sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=program_environment(),
    )
    if done.returncode != 0:
        pytest.fail(f"command failed ({done.returncode}):\n{script}\n{done.stderr}")


def run_program(arguments: list[str], cwd: Path) -> None:
    """Run a program's argument list; fail the test with its error output when it fails."""
    done = subprocess.run(
        arguments, cwd=cwd, capture_output=True, text=True, timeout=60, env=program_environment()
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(arguments)} failed ({done.returncode}):\n{done.stderr}")


def sample_images(seed: int = 7) -> dict[str, np.ndarray]:
    """Small odd-sized 8-bit test images: RGB 37×23, grey 29×19 and RGBA 21×17."""
    generator = np.random.default_rng(seed)
    # Smooth areas and noise, so that kernels see both ramps and edges.
    ramp = np.add.outer(np.arange(23) * 9, np.arange(37) * 5) % 256
    rgb = np.stack([ramp, 255 - ramp, generator.integers(0, 256, (23, 37))], axis=-1)
    return {
        "rgb": rgb.astype(np.uint8),
        "grey": generator.integers(0, 256, (19, 29)).astype(np.uint8),
        "rgba": generator.integers(0, 256, (17, 21, 4)).astype(np.uint8),
    }


def write_image(path: Path, image: np.ndarray) -> Path:
    """Save `image` as PNG at `path` and return the path."""
    save_image(path, image)
    return path


def read_image(path: Path, *, alpha: bool = False) -> np.ndarray:
    """Read a program's 8-bit output; fail when it is not 8-bit."""
    pixels = load_image(path, alpha=alpha)
    assert pixels.dtype == np.uint8, f"{path.name} is {pixels.dtype}, not 8-bit"
    return pixels


def agreement(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float, int]:
    """Return the shares of values equal and within ±1, and the largest difference."""
    assert ours.shape == theirs.shape, f"shapes differ: ours {ours.shape}, theirs {theirs.shape}"
    difference = np.abs(ours.astype(np.int32) - theirs.astype(np.int32))
    return float(np.mean(difference == 0)), float(np.mean(difference <= 1)), int(difference.max())
