"""The ``apply`` command is safe with files and values: the "safety net" issue.

Pixels are checked against scipy.ndimage through the oracle of test_cli; files are
written and read back with OpenCV.
"""

import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import ndimage

import kernelstudio.cli as command
from kernelstudio import bands
from tests.test_cli import (
    PRESETS,
    assert_pixels,
    oracle,
    random_image,
    read_image,
    run_module,
    stderr_line,
    to_8bit,
    write_image,
)

LINUX = sys.platform.startswith("linux")


@pytest.fixture
def photo(tmp_path):
    pixels = random_image((12, 17, 3))
    return write_image(tmp_path / "photo.png", pixels), pixels


def listing(folder):
    return sorted(path.name for path in folder.iterdir())


def refuse_work(monkeypatch):
    """Make loading an image fail the test: the checks must come first."""

    def no_loading(path, **options):
        pytest.fail(f"{path} was loaded before the command was refused")

    monkeypatch.setattr(command, "load_image", no_loading)


def write_float_tiff(path, values):
    assert cv2.imwrite(str(path), values.astype(np.float32))
    return path


# --- 1. results beyond float32 ------------------------------------------------------------


def test_overflowing_result_is_refused_in_one_line(cli, tmp_path):
    code, out, err = cli("apply", "-k", "1e38 1e38 1e38", "-o", "out.png")
    assert (code, out) == (2, "")
    assert "would overflow" in stderr_line(err)
    assert "3.4e38" in err
    assert listing(tmp_path) == []


def test_overflow_depends_on_the_white_level(cli, tmp_path):
    weights = "6e33 0 0"  # × 255 fits float32, × 65535 does not
    eight = write_image(tmp_path / "eight.png", random_image((5, 6)))
    sixteen = write_image(tmp_path / "sixteen.png", random_image((5, 6), np.uint16))
    assert cli("apply", eight, "-k", weights, "-o", "a.tif", "--float")[0] == 0
    code, _, err = cli("apply", sixteen, "-k", weights, "-o", "b.tif", "--float")
    assert code == 2
    assert "up to 65535 " in stderr_line(err)
    assert not (tmp_path / "b.tif").exists()


def test_float_image_with_small_values_takes_a_huge_kernel(cli, tmp_path):
    values = np.random.default_rng(4).random((7, 9), dtype=np.float32)
    values[0, 0] = np.inf  # infinite pixels do not count: their results are infinite anyway
    source = write_float_tiff(tmp_path / "in.tif", values)
    assert cli("apply", source, "-k", "1e38 1e38 1e38", "--float", "-o", "out.tif")[0] == 0
    written = cv2.imread(str(tmp_path / "out.tif"), cv2.IMREAD_UNCHANGED)
    expected = ndimage.correlate(values.astype(np.float64), [[1e38, 1e38, 1e38]], mode="mirror")
    finite = np.isfinite(expected)
    assert finite.sum() > 40, "most of the result must be compared"
    np.testing.assert_allclose(written[finite], expected[finite], rtol=1e-5)


@pytest.mark.parametrize(
    ("kernel", "code"),
    [("1e38 1e38 1e38", 2), ("4e35 4e35 4e35", 0), ("sharpen", 0)],
    ids=["overflow", "near-the-limit", "preset"],
)
def test_no_runtime_warning_reaches_stderr(tmp_path, kernel, code):
    values = np.random.default_rng(5).random((6, 8), dtype=np.float32) * 255
    values[1, 1], values[2, 2], values[3, 3] = np.nan, np.inf, -np.inf
    source = write_float_tiff(tmp_path / "in.tif", values)
    for args in ([], [source]):
        output = tmp_path / f"out{len(args)}.png"
        run = run_module(
            "apply",
            *args,
            "-k",
            kernel,
            "-o",
            output,
            cwd=tmp_path,
            python_options=["-W", "error"],
        )
        assert run.returncode == code, run.stderr
        if code:
            stderr_line(run.stderr)
        else:
            assert run.stderr == ""


# --- 3. the output is checked before any work ---------------------------------------------


@pytest.mark.parametrize(
    ("output", "named"),
    [
        ("newdir/", "newdir/"),
        ("r.xyz", ".xyz"),
        ("r", "without extension"),
        ("missing/r.png", "'missing' does not exist"),
        ("photo.png/r.png", "is not a folder"),
        ("a" * 300 + ".png", "too long"),
    ],
    ids=[
        "new-folder",
        "unknown-extension",
        "no-extension",
        "missing-parent",
        "file-parent",
        "long",
    ],
)
def test_bad_output_is_refused_before_loading(cli, tmp_path, photo, monkeypatch, output, named):
    source, _ = photo
    refuse_work(monkeypatch)
    before = listing(tmp_path)
    code, out, err = cli("apply", source, "-k", "box-blur", "-o", output)
    assert (code, out) == (2, "")
    assert named in stderr_line(err)
    assert listing(tmp_path) == before


def test_float_without_tiff_is_refused_before_loading(cli, photo, monkeypatch):
    refuse_work(monkeypatch)
    code, _, err = cli("apply", photo[0], "-k", "box-blur", "--float", "-o", "r.png")
    assert code == 2
    assert "--float needs a .tif" in stderr_line(err)


def test_read_only_folder_is_refused_before_loading(cli, tmp_path, photo, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path) != folder and real_access(path, mode)
    )
    refuse_work(monkeypatch)
    code, _, err = cli("apply", photo[0], "-k", "box-blur", "-o", folder / "r.png")
    assert code == 2
    assert "read-only" in stderr_line(err)
    assert listing(folder) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anyway")
def test_unwritable_folder_is_refused_before_loading(cli, tmp_path, photo, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    refuse_work(monkeypatch)
    code, _, err = cli("apply", photo[0], "-k", "box-blur", "-o", folder / "r.png")
    assert code == 2
    assert "read-only" in stderr_line(err)


def test_several_inputs_with_an_image_name_is_a_usage_error(cli, tmp_path, photo, monkeypatch):
    other = write_image(tmp_path / "other.png", random_image((4, 4, 3)))
    refuse_work(monkeypatch)
    code, _, err = cli("apply", photo[0], other, "-k", "box-blur", "-o", "one.png")
    assert code == 2
    assert "'one.png' names an image file" in stderr_line(err)
    assert not (tmp_path / "one.png").exists()


# --- 4. replacing files -------------------------------------------------------------------


def test_force_keeps_the_mode_of_the_replaced_file(cli, tmp_path, photo):
    source, pixels = photo
    target = tmp_path / "secret.png"
    target.write_bytes(b"old")
    target.chmod(0o600)
    assert cli("apply", source, "-k", "identity", "-o", target, "--force")[0] == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert_pixels(target, pixels)
    assert listing(tmp_path) == ["photo.png", "secret.png"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_force_as_root_keeps_the_owner(cli, tmp_path, photo):
    target = tmp_path / "theirs.png"
    target.write_bytes(b"old")
    os.chown(target, 4321, 4322)
    assert cli("apply", photo[0], "-k", "identity", "-o", target, "--force")[0] == 0
    assert (target.stat().st_uid, target.stat().st_gid) == (4321, 4322)


def special_target(tmp_path, kind):
    target = tmp_path / f"{kind}.png"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(os.devnull)
    return target


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_force_refuses_targets_that_are_not_regular_files(cli, tmp_path, photo, monkeypatch, kind):
    target = special_target(tmp_path, kind)
    refuse_work(monkeypatch)
    code, _, err = cli("apply", photo[0], "-k", "identity", "-o", target, "--force")
    assert code == 2
    assert "not a regular file" in stderr_line(err)
    assert os.path.islink(target) or stat.S_ISFIFO(os.lstat(target).st_mode)
    assert listing(tmp_path) == sorted(["photo.png", target.name])


@pytest.mark.parametrize("hard_links", [True, False], ids=["link", "no-hard-links"])
def test_a_file_appearing_while_processing_is_kept(cli, tmp_path, photo, monkeypatch, hard_links):
    source, _ = photo
    target = tmp_path / "x.png"
    real_render = command.render

    def render_while_another_program_writes(*args, **kwargs):
        target.write_bytes(b"theirs")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(command, "render", render_while_another_program_writes)
    if not hard_links:
        monkeypatch.setattr(os, "link", unsupported_link)
    code, _, err = cli("apply", source, "-k", "identity", "-o", "x.png")
    assert code == 2
    assert "'x.png' appeared while processing; use --force to overwrite it" in stderr_line(err)
    assert target.read_bytes() == b"theirs"
    assert listing(tmp_path) == ["photo.png", "x.png"]


def unsupported_link(source, target):
    raise OSError(1, "Operation not permitted")


# --- 5. memory and threads ----------------------------------------------------------------


def out_of_memory(*args, **kwargs):
    raise MemoryError


@pytest.mark.parametrize("failing", ["render", "load_image", "to_display"])
def test_running_out_of_memory_is_one_line(cli, tmp_path, photo, monkeypatch, failing):
    monkeypatch.setattr(command, failing, out_of_memory)
    code, out, err = cli("apply", photo[0], "-k", "gaussian-blur-5x5", "-o", "out.png")
    assert (code, out) == (1, "")
    line = stderr_line(err)
    assert line.startswith(
        "kernelstudio: error: not enough memory for a 17 × 12 image with a 5 × 5 kernel: about "
    )
    assert line.endswith(" GB needed\n")
    assert listing(tmp_path) == ["photo.png"]


def test_no_thread_to_start_still_gives_the_exact_result(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(bands, "worker_count", lambda: 2)
    monkeypatch.setattr(bands, "_executor", None)

    def no_thread(thread):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    pixels = random_image((1200, 1300))
    source = write_image(tmp_path / "big.png", pixels)
    weights = np.random.default_rng(6).random((7, 7)) / 49
    spec = "; ".join(" ".join(repr(float(w)) for w in row) for row in weights)
    assert bands.threads_for(pixels.size * weights.size) == 2, "the work must go to threads"
    assert cli("apply", source, "-k", spec, "-o", "out.png") == (0, "", "")
    assert_pixels(tmp_path / "out.png", to_8bit(oracle(pixels, weights)))


# --- 6. long kernels, negative kernels, awkward file names --------------------------------


def test_a_megabyte_of_kernel_text_is_quoted_briefly(cli, tmp_path):
    text = "x" * 1_000_000
    code, _, err = cli("apply", "-k", text, "-o", "out.png")
    assert code == 2
    assert len(stderr_line(err)) < 400
    assert "…" in err
    assert listing(tmp_path) == []


def test_ragged_megabyte_kernel_is_one_short_line(cli, tmp_path):
    text = ";".join("1 " * (row % 3 + 1) for row in range(200_000))
    code, _, err = cli("apply", "-k", text, "-o", "out.png")
    assert code == 2
    assert len(stderr_line(err)) < 400


@pytest.mark.parametrize("spelling", [["-k", "-1/8"], ["--kernel", "-1/8"], ["-k=-1/8"]])
def test_a_kernel_starting_with_minus_parses(cli, tmp_path, photo, spelling):
    source, pixels = photo
    code, _, err = cli("apply", source, *spelling, "--display", "abs", "-o", "out.png")
    assert (code, err) == (0, "")
    assert_pixels(tmp_path / "out.png", to_8bit(oracle(pixels, [[-1 / 8]]), "abs"))


def test_an_option_after_k_gets_a_hint(cli, photo):
    code, _, err = cli("apply", photo[0], "-k", "-x", "-o", "out.png")
    assert code == 2
    assert "-k=-1/8" in stderr_line(err)


@pytest.mark.skipif(not LINUX, reason="file names are bytes on Linux")
def test_non_utf8_file_names(tmp_path):
    pixels = random_image((6, 7, 3))
    source = write_image(tmp_path / os.fsdecode(b"\xff in.png"), pixels)
    output = tmp_path / os.fsdecode(b"out \xfe.png")
    done = run_module("apply", source, "-k", "identity", "-o", output, cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert_pixels(output, pixels)
    missing = tmp_path / os.fsdecode(b"\xfd gone.png")
    failed = run_module("apply", missing, "-k", "identity", "-o", "r.png", cwd=tmp_path)
    assert failed.returncode == 2
    assert "\\xfd gone.png" in stderr_line(failed.stderr)


def test_a_newline_in_a_file_name_stays_on_one_line(cli, tmp_path):
    code, _, err = cli("apply", tmp_path / "two\nlines.png", "-k", "identity", "-o", "r.png")
    assert code == 2
    assert "two\\x0alines.png" in stderr_line(err)


def test_messages_fit_a_strict_ascii_stream():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    command._report(stream, "caf\udce9 ñ…")
    stream.seek(0)
    assert stream.read() == "caf\\xe9 \\xf1\\u2026\n"


# --- 7. without a screen ------------------------------------------------------------------


def headless_environment(**extra):
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    return {**environment, **extra}


NO_DISPLAY = (
    "kernelstudio: no display found; set DISPLAY (or WAYLAND_DISPLAY), "
    "or use 'kernelstudio apply' on the command line\n"
)


@pytest.mark.skipif(not LINUX, reason="X11 and Wayland only")
def test_window_without_a_display_is_one_line(tmp_path):
    done = run_module(cwd=tmp_path, env=headless_environment())
    assert (done.returncode, done.stdout, done.stderr) == (2, "", NO_DISPLAY)


@pytest.mark.skipif(not LINUX, reason="X11 and Wayland only")
def test_window_on_a_display_nobody_serves_is_one_line(tmp_path):
    done = run_module(cwd=tmp_path, env=headless_environment(DISPLAY=":987"))
    assert done.returncode == 2
    assert "DISPLAY=:987" in stderr_line(done.stderr)
    assert "or use 'kernelstudio apply'" in done.stderr


def test_missing_display_judges_only_unset_platforms(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert command.missing_display({}) is not None
    assert command.missing_display({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert command.missing_display({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert command.missing_display({"DISPLAY": "remote.example:0"}) is None
    monkeypatch.setattr(sys, "platform", "darwin")
    assert command.missing_display({}) is None


QT_FREE = """
import sys
from kernelstudio.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith(("PySide6", "pyqtgraph")))
print(code, loaded)
"""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["presets"], "0 []"),
        (["apply", "-k", "box-blur", "-o", "out.png"], "0 []"),
        (["apply", "-k", "1e38 1e38 1e38", "-o", "bad.png"], "2 []"),
        ([], "2 []"),
    ],
    ids=["presets", "apply", "apply-refused", "window-without-display"],
)
def test_the_command_line_never_imports_qt(tmp_path, args, expected):
    done = subprocess.run(
        [sys.executable, "-c", QT_FREE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=headless_environment(),
        timeout=120,
        check=False,
    )
    assert done.stdout.splitlines()[-1] == expected, done.stderr


# --- 8. progress --------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_shows_rate_and_time_left():
    times = iter([100.0, 102.0, 104.0, 110.0])
    terminal = Terminal()
    progress = command._Progress(4, terminal, clock=lambda: next(times))
    progress.show(1, "a.png")
    progress.show(2, "b.png")
    assert terminal.getvalue().split("\r\x1b[K")[1:] == [
        "[######------------------] 1/4 0.5 files/s, 0:06 left a.png",
        "[############------------] 2/4 0.5 files/s, 0:04 left b.png",
    ]
    progress.show(4, "d.png")
    assert terminal.getvalue().endswith("] 4/4 in 0:10 d.png\n")


def test_progress_in_a_log_is_one_plain_line_per_file():
    log = io.StringIO()
    progress = command._Progress(2, log)
    progress.show(1, "a\nb.png")
    progress.show(2, "c.png")
    assert log.getvalue() == "[############------------] 1/2 a\\x0ab.png\n" + (
        "[########################] 2/2 c.png\n"
    )


def test_several_inputs_keep_going_after_a_failure(cli, tmp_path, photo):
    source, pixels = photo
    (tmp_path / "bad.png").write_text("not an image")
    code, _, err = cli("apply", tmp_path / "bad.png", source, "-k", "sharpen", "-o", "results")
    assert code == 1
    assert len([line for line in err.splitlines() if "error" in line]) == 1
    assert_pixels(tmp_path / "results" / "photo.png", to_8bit(oracle(pixels, PRESETS["sharpen"])))
    assert read_image(tmp_path / "results" / "photo.png").shape == pixels.shape
