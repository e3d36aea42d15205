"""Sticks and app packages for the stick tests (service level and on screen)."""
from __future__ import annotations

import shutil
from pathlib import Path

from test_appupdate import stub_wheels

from kiosk.cache import appinstall as I
from kiosk.cache import apppackage as P
from kiosk.county.publish import publish


def make_stick(root: Path, bundle: Path | None = None, app: Path | None = None) -> Path:
    """A stick folder as the county publishes it: ``cunwu/…`` and ``cunwu-kiosk-app/<version>``."""
    root.mkdir(parents=True)
    if bundle is not None:
        publish(bundle, root / "cunwu")
    if app is not None:
        shutil.copytree(app, root / P.STICK_FOLDER / app.name)
    return root


def refused_package(tmp_path: Path, keys_: Path, why: str) -> Path:
    """An app package the kiosk must refuse: ``older`` (0.0.9), signed by an ``unknown key``,
    or for the ``other machine`` type."""
    version, key, extra = "0.2.0", "app-test-key", {}
    if why == "older":
        version = "0.0.9"
    elif why == "unknown key":
        key = "other-test-key"
    else:
        other = "aarch64" if I.machine() != "aarch64" else "x86_64"
        extra = {f"fakebin-1.0-cp311-cp311-manylinux2014_{other}.whl": "x"}
    pkg = tmp_path / version
    P.build(stub_wheels(tmp_path / "w", version, extra), keys_ / key / "signing.key", pkg)
    return pkg
