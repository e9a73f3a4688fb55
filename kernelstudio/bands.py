"""Running row-wise work on an image in bands, on every core.

NumPy's ufuncs release the GIL, so bands of rows small enough to stay in the
processor's cache can be processed by several threads at once.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import pairwise

import numpy as np
from numpy.typing import DTypeLike

BAND_BYTES = 2 * 1024 * 1024
"""Bytes of output per band: small enough for L2 cache, large enough to amortise calls."""

PARALLEL_MIN_WORK = 64_000_000
"""Work smaller than this, in multiply-adds, runs on the calling thread alone.

That is about 4 ms on one core here. Measured on 0.5–2 MP images with kernels
from 3×3 to 31×31: below it, waking the band threads saved no time on two
cores and made the times vary more; above it (a 1 MP FFT, say), they paid.
"""

_MAX_KEPT_BYTES = 4 * BAND_BYTES
"""Larger work arrays (wide FFT bands) are not kept between calls, to bound memory."""

_thread_buffers = threading.local()
_cancel: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "kernelstudio_cancel", default=None
)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class CancelledError(Exception):
    """The work was cancelled (see :func:`cancellable`) before it ended."""


@contextmanager
def cancellable(event: threading.Event) -> Iterator[None]:
    """Stop band work started inside the block once `event` is set.

    :func:`run_bands` called from this thread checks `event` before each band
    and raises :class:`CancelledError` once it is set: bands already running end,
    no new one starts, and whatever the work was writing is left to its
    caller to drop. :func:`check_cancelled` does the same between steps.

    Examples
    --------
    >>> stop = threading.Event()
    >>> with cancellable(stop):
    ...     stop.set()
    ...     run_bands(lambda start, stop: None, [(0, 1), (1, 2)])
    Traceback (most recent call last):
    ...
    kernelstudio.bands.CancelledError: cancelled
    """
    token = _cancel.set(event)
    try:
        yield
    finally:
        _cancel.reset(token)


def check_cancelled() -> None:
    """Raise :class:`CancelledError` when the calling thread's work was cancelled."""
    event = _cancel.get()
    if event is not None and event.is_set():
        raise CancelledError("cancelled")


def worker_count() -> int:
    """Return how many threads band work uses: the machine's cores."""
    return os.cpu_count() or 1


def threads_for(work: float) -> int:
    """Return how many threads should share `work` multiply-adds (or the like)."""
    return worker_count() if work >= PARALLEL_MIN_WORK else 1


def rows_per_band(row_bytes: int) -> int:
    """Return how many rows of `row_bytes` bytes make a band of about :data:`BAND_BYTES`."""
    return max(1, BAND_BYTES // max(1, row_bytes))


def row_bands(rows: int, height: int, multiple: int = 1) -> list[tuple[int, int]]:
    """Split ``range(rows)`` into ``(start, stop)`` bands of at most `height` rows.

    The bands differ in size by one row at most, and their count is a multiple
    of `multiple` (unless there are fewer rows), so that many threads finish
    them together.

    Examples
    --------
    >>> row_bands(10, 4)
    [(0, 3), (3, 6), (6, 10)]
    >>> row_bands(10, 4, multiple=2)
    [(0, 2), (2, 5), (5, 7), (7, 10)]
    >>> row_bands(3, 100, multiple=4)
    [(0, 1), (1, 2), (2, 3)]
    """
    count = -(-rows // max(1, height))
    count = min(rows, -(-count // multiple) * multiple)
    edges = [rows * index // count for index in range(count + 1)] if count else [0]
    return list(pairwise(edges))


def run_bands(
    work: Callable[[int, int], None], bands: list[tuple[int, int]], threads: int | None = None
) -> None:
    """Call ``work(start, stop)`` for every band, spread over `threads` threads.

    `threads` defaults to :func:`worker_count`; with 1, every band runs on the
    calling thread. Each band runs under the caller's ``numpy.errstate``.
    Exceptions raised by `work` propagate to the caller once all bands ended.
    When no more threads can be started, the remaining bands run on the
    calling thread instead. Inside :func:`cancellable`, no band starts once
    its event is set (:class:`CancelledError` is raised).
    """
    if threads is None:
        threads = worker_count()
    cancel = _cancel.get()
    if cancel is not None:
        work = _checking(work, cancel)
    if len(bands) <= 1 or threads == 1:
        for start, stop in bands:
            work(start, stop)
        return
    # NumPy's floating-point error settings belong to each thread; the bands
    # take the caller's, so np.errstate around a call means the same threaded.
    errors = np.geterr()
    # Whoever takes a band first runs it. A band queued when a thread could not
    # start has no future to wait on: the caller runs it unless a worker took it,
    # and the events, not futures, tell when every band ended.
    taken = [threading.Lock() for _ in bands]
    ended = [threading.Event() for _ in bands]
    failures: list[Exception | None] = [None] * len(bands)

    def run_band(index: int) -> None:
        if not taken[index].acquire(blocking=False):
            return
        try:
            with np.errstate(**errors):
                work(*bands[index])
        except Exception as error:  # re-raised by the caller once every band ended
            failures[index] = error
        finally:
            ended[index].set()

    try:
        for index in range(len(bands)):
            _shared_executor().submit(run_band, index)
    except RuntimeError:  # "can't start new thread": out of threads or memory
        for index in range(len(bands)):
            run_band(index)
    for event in ended:
        event.wait()
    failure = next((error for error in failures if error is not None), None)
    if failure is not None:
        raise failure


def _checking(work: Callable[[int, int], None], cancel: threading.Event):
    def checked(start: int, stop: int) -> None:
        if cancel.is_set():
            raise CancelledError("cancelled")
        work(start, stop)

    return checked


def scratch(purpose: str, shape: tuple[int, ...], dtype: DTypeLike = np.float32) -> np.ndarray:
    """Return a work array of `shape` and `dtype`, reused by the calling thread for `purpose`.

    Fresh multi-megabyte arrays cost a page fault per 4 KiB page on first
    touch; reusing one buffer per thread and purpose avoids that for every band.
    The contents are undefined, and the array is only valid until the same
    thread asks for the same purpose again.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    if size * dtype.itemsize > _MAX_KEPT_BYTES:
        return np.empty(shape, dtype=dtype)
    key = f"{purpose}-{dtype.str}"
    buffer = getattr(_thread_buffers, key, None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=dtype)
        setattr(_thread_buffers, key, buffer)
    return buffer[:size].reshape(shape)


def _shared_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(worker_count(), thread_name_prefix="kernelstudio-band")
        return _executor
