"""Child process of the import benchmark: ``python -m kiosk.bench.importchild BUNDLE HOME``.

Runs :func:`kiosk.cache.install.install` and prints one JSON line ``BENCH {...}``: total
seconds and seconds per phase (the install's own ``on_step`` phases), and peak RSS.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    from kiosk.cache import install

    bundle, home = Path(sys.argv[1]), Path(sys.argv[2])
    marks: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    install.install(bundle, home, on_step=lambda s: marks.append((s, time.perf_counter())))
    end = time.perf_counter()
    phases: dict[str, float] = {}
    for (name, t), nxt in zip(marks, [m[1] for m in marks[1:]] + [end]):
        phases[name] = round(phases.get(name, 0) + nxt - t, 3)
    out = {"import_s": round(end - t0, 3), "phases": phases,
           "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    print("BENCH " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
