"""Key roles: an app-signing key rotates through the same signed key lists as data keys but
never signs data (nor key lists); key lists and trust stores written before roles stay valid."""
from __future__ import annotations

import base64
import json

from conftest import build_bundle, run_cli, tree_digest

from kiosk.cache import highwater, keys


def _kid(keydir) -> str:
    return keys.key_id(keys.load_public(keydir / "signing.pub"))


def test_old_key_list_stays_valid(home, test_key, other_test_key, tmp_path):
    """A version 1 list (no roles) is applied as before: every key a data key."""
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", test_key / "signing.pub", other_test_key / "signing.pub",
                   "--key", test_key / "signing.key", "--seq", 1, "--out", kl) == 0
    doc = json.loads((kl / "keylist.json").read_bytes())
    assert doc["version"] == 1 and all("roles" not in e for e in doc["keys"])
    assert run_cli("trust", "--rotate", kl) == 0
    store = keys.TrustStore(home)
    assert {k.key_id for k in store.keys()} == {_kid(test_key), _kid(other_test_key)}
    assert store.keys(role=keys.APP) == []
    assert keys.keys_problem(home) is None


def test_app_key_rotates_in_but_never_signs_data(home, test_key, other_test_key, small_src, tmp_path, capsys):
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", test_key / "signing.pub", "--app-key", other_test_key / "signing.pub",
                   "--key", test_key / "signing.key", "--seq", 1, "--out", kl) == 0
    doc = json.loads((kl / "keylist.json").read_bytes())
    assert doc["version"] == 2
    assert {e["key_id"]: e["roles"] for e in doc["keys"]} == {_kid(test_key): ["data"], _kid(other_test_key): ["app"]}
    assert run_cli("trust", "--rotate", kl) == 0
    store = keys.TrustStore(home)
    assert [k.key_id for k in store.keys()] == [_kid(test_key)]
    assert [k.key_id for k in store.keys(role=keys.APP)] == [_kid(other_test_key)]
    assert len(store.keys(role=None)) == 2
    assert keys.keys_problem(home) is None
    # installed versions are verified against data keys only
    assert [k.key_id for k in keys.verification_keys(home)] == [_kid(test_key)]
    # a bundle signed with the app key is refused, one signed with the data key installed
    capsys.readouterr()
    before = tree_digest(home)
    assert run_cli("import", build_bundle(small_src, other_test_key, 1, tmp_path / "by-app-key")) == 3
    assert "trusted key" in capsys.readouterr().err and tree_digest(home) == before
    assert run_cli("import", build_bundle(small_src, test_key, 1, tmp_path / "by-data-key")) == 0
    # the app key cannot sign a key list either (it could make itself a data key)
    kl2 = tmp_path / "kl2"
    assert run_cli("keylist", "build", other_test_key / "signing.pub", "--key", other_test_key / "signing.key",
                   "--seq", 2, "--out", kl2) == 0
    before = tree_digest(home)
    assert run_cli("trust", "--rotate", kl2) == 14
    assert tree_digest(home) == before


def test_one_key_with_both_roles(home, test_key, tmp_path):
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", test_key / "signing.pub", "--app-key", test_key / "signing.pub",
                   "--key", test_key / "signing.key", "--seq", 1, "--out", kl) == 0
    doc = json.loads((kl / "keylist.json").read_bytes())
    assert doc["version"] == 2 and doc["keys"][0]["roles"] == ["app", "data"] and len(doc["keys"]) == 1
    assert run_cli("trust", "--rotate", kl) == 0
    (k,) = keys.TrustStore(home).keys(role=None)
    assert k.roles == ("app", "data")


def test_version_1_list_cannot_carry_roles(home, test_key, other_test_key, tmp_path, capsys):
    """A hand-made version 1 list naming an app role is refused (an older kiosk would read
    the same bytes as a data key)."""
    priv = keys.load_private(test_key / "signing.key")
    pub = keys.load_public(other_test_key / "signing.pub")
    doc = {"type": keys.KEYLIST_TYPE, "version": 1, "seq": 3, "issued_at": "2026-01-01T00:00:00Z",
           "signer_key_id": _kid(test_key),
           "keys": [{"key_id": keys.key_id(pub), "public_key": base64.b64encode(keys.raw_public(pub)).decode(),
                     "label": "x", "roles": ["app"]}]}
    kl = tmp_path / "kl"
    kl.mkdir()
    data = json.dumps(doc).encode()
    (kl / "keylist.json").write_bytes(data)
    (kl / "keylist.sig").write_bytes(priv.sign(data))
    before = tree_digest(home)
    capsys.readouterr()
    assert run_cli("trust", "--rotate", kl) == 14
    assert "version 1" in capsys.readouterr().err and tree_digest(home) == before


def test_role_changed_by_hand_is_noticed(home, test_key):
    path = home / "trust" / "keys.json"
    doc = json.loads(path.read_text())
    doc["keys"][0]["roles"] = ["app", "data"]
    path.write_text(json.dumps(doc))
    problem = keys.keys_problem(home)
    assert problem and "outside a signed rotation" in problem[0]
    assert highwater.read(home)["keys"]["ids"] == [_kid(test_key)]


def test_trust_if_new(home, test_key, other_test_key, capsys):
    assert run_cli("trust", test_key / "signing.pub", "--if-new") == 0
    assert "already trusted" in capsys.readouterr().out
    # a different key still needs the PIN or a key list
    assert run_cli("trust", other_test_key / "signing.pub", "--if-new") == 14
