"""Township/county bundles: several village sources, one signed bundle, a Mirror per village."""
from __future__ import annotations

import json

import pytest
from conftest import build_bundle
from sourcekit import small_source, write_source

from kiosk.cache import install
from kiosk.cache.mirror import open_current
from kiosk.records import SourceError

A, B = "431382111249", "431382111202"  # 洪泉村, 赵家村: both 白马镇 431382111


@pytest.fixture(scope="module")
def township_src(tmp_path_factory):
    root = tmp_path_factory.mktemp("twp") / "src"
    write_source(root / A)
    data = small_source()
    data["village"]["code"] = B
    data["finance"] = data["finance"][:2]          # B: 2 finance lines, no project
    data["projects"] = []
    data["assets"][0]["counterparty"] = "赵大海"
    write_source(root / B, data)
    return root


def test_township_bundle_manifest_and_scope(township_src, test_key, tmp_path, home):
    b = build_bundle(township_src, test_key, 1, tmp_path / "b")
    m = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    assert m["scope"] == "431382111" and m["villages"] == [B, A] and "village" not in m
    assert m["counts"] == {"finance": 7, "projects": 1, "assets": 4, "services": 2, "powers": 2, "payments": 4}
    install.install(b, home)
    mir = open_current(home)
    assert mir.village is None and mir.info.village_name == "白马镇"
    assert [(v["code"], v["name"]) for v in mir.villages] == [(B, "赵家村"), (A, "洪泉村")]
    a, bb = mir.with_village(A), mir.with_village(B)
    assert a.info.village_name == "洪泉村" and bb.info.village_name == "赵家村"
    assert a.info.counts == {"finance": 5, "projects": 1, "assets": 2, "services": 1, "powers": 1}
    assert bb.info.counts["finance"] == 2 and bb.info.counts["projects"] == 0
    # every public query is restricted to the chosen village; ids are qualified
    assert [r["id"] for r in a.projects_page().rows] == [f"{A}/P1"] and bb.projects_page().rows == []
    assert [r["id"] for r in bb.finance_page(2025).rows] == [f"{B}/F2", f"{B}/F1"]
    assert a.finance_totals(2025).count == 4 and bb.finance_totals(2025).count == 2
    assert {r["village_code"] for r in mir.assets_page().rows} == {A, B}
    assert [r["id"] for r in a.powers()] == [f"{A}/PW-C05"]
    assert a.finance_get(f"{A}/F3")["reverses"]["id"] == f"{A}/F2"
    assert a.service_get(f"{A}/S1")["power_id"] == f"{A}/PW-C05"
    # search stays in the village; the grids are per village
    assert [h.record_id for h in a.search("路灯").groups["finance"]] == [f"{A}/F4"]
    assert bb.search("路灯").total == 0
    assert [h.record_id for h in bb.search(initials="zh").groups["assets"]] == [f"{B}/A1"]
    assert a.search(initials="zh").total == 0
    assert dict(bb.search_facets()["surname"]) == {"赵": 1, "张": 1}
    with pytest.raises(ValueError):
        mir.with_village("431382111201")
    mir.close()


def test_single_village_bundle_keeps_village_scope(small_bundle, home):
    m = json.loads((small_bundle / "manifest.json").read_text(encoding="utf-8"))
    assert m["scope"] == A and m["village"] == {"code": A, "name": "洪泉村"}
    install.install(small_bundle, home)
    mir = open_current(home)
    assert mir.village == A and len(mir.villages) == 1 and mir.info.counts["payments"] == 2
    assert [r["id"] for r in mir.projects_page().rows] == ["P1"]
    mir.close()


def test_township_bundle_refused_by_village_kiosk(township_src, test_key, tmp_path, home, capsys, monkeypatch):
    b = build_bundle(township_src, test_key, 1, tmp_path / "b")
    with pytest.raises(Exception, match="bundle is for 431382111"):
        install.install(b, home, scope=A)


def test_villages_of_different_counties_refused(tmp_path, test_key):
    from conftest import run_cli

    root = tmp_path / "src"
    write_source(root / A)
    data = small_source()
    data["village"]["code"] = "431302001001"  # 娄星区
    write_source(root / "x", data)
    assert run_cli("bundle", "build", root, "--key", test_key / "signing.key", "--seq", 1, "--out", tmp_path / "o",
                   "--id-hash-n", 1024, "--quiet") != 0
    assert not (tmp_path / "o").exists()


def test_empty_source_folder_refused(tmp_path):
    from kiosk.county.build import village_sources

    (tmp_path / "s").mkdir()
    with pytest.raises(SourceError, match="village.json missing"):
        village_sources(tmp_path / "s")
