"""Keep the C allocator from handing numpy's temporaries back to the kernel on every call.

The batched solver creates and frees many arrays of 0.1–10 MB per iteration. glibc serves
blocks above its *mmap threshold* (128 KiB at process start) with fresh ``mmap`` pages and
returns them on ``free``, so every temporary is page-faulted in again, one 4 KiB page at a
time. glibc raises that threshold on its own (up to 32 MiB) the first time the process frees
such a block, which is why the same fit ran 1.65 times faster in a process that had freed a
large array before (1,800 against 2,950 S 2p spectra/s on the fit benchmark).
:func:`keep_freed_memory` makes this state deterministic by setting the two values glibc would
reach itself: ``M_MMAP_THRESHOLD`` 32 MiB and ``M_TRIM_THRESHOLD`` 64 MiB. Blocks above 32 MiB
are still mapped and returned at once; freed smaller blocks are kept for reuse, up to 64 MiB
at the top of the heap.

It is a process-wide setting, made once, on Linux with glibc only; set the environment
variable ``SPECSSB_KEEP_FREED_MEMORY=0`` to leave the allocator alone.

Reference: ``mallopt(3)``, Linux man-pages (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD  # what glibc's dynamic rule sets alongside it

_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds once per process (see the module docstring).

    Returns
    -------
    bool
        True when the thresholds are set (now or earlier), False where this does not apply
        (not Linux, not glibc, or ``SPECSSB_KEEP_FREED_MEMORY=0``).
    """
    if "done" in _state:
        return _state["done"]
    done = False
    if sys.platform.startswith("linux") and os.environ.get("SPECSSB_KEEP_FREED_MEMORY", "1") != "0":
        try:
            libc = ctypes.CDLL("libc.so.6")
            done = bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
                libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
            )
        except (OSError, AttributeError):  # musl or another C library: nothing to tune
            done = False
    _state["done"] = done
    return done
