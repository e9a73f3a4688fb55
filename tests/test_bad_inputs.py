"""The bad-input corpus (tests/corpus.py) through the loader and ``kernelstudio apply``.

A good file loads with the pixels that were written and the identity kernel
gives them back in 8 bits; a bad file is refused with one sentence naming the
file and the reason, and the command writes one stderr line and no file.
"""

import os
import resource
import sys
import tracemalloc
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

from kernelstudio.imageio import ImageLoadError, load_image
from tests.corpus import (
    BAD_NAMES,
    CASE_NAMES,
    GOOD_NAMES,
    TINY_NAMES,
    deny_reading,
    identity_output8,
    largest_error,
)
from tests.test_cli import run_module

GIB = 1 << 30


@contextmanager
def no_warnings():
    """Fail if the block warns: outside pytest a warning is extra text on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert [str(warning.message) for warning in caught] == []


def read_written(path):
    """Decode an output with Pillow, which keeps grey+alpha as two channels (cv2 makes four)."""
    with Image.open(path) as written:
        return np.asarray(written)


def assert_one_error_line(err, *fragments):
    assert "Traceback" not in err
    assert err.startswith("kernelstudio: error: "), err
    assert err.count("\n") == 1, err
    assert err.endswith("\n"), err
    for fragment in fragments:
        assert fragment in err


def test_corpus_holds_every_case(corpus):
    assert list(corpus) == list(CASE_NAMES)
    assert [name for name, case in corpus.items() if case.good] == list(GOOD_NAMES)
    assert [name for name, case in corpus.items() if case.reason] == list(BAD_NAMES)
    assert [name for name in TINY_NAMES if corpus[name].smaller_than_kernel] == list(TINY_NAMES)
    assert not corpus["missing"].path.exists()
    assert corpus["folder"].path.is_dir()
    assert corpus["unreadable"].path.stat().st_mode & 0o777 == 0
    assert corpus["huge-png"].path.stat().st_size < 1_000


# --- the loader -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_NAMES, indirect=True)
def test_loader_reads_good_files_exactly_and_names_the_fault_of_bad_ones(case):
    with no_warnings():
        if case.good:
            pixels = load_image(case.path)
        else:
            with pytest.raises(ImageLoadError) as error:
                load_image(case.path)
    if case.good:
        assert pixels.dtype == case.pixels.dtype
        assert largest_error(pixels, case.pixels) <= case.tolerance
    else:
        message = str(error.value)
        assert message.startswith(f"Cannot open '{case.path.name}': ")
        assert case.reason in message
        assert message.endswith(".")
        assert "\n" not in message


def test_huge_png_is_refused_before_its_pixels_take_memory(corpus):
    tracemalloc.start()
    try:
        with pytest.raises(ImageLoadError, match="is more than the limit of 200,000,000"):
            load_image(corpus["huge-png"].path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # the issue allows 1 GiB; decoding would take 2.7 GB


# --- the command, in-process --------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_NAMES, indirect=True)
def test_apply_writes_the_identity_result_or_one_error_line(cli, case, tmp_path):
    output = tmp_path / "out.png"
    with no_warnings():
        code, out, err = cli("apply", case.path, "-k", "identity", "-o", output)
    assert out == ""
    if case.good:
        assert (code, err) == (0, "")
        expected, tolerance = identity_output8(case)
        assert largest_error(read_written(output), expected) <= tolerance
        assert [path.name for path in tmp_path.iterdir()] == ["out.png"]
    else:
        assert code == 2  # bad input: exit 2, nothing written
        assert_one_error_line(err, f"Cannot open '{case.path.name}': ", case.reason)
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", TINY_NAMES, indirect=True)
def test_valid_border_refuses_an_image_smaller_than_the_kernel(cli, case, tmp_path):
    output = tmp_path / "out.png"
    code, out, err = cli("apply", case.path, "-k", "identity", "--border", "valid", "-o", output)
    assert (code, out) == (2, "")
    assert_one_error_line(err, f"'{case.path.name}'", "smaller than the 3×3 kernel")
    assert list(tmp_path.iterdir()) == []


def test_apply_to_the_whole_corpus_reports_each_bad_file_once(cli, corpus, tmp_path, monkeypatch):
    deny_reading(monkeypatch, corpus["unreadable"])
    output = tmp_path / "results"
    inputs = [case.path for case in corpus.values()]
    # --jobs 1: the denied read is patched into this process only, not into workers.
    code, out, err = cli("apply", *inputs, "-k", "identity", "--jobs", "1", "-o", output)
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("kernelstudio: error: Cannot open '")]
    progress = [line for line in lines if line.startswith("[")]
    assert (code, out) == (1, "")
    assert len(progress) == len(corpus)
    assert len(lines) == len(errors) + len(progress)
    for case in corpus.values():
        about_it = [line for line in errors if f"'{case.path.name}'" in line]
        assert len(about_it) == (0 if case.good else 1), about_it
        assert all(case.reason in line for line in about_it)
    written = sorted(path.name for path in output.iterdir())
    assert written == sorted(case.path.name for case in corpus.values() if case.good)


# --- the command, as a separate process ------------------------------------------------------

# "unreadable" runs only when chmod 000 really stops this user: a root child reads
# the file, and open() cannot be patched in another process.
_LOCKS_FILES = hasattr(os, "geteuid") and os.geteuid() != 0
SUBPROCESS_NAMES = (
    "non-ascii-path",
    "rgb16-png",
    "float-tiff",
    "huge-png",
    "truncated-jpeg",
    "truncated-tiff",
    "text-file",
    *(("unreadable",) if _LOCKS_FILES else ()),
)


@pytest.mark.parametrize("case", SUBPROCESS_NAMES, indirect=True)
def test_module_run_keeps_stdout_clean_and_memory_bounded(case, tmp_path):
    output = tmp_path / "résultat final.png"
    finished = run_module("apply", case.path, "-k", "identity", "-o", output, cwd=tmp_path)
    # The largest child so far: if it is under the bound, this one is too.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak * (1 if sys.platform == "darwin" else 1024) < GIB
    assert finished.stdout == ""
    if case.good:
        assert (finished.returncode, finished.stderr) == (0, "")
        expected, tolerance = identity_output8(case)
        assert largest_error(read_written(output), expected) <= tolerance
    else:
        assert finished.returncode == 2
        assert_one_error_line(finished.stderr, f"'{case.path.name}'", case.reason)
        assert list(tmp_path.iterdir()) == []
