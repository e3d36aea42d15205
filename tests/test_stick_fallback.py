"""A truncated or damaged newer bundle on a stick does not block the intact older one beside it
(issue 16, Integrity 6): the import falls back to the newest bundle that verifies, while
planning (sizes) and during the install (hashes); with nothing intact it is refused in one
line and KIOSK_HOME is unchanged.

The sticks are real folders in the published layout (``kiosk publish``), imported with
``kiosk import STICK`` and with the stick importer the update screen uses.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import build_bundle, run_cli, tree_digest
from kiosk.cache import install
from kiosk.errors import Exit

SCOPE = "431382111249"
DB = "data/village.sqlite"


@pytest.fixture(scope="module")
def versions(tmp_path_factory, small_src, test_key) -> dict[int, Path]:
    d = tmp_path_factory.mktemp("versions")
    return {seq: build_bundle(small_src, test_key, seq, d / f"b{seq}") for seq in (2, 3)}


def _stick(tmp_path: Path, versions: dict[int, Path]) -> Path:
    root = tmp_path / "stick"
    for b in versions.values():
        assert run_cli("publish", b, root / "cunwu") == 0
    return root


def _db(stick: Path, seq: int) -> Path:
    return stick / "cunwu" / SCOPE / f"v{seq:06d}" / DB


def _truncate(path: Path) -> None:
    """A copy cut short, as a stick pulled during the county's copy leaves it."""
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-4096])


def _flip(path: Path) -> None:
    """One changed byte, same size: only the hash can tell."""
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[5000] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture()
def kiosk_v1(home, small_bundle) -> Path:
    assert run_cli("import", small_bundle) == 0
    return home


@pytest.mark.parametrize("damage", [_truncate, _flip], ids=["truncated", "changed byte"])
def test_cli_import_falls_back_to_the_intact_older_bundle(kiosk_v1, versions, tmp_path, capsys, damage):
    stick = _stick(tmp_path, versions)
    damage(_db(stick, 3))
    capsys.readouterr()
    assert run_cli("import", stick) == 0
    out, err = capsys.readouterr()
    assert "installed 第2版 (was 第1版)" in out, (out, err)
    st = install.read_state(kiosk_v1)
    assert st["highest_seq"] == 2 and st["current"].startswith("v000002-")
    why = "SHA-256 differs from manifest" if damage is _flip else "size"
    assert f"v000003 refused: data/village.sqlite: {why}" in err and err.count("\n") == 1, err  # named on stderr
    # the damaged 第3版 left nothing behind
    assert not list((kiosk_v1 / "mirror/staging").iterdir())
    assert sorted(p.name[:7] for p in (kiosk_v1 / "mirror/versions").iterdir()) == ["v000001", "v000002"]


@pytest.mark.parametrize("damage", [_truncate, _flip], ids=["truncated", "changed byte"])
def test_stick_importer_falls_back(kiosk_v1, versions, tmp_path, damage):
    from kiosk.cache import stickimport

    stick = _stick(tmp_path, versions)
    damage(_db(stick, 3))
    p = stickimport.plan(stick, kiosk_v1)
    refused: list[tuple[Path, str]] = []
    rep = stickimport.run(p, kiosk_v1, on_refused=lambda path, exc: refused.append((path.name, exc.message_zh)))
    assert (rep.old.seq, rep.new.seq) == (1, 2)
    if damage is _truncate:  # seen while planning: the plan offers 第2版 at once
        assert p.new.seq == 2 and [c.seq for c in p.candidates] == [2]
        assert [(path.name, why) for path, why in p.skipped] == [("v000003", "文件 data/village.sqlite 大小不符（不完整或被改动）")]
        assert refused == [] and rep.refused == ()
    else:  # seen by the install: 第3版 was tried, refused, and 第2版 installed
        assert p.new.seq == 3 and [c.seq for c in p.candidates] == [3, 2]
        assert refused == [("v000003", "文件 data/village.sqlite 校验值不符（被改动）")]
        assert [(path.name, why) for path, why in rep.refused] == refused
    assert install.read_state(kiosk_v1)["highest_seq"] == 2


@pytest.mark.parametrize("damage3,damage2,needle", [
    (_truncate, _truncate, "size"),
    (_flip, _flip, "SHA-256 differs"),
    (_truncate, _flip, "SHA-256 differs"),
    (_flip, _truncate, "SHA-256 differs"),
])
def test_nothing_intact_changes_nothing(kiosk_v1, versions, tmp_path, capsys, damage3, damage2, needle):
    stick = _stick(tmp_path, versions)
    damage3(_db(stick, 3))
    damage2(_db(stick, 2))
    before = tree_digest(kiosk_v1)
    capsys.readouterr()
    assert run_cli("import", stick) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err  # one line: the newest one's defect
    assert tree_digest(kiosk_v1) == before


def test_damaged_newer_beside_the_installed_version(kiosk_v1, small_bundle, versions, tmp_path, capsys):
    """Only bundles newer than the installed one are candidates: a damaged 第3版 beside a
    第1版 that is already installed is refused as 第3版's defect, not as 'nothing newer'."""
    stick = tmp_path / "stick"
    assert run_cli("publish", versions[3], stick / "cunwu") == 0
    assert run_cli("publish", small_bundle, stick / "cunwu") == 0
    _truncate(_db(stick, 3))
    before = tree_digest(kiosk_v1)
    capsys.readouterr()
    assert run_cli("import", stick) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert "differs from manifest" in err and "truncated" in err and "不比本机已有的" not in err, err
    assert tree_digest(kiosk_v1) == before

