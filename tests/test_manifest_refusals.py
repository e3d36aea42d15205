"""Signed manifests with odd JSON are refused by ``kiosk import`` before anything is copied:
one line (English and Chinese), exit 3, KIOSK_HOME byte-for-byte unchanged.

Each bundle here is a real folder: the small test bundle with its manifest's text edited and
signed again with the trusted test key, so only the manifest's rules can refuse it.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import run_cli, tree_digest
from kiosk.cache import install, keys
from kiosk.errors import Exit


def _signed(bundle: Path, dest: Path, key: Path, edit) -> Path:
    """A copy of ``bundle`` whose manifest text is ``edit(text)``, signed with ``key``."""
    shutil.copytree(bundle, dest)
    text = edit((dest / "manifest.json").read_text(encoding="utf-8"))
    raw = text.encode("utf-8")
    (dest / "manifest.json").write_bytes(raw)
    (dest / "manifest.sig").write_bytes(keys.load_private(key / "signing.key").sign(raw))
    return dest


def _field(name: str, value) -> callable:
    """Replace the value of top-level field ``name`` with the JSON text ``value``."""
    def edit(text: str) -> str:
        new, n = re.subn(rf'^(  "{name}": )(.*?)(,?)$', lambda mt: mt.group(1) + value + mt.group(3), text,
                         count=1, flags=re.M)
        assert n == 1, name
        return new
    return edit


def _sha(edit_digest) -> callable:
    def edit(text: str) -> str:
        m = json.loads(text)
        m["files"][0]["sha256"] = edit_digest(m["files"][0]["sha256"])
        return json.dumps(m, ensure_ascii=False, indent=2)
    return edit


def _village_name(name: str) -> callable:
    def edit(text: str) -> str:
        m = json.loads(text)
        m["village"]["name"] = name
        return json.dumps(m, ensure_ascii=False, indent=2)
    return edit


CASES = {
    # the last of two equal keys wins in Python's json: this installed as 第7版
    "duplicate seq": (lambda t: t.replace('  "seq": 1,', '  "seq": 3,\n  "seq": 7,'), "key \"seq\" twice"),
    "format_version 1.0": (_field("format_version", "1.0"), "format_version must be the integer 1"),
    "format_version true": (_field("format_version", "true"), "format_version must be the integer 1"),
    "format_version \"1\"": (_field("format_version", '"1"'), "format_version must be the integer 1"),
    "seq 2.0": (_field("seq", "2.0"), "seq must be an integer"),
    "upper-case sha256": (_sha(str.upper), "sha256 must be 64 lowercase hex digits"),
    "short sha256": (_sha(lambda d: d[:63]), "sha256 must be 64 lowercase hex digits"),
    "upper-case previous": (_field("previous", '"' + "AB" * 32 + '"'), "previous must be null or 64 lowercase hex"),
    "RLO in the village name": (_village_name("洪泉\u202e村"), "village.name holds the control or bidi character U+202E"),
    "NUL in the village name": (_village_name("洪泉\x00村"), "village.name holds the control or bidi character U+0000"),
    "ESC in data_as_of": (_field("data_as_of", '"2025-05-31\\u001b"'), "data_as_of holds the control or bidi"),
    "week date": (_field("data_as_of", '"2025-W22-6"'), "data_as_of must be an ISO 8601 date"),
    # json recurses once per level: this raised RecursionError (a traceback, not a refusal)
    "deep nesting": (lambda t: t.replace('{\n', '{\n  "future": ' + "[" * 100_000 + "]" * 100_000 + ",\n", 1),
                     "nests deeper than"),
    "NaN count": (lambda t: re.sub(r'"assets": \d+', '"assets": NaN', t), "NaN"),
}


@pytest.mark.parametrize("case", CASES)
def test_odd_manifest_refused_before_copying(home, small_bundle, test_key, tmp_path, capsys, case):
    edit, needle = CASES[case]
    bundle = _signed(small_bundle, tmp_path / "b", test_key, edit)
    before = tree_digest(home)
    rc = run_cli("import", bundle)
    err = capsys.readouterr().err
    assert rc == Exit.BUNDLE, err
    assert needle in err, err
    assert err.count("\n") == 1 and re.search(r"[\u4e00-\u9fff]", err), err  # one line, with its Chinese
    assert tree_digest(home) == before


def test_refused_at_precheck_on_the_stick(home, small_bundle, test_key, tmp_path):
    """A digest of the wrong form is refused from the manifest alone, not after a copy."""
    from kiosk.cache.bundle import BundleError

    steps: list[str] = []
    with pytest.raises(BundleError, match="sha256 must be 64 lowercase hex digits"):
        install.install(_signed(small_bundle, tmp_path / "b", test_key, _sha(lambda d: d[:62])), home,
                        on_step=steps.append)
    assert steps == ["precheck"]


def test_unknown_top_level_field_is_ignored(home, small_bundle, test_key, tmp_path, capsys):
    """Forward compatibility: a field this version does not know installs as before."""
    bundle = _signed(small_bundle, tmp_path / "b", test_key,
                     lambda t: t.replace("{\n", '{\n  "viewer": {"files": ["public/index.html"], "note": "line\\nbreak"},\n', 1))
    assert run_cli("import", bundle) == 0
    assert "installed 第1版" in capsys.readouterr().out
    assert install.read_state(home)["highest_seq"] == 1
