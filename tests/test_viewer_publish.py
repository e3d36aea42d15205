"""``kiosk publish BUNDLE DIR --web WEBDIR --pubkey KEY``: the kiosks' tree as before, and a
world-readable web tree with the phone viewer and the public files only."""
from __future__ import annotations

import base64
import json

import pytest

from conftest import run_cli
from kiosk import viewer
from kiosk.cache import keys
from kiosk.county import public
from kiosk.errors import Exit

pytestmark = pytest.mark.skipif(not viewer.built(), reason="phone viewer not built (make viewer)")
VILLAGE = "431382111249"


def test_web_tree_has_the_viewer_and_no_personal_data(tmp_path, small_bundle, test_key, capsys):
    kt, web = tmp_path / "kiosk", tmp_path / "web"
    assert run_cli("publish", small_bundle, kt, "--web", web, "--pubkey", test_key / "signing.pub") == 0
    assert (kt / VILLAGE / "v000001" / "data" / "village.sqlite").exists()  # the kiosks' tree as before
    files = sorted(p.relative_to(web).as_posix() for p in web.rglob("*") if p.is_file())
    assert not [f for f in files if "/data/" in f or f.endswith("village.sqlite")]
    v = f"{VILLAGE}/v000001/"
    assert {v + "manifest.json", v + "manifest.sig", *(v + f for f in public.FILES),
            f"{VILLAGE}/latest/manifest.json", f"{VILLAGE}/index.html", "index.html",
            "viewer/keys.json", "viewer/LICENSES.txt", "viewer/sql-wasm.wasm.gz"} <= set(files)
    for a in viewer.ASSETS:
        assert (web / "viewer" / a).read_bytes() == (viewer.dist_dir() / a).read_bytes()
    pub = keys.load_public(test_key / "signing.pub")
    [k] = json.loads((web / "viewer/keys.json").read_text())["keys"]
    assert k["key_id"] == keys.key_id(pub) and base64.b64decode(k["public_key"]) == keys.raw_public(pub)
    page = (web / VILLAGE / "index.html").read_text(encoding="utf-8")
    assert f'"village": "{VILLAGE}"' in page and f'"scope": "{VILLAGE}"' in page and "../viewer/app.js" in page
    assert "洪泉村" in (web / "index.html").read_text(encoding="utf-8")
    lic = (web / "viewer/LICENSES.txt").read_text(encoding="utf-8")
    assert "sql.js 1.17.0" in lic and "tweetnacl 1.0.3" in lic and "@noble/hashes" in lic
    # publishing again is a no-op; the key list is kept without --pubkey
    assert run_cli("publish", small_bundle, kt, "--web", web) == 0
    assert json.loads((web / "viewer/keys.json").read_text())["keys"] == [k]


def test_a_bundle_that_the_published_key_does_not_verify_is_refused(tmp_path, small_bundle, other_test_key):
    web = tmp_path / "web"
    assert run_cli("publish", small_bundle, tmp_path / "kiosk", "--web", web,
                   "--pubkey", other_test_key / "signing.pub") == Exit.BUNDLE
    assert not (web / VILLAGE).exists()


def test_without_a_key_the_kiosks_tree_is_still_published(tmp_path, small_bundle, capsys):
    kt = tmp_path / "kiosk"
    assert run_cli("publish", small_bundle, kt) == 0
    assert (kt / VILLAGE / "latest" / "manifest.json").exists() and not (kt / "viewer").exists()
    assert "phone viewer not written" in capsys.readouterr().err
    assert run_cli("publish", small_bundle, tmp_path / "k2", "--web", tmp_path / "w2") == Exit.FAILED


@pytest.mark.parametrize("damage", ["flip", "truncate"])
@pytest.mark.parametrize("with_key", [True, False])
def test_a_damaged_bundle_is_not_published(small_bundle, test_key, tmp_path, capsys, damage, with_key):
    """kiosk publish once laid out a damaged bundle, pointed latest/ at it, then failed:
    kiosks would fetch a bundle they refuse. Now it refuses first and writes nothing."""
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(small_bundle, bad)
    db = next(p for p in (bad / "data").iterdir() if p.suffix == ".sqlite")
    raw = bytearray(db.read_bytes())
    if damage == "flip":
        raw[len(raw) // 2] ^= 0x01
    else:
        raw = raw[:-100]
    db.write_bytes(bytes(raw))
    out = tmp_path / "out"
    args = ["publish", bad, out] + (["--pubkey", test_key / "signing.pub"] if with_key else [])
    assert run_cli(*args) == Exit.BUNDLE
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ("SHA-256" in err or "size" in err), err
    assert not out.exists()
