"""Giving memory freed by worker jobs back to the system (glibc on Linux only).

Renders, loads and exports allocate and free arrays of a few megabytes on
several threads. glibc serves them from per-thread arenas once its dynamic
mmap threshold has risen (it rises to the size of any mmapped block freed, up
to 32 MiB), and an arena gives memory back only from its top: freed blocks in
the middle stay resident. :func:`after_job` asks glibc to return whole free
pages (``malloc_trim(0)``), but only when enough is free to be worth it, so a
burst of small renders costs one cheap check each (about 0.1 ms), and a trim
(1–2 ms) now and then.

Fixing the mmap threshold instead (``mallopt(M_MMAP_THRESHOLD, …)``) was
measured on the 5,000-action monkey (small images) and did not help there.

Elsewhere (macOS, Windows, musl) every function here does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading

TRIM_FREE_BYTES = 16 * 1024 * 1024
"""Free bytes inside glibc's arenas from which :func:`after_job` trims."""


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_lock = threading.Lock()
_libc: ctypes.CDLL | None = None
_loaded = False


def _glibc() -> ctypes.CDLL | None:
    """Return glibc with ``malloc_trim`` (and ``mallinfo2`` where it has it), or None."""
    global _libc, _loaded
    with _lock:
        if not _loaded:
            _loaded = True
            if sys.platform.startswith("linux"):
                try:
                    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                    libc.malloc_trim.argtypes = [ctypes.c_size_t]
                    libc.malloc_trim.restype = ctypes.c_int
                except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                    libc = None
                if libc is not None and hasattr(libc, "mallinfo2"):  # glibc 2.33 and later
                    libc.mallinfo2.restype = _Mallinfo2
                _libc = libc
        return _libc


def free_bytes() -> int | None:
    """Return the bytes free inside glibc's arenas (not yet given back), or None if unknown."""
    libc = _glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return None
    return int(libc.mallinfo2().fordblks)


def trim() -> bool:
    """Give glibc's whole free pages back to the system now; return whether any were."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def after_job() -> None:
    """Trim if glibc holds at least :data:`TRIM_FREE_BYTES` free; call when a job has ended.

    Safe on any thread. Where the free bytes cannot be read (glibc before
    2.33) it trims every time, which costs a millisecond or two at most.
    """
    free = free_bytes()
    if free is None or free >= TRIM_FREE_BYTES:
        trim()
