"""Keep freed memory from piling up in the C heap of the kiosk process (glibc only)."""
from __future__ import annotations

import ctypes

#: glibc mallopt parameter M_TRIM_THRESHOLD (malloc.h)
_M_TRIM_THRESHOLD = -1


def limit_heap_growth() -> None:
    """Fix glibc's trim threshold at 128 KiB (elsewhere: nothing).

    Why: glibc raises its mmap and trim thresholds as large blocks are freed, after which
    label- and framebuffer-sized blocks come from the heap and their memory stays with the
    process. A fixed trim threshold (which also fixes the mmap threshold) returns it: about
    3.5 MB less peak RSS over the village walk, about 1 MB at city scale
    (docs/performance.md)."""
    # the process's own symbols (libc among them): ctypes.util.find_library would run
    # ldconfig, ~3 ms of every start
    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallopt"):
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024)
