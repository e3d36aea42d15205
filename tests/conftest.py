"""Shared fixtures: keys, small bundles, and the imported demo village.

Bundles in tests use a low scrypt cost (``--id-hash-n 1024``) to stay fast; the cost is a
bundle parameter (meta table), so kiosks hash card numbers with whatever the bundle says.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sourcekit import write_source  # noqa: E402

TEST_ID_HASH_N = 1024
DEMO_VILLAGE = "431382111249"


def run_cli(*args: str) -> int:
    from kiosk.cli import main

    return main([str(a) for a in args])


def tree_digest(root: Path) -> str:
    """SHA-256 over every path, type and file content below ``root`` ("untouched" checks)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            h.update(str(p.relative_to(root)).encode() + b"\0")
            if p.is_symlink():
                h.update(b"L" + os.readlink(p).encode())
            elif p.is_file():
                h.update(b"F" + p.read_bytes())
            else:
                h.update(b"D")
    return h.hexdigest()


@pytest.fixture(scope="session")
def test_key(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "test-key"
    assert run_cli("keygen", "--out", d) == 0
    return d


@pytest.fixture(scope="session")
def other_test_key(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("keys2") / "other-test-key"
    assert run_cli("keygen", "--out", d) == 0
    return d


@pytest.fixture()
def home(tmp_path, monkeypatch, test_key) -> Path:
    """An empty KIOSK_HOME that trusts ``test_key``."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(h))
    assert run_cli("trust", test_key / "signing.pub") == 0
    return h


def build_bundle(src: Path, key: Path, seq: int, out: Path) -> Path:
    assert run_cli("bundle", "build", src, "--key", key / "signing.key", "--seq", seq, "--out", out,
                   "--id-hash-n", TEST_ID_HASH_N, "--quiet") == 0
    return out


@pytest.fixture(scope="session")
def small_src(tmp_path_factory) -> Path:
    return write_source(tmp_path_factory.mktemp("src") / "src")


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, small_src, test_key) -> Path:
    return build_bundle(small_src, test_key, 1, tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory) -> Path:
    """The demo village's source export (kiosk demo-data, seed 1)."""
    out = tmp_path_factory.mktemp("demo") / "source"
    assert run_cli("demo-data", "--village", DEMO_VILLAGE, "--out", out, "--seed", 1) == 0
    return out


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory, demo_source, test_key) -> Path:
    return build_bundle(demo_source, test_key, 1, tmp_path_factory.mktemp("demob") / "bundle")


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory, demo_bundle, test_key) -> Path:
    """A KIOSK_HOME with the demo village imported (session-wide; treat as read-only).

    Sets KIOSK_HOME for the session, so subprocesses and the app see it.
    """
    h = tmp_path_factory.mktemp("demohome") / "home"
    h.mkdir()
    old = os.environ.get("KIOSK_HOME")
    os.environ["KIOSK_HOME"] = str(h)
    assert run_cli("trust", test_key / "signing.pub") == 0
    assert run_cli("import", demo_bundle) == 0
    yield h
    if old is None:
        os.environ.pop("KIOSK_HOME", None)
    else:
        os.environ["KIOSK_HOME"] = old
