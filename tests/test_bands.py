"""Band work: even bands for every thread, run as if by the caller."""

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernelstudio import bands


@given(
    rows=st.integers(0, 5000),
    height=st.integers(1, 600),
    multiple=st.integers(1, 8),
)
def test_bands_cover_every_row_once_evenly_in_a_multiple_of_the_threads(rows, height, multiple):
    split = bands.row_bands(rows, height, multiple)
    covered = [row for start, stop in split for row in range(start, stop)]
    assert covered == list(range(rows))
    sizes = [stop - start for start, stop in split]
    assert all(0 < size <= height for size in sizes)
    if sizes:
        assert max(sizes) - min(sizes) <= 1
    assert len(split) % multiple == 0 or len(split) == rows


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(bands, "worker_count", lambda: 2)


def divide_by_zero(start, stop):
    np.divide(np.ones(stop - start), 0.0)


def test_band_threads_raise_floating_point_errors_when_the_caller_asks(two_threads):
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        bands.run_bands(divide_by_zero, bands.row_bands(8, 2))


def test_band_threads_keep_quiet_when_the_caller_ignores_errors(two_threads):
    threads = set()

    def work(start, stop):
        threads.add(threading.get_ident())
        divide_by_zero(start, stop)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="ignore"):
            bands.run_bands(work, bands.row_bands(64, 2))
    assert threading.get_ident() not in threads


def test_small_work_stays_on_the_calling_thread(two_threads):
    assert bands.threads_for(bands.PARALLEL_MIN_WORK - 1) == 1
    assert bands.threads_for(bands.PARALLEL_MIN_WORK) == 2
    threads = set()
    bands.run_bands(lambda start, stop: threads.add(threading.get_ident()), [(0, 1), (1, 2)], 1)
    assert threads == {threading.get_ident()}


def test_convolve_shares_only_large_work_out_in_even_bands(two_threads, monkeypatch):
    from kernelstudio import convolution

    calls = []
    real_run_bands = convolution.run_bands

    def spy(work, split, threads):
        calls.append((len(split), threads))
        real_run_bands(work, split, threads)

    monkeypatch.setattr(convolution, "run_bands", spy)
    # 1000 × 1000 × 49 multiply-adds is under the threshold, 1200 × 1200 × 49 over.
    weights = np.random.default_rng(1).normal(size=(7, 7))
    convolution.convolve(np.ones((1000, 1000), np.float32), weights)
    convolution.convolve(np.ones((1200, 1200), np.float32), weights)
    assert [threads for _, threads in calls] == [1, 2]
    assert calls[1][0] % 2 == 0


def test_an_exception_in_one_band_reaches_the_caller_after_every_band_ran(two_threads):
    finished = []

    def work(start, stop):
        if start == 0:
            raise ValueError("band 0 failed")
        finished.append(start)

    with pytest.raises(ValueError, match="band 0 failed"):
        bands.run_bands(work, bands.row_bands(6, 2))
    assert sorted(finished) == [2, 4]


@pytest.fixture
def fresh_pool(two_threads, monkeypatch):
    """A band pool of its own, so that its threads are started (or not) in the test."""
    monkeypatch.setattr(bands, "_executor", None)
    yield
    if bands._executor is not None:
        bands._executor.shutdown(wait=True)


def threads_start_until(monkeypatch, allowed):
    """Let `allowed` band threads start; later ones fail as when the system has none left."""
    real_start = threading.Thread.start
    started = []

    def start(thread):
        if len(started) >= allowed:
            raise RuntimeError("can't start new thread")
        started.append(thread)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    return started


@pytest.mark.parametrize("allowed", [0, 1], ids=["no-thread", "one-of-two"])
def test_bands_run_on_the_caller_when_no_thread_can_start(fresh_pool, monkeypatch, allowed):
    from scipy import ndimage

    from kernelstudio.convolution import convolve

    started = threads_start_until(monkeypatch, allowed)
    image = np.random.default_rng(2).random((1200, 1200), dtype=np.float32)
    weights = np.random.default_rng(3).normal(size=(7, 7))
    assert bands.threads_for(image.size * weights.size) == 2, "the work must go to threads"
    result = convolve(image, weights)
    expected = ndimage.correlate(image.astype(np.float64), weights, mode="mirror")
    np.testing.assert_allclose(result, expected, atol=1e-4)
    assert len(started) == allowed


def test_each_band_runs_once_when_a_thread_fails_to_start(fresh_pool, monkeypatch):
    threads_start_until(monkeypatch, 1)
    runs = []
    lock = threading.Lock()

    def work(start, stop):
        with lock:
            runs.append(start)

    split = bands.row_bands(40, 2)
    bands.run_bands(work, split)
    assert sorted(runs) == [start for start, _ in split]


def test_a_band_failing_on_the_caller_is_raised_after_the_others_ran(fresh_pool, monkeypatch):
    threads_start_until(monkeypatch, 0)
    finished = []

    def work(start, stop):
        if start == 2:
            raise ValueError("band 2 failed")
        finished.append(start)

    with pytest.raises(ValueError, match="band 2 failed"):
        bands.run_bands(work, bands.row_bands(6, 2))
    assert finished == [0, 4]


def test_a_cancelled_run_starts_no_further_band():
    stop = threading.Event()
    ran = []

    def work(start, end):
        ran.append(start)
        if start == 2:
            stop.set()

    with bands.cancellable(stop), pytest.raises(bands.CancelledError):
        bands.run_bands(work, [(index, index + 1) for index in range(10)], threads=1)
    assert ran == [0, 1, 2]
    bands.run_bands(work, [(5, 6)], threads=1)  # outside the block nothing is checked
    assert ran[-1] == 5
