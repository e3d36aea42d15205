"""Leave nothing behind when a build is killed: a watcher process that removes the hidden
work folder and kills the hashing workers if the building process dies, even by SIGKILL.

Why a second process: a SIGKILLed process runs no ``finally`` and no ``atexit``, so only
something outside it can clean up. The watcher is forked before any worker, holds the read
end of a pipe whose only write end is the builder's, and waits. ``done()`` writes "done"
and the watcher exits quietly; end of file without "done" means the builder died, and the
watcher removes the folder. The hashing workers (kiosk/cache/idhash.py) ask the kernel to
SIGKILL them when their parent dies (``PR_SET_PDEATHSIG``), so they close their copy of the
pipe and never live on; the watcher also kills every worker pid it was told about.

Usage (county side)::

    guard = BuildGuard(tmp)        # after creating tmp
    ...                            # build; idhash reports its workers through guard.watch
    guard.done()                   # success, or after cleaning up an ordinary error
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
from pathlib import Path

from kiosk.cache.fsutil import remove_tree

_current: "BuildGuard | None" = None


class BuildGuard:
    def __init__(self, folder: Path):
        global _current
        self.folder = Path(folder)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the watcher (covered by tests/test_hardening_build.py)
            try:
                os.close(w)
                _watch(r, self.folder)
            finally:
                os._exit(0)
        os.close(r)
        self.pid, self._w = pid, w
        _current = self

    def watch(self, pid: int) -> None:
        """Tell the watcher about a worker to kill should the builder die."""
        with contextlib.suppress(OSError):
            os.write(self._w, f"pid {pid}\n".encode())

    def done(self) -> None:
        """The build ended (whichever way) and cleaned up itself: dismiss the watcher."""
        global _current
        if self._w is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._w, b"done\n")
        os.close(self._w)
        self._w = None
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        if _current is self:
            _current = None


def current() -> BuildGuard | None:
    """The guard of the build running in this process, if any (for idhash's workers)."""
    return _current


def _watch(r: int, folder: Path) -> None:
    # a Ctrl+C or SIGTERM sent to the whole group must not end the watcher before the builder
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    buf, pids, done = b"", [], False
    while chunk := os.read(r, 4096):
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            if line == b"done":
                done = True
            elif line.startswith(b"pid "):
                pids.append(int(line[4:]))
    if done:
        return
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    if folder.exists():
        remove_tree(folder)
    shutil.rmtree(folder, ignore_errors=True)
