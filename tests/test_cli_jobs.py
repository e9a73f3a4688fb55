"""`kernelstudio apply --jobs N`: several inputs at once, the same files as one by one."""

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from kernelstudio.display import white_level
from kernelstudio.imageio import load_image
from kernelstudio.pipeline import Recipe, render, to_display
from kernelstudio.streaming import streams

KERNEL = "1 2 1; 2 4 2; 1 2 1"
# Tall enough that the 8-bit path makes them band by band.
SHAPES = {"a.png": (900, 1000, 3), "b.png": (700, 1100, 4), "c.tif": (800, 900, 3)}


def write_inputs(folder, seed=0):
    generator = np.random.default_rng(seed)
    paths = []
    for name, shape in SHAPES.items():
        dtype = np.uint16 if name.endswith(".tif") else np.uint8
        pixels = generator.integers(0, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
        path = folder / name
        assert cv2.imwrite(str(path), pixels)
        paths.append(path)
    return paths


def listing(folder):
    return sorted(path.name for path in folder.iterdir())


def test_jobs_write_the_bytes_that_one_job_writes(cli, tmp_path):
    inputs = write_inputs(tmp_path)
    common = ("apply", *inputs, "-k", KERNEL, "--divisor", "16", "--border", "wrap")
    one, one_out, one_err = cli(*common, "-o", "one", "--jobs", "1")
    two, two_out, two_err = cli(*common, "-o", "two", "--jobs", "2")
    assert (one, one_out, two, two_out) == (0, "", 0, "")
    assert one_err.count("\n") == two_err.count("\n") == len(inputs)  # a progress line each
    names = ["a.png", "b.png", "c.tif"]
    assert listing(tmp_path / "one") == listing(tmp_path / "two") == names
    recipe = Recipe.single(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), divisor=16, border="wrap")
    for source, name in zip(inputs, names, strict=True):
        written = (tmp_path / "two" / name).read_bytes()
        assert written == (tmp_path / "one" / name).read_bytes()
        image = load_image(source, alpha=True)
        assert streams(image, recipe), "the bands must be what is tested"
        expected = to_display(render(image, recipe), recipe, white=white_level(image.dtype))
        np.testing.assert_array_equal(load_image(tmp_path / "two" / name, alpha=True), expected)


@pytest.mark.parametrize("start", ["forkserver", "spawn"])
def test_workers_started_every_way_write_the_same_bytes(cli, tmp_path, monkeypatch, start):
    # A fresh command forks itself (the Ctrl+C test below runs one); a process
    # with threads of its own uses the fork server, and Windows spawns.
    inputs = write_inputs(tmp_path)[:2]
    common = ("apply", *inputs, "-k", KERNEL, "--divisor", "16")
    assert cli(*common, "-o", "one", "--jobs", "1")[0] == 0
    monkeypatch.setattr("threading.active_count", lambda: 2)
    if start == "spawn":
        monkeypatch.setattr("multiprocessing.get_all_start_methods", lambda: ["spawn"])
    assert cli(*common, "-o", "two", "--jobs", "2")[0] == 0
    for name in ("a.png", "b.png"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()


def test_a_bad_input_among_several_fails_alone(cli, tmp_path):
    good = write_inputs(tmp_path)[:2]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but nothing more")
    code, out, err = cli("apply", good[0], broken, good[1], "-k", KERNEL, "-o", "out", "-j", "2")
    assert (code, out) == (1, "")
    errors = [line for line in err.splitlines() if line.startswith("kernelstudio: error:")]
    assert len(errors) == 1
    assert "broken.png" in errors[0]
    assert "Traceback" not in err
    assert listing(tmp_path / "out") == ["a.png", "b.png"]  # and no staged file left


def test_help_documents_jobs(cli):
    code, out, _ = cli("apply", "--help")
    assert code == 0
    assert "-j N, --jobs N" in out
    assert "number of cores" in " ".join(out.split())


@pytest.mark.parametrize("jobs", ["0", "-1", "two", "1.5"])
def test_jobs_must_be_a_whole_number_from_1(cli, tmp_path, jobs, monkeypatch):
    inputs = write_inputs(tmp_path)
    monkeypatch.setattr("kernelstudio.cli.load_image", lambda *a, **k: pytest.fail("loaded"))
    code, out, err = cli("apply", *inputs, "-k", KERNEL, "-o", "out", f"--jobs={jobs}")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("kernelstudio apply: error: argument -j/--jobs: ")
    assert repr(jobs) in err
    assert not (tmp_path / "out").exists()


def test_ctrl_c_stops_every_job_and_leaves_no_partial_file(tmp_path):
    generator = np.random.default_rng(1)
    inputs = []
    for number in range(16):
        path = tmp_path / f"in{number:02d}.png"
        cv2.imwrite(str(path), generator.integers(0, 256, (1500, 1500, 3), dtype=np.uint8))
        inputs.append(str(path))
    output = tmp_path / "out"
    command = [sys.executable, "-m", "kernelstudio", "apply", *inputs]
    process = subprocess.Popen(
        [*command, "-k", "gaussian:sigma=4", "-o", str(output), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's job is
    )
    deadline = time.monotonic() + 120
    while not (output.exists() and any(name.endswith(".png") for name in os.listdir(output))):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no output appeared"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C sends: every process of the group
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.splitlines()[-1] == "kernelstudio: interrupted"
    assert "Traceback" not in err
    written = os.listdir(output)
    assert all(not name.startswith(".") for name in written), written  # no staged file
    assert len(written) < len(inputs)
    for name in written:  # every file there is complete
        assert load_image(output / name).shape == (1500, 1500, 3)
