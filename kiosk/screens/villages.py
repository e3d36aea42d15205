"""选择村: a township or county kiosk (bundle scope = township/county code) first shows big
buttons for its villages (a county: its townships first, then that township's villages);
choosing one restricts every section to that village (the data service's
``choose_village``; 返回 on that village's 首页 leads back here)."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens.widgets import KButton, KioskScreen, rich


def group_townships(villages: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """``[(township code, township name, [village rows])]`` in code order."""
    out: dict[str, tuple[str, list[dict]]] = {}
    for v in villages:
        out.setdefault(v["township_code"], (v["township_name"], []))[1].append(v)
    return [(c, name, vs) for c, (name, vs) in sorted(out.items())]


class VillagesScreen(KioskScreen):
    heading = StringProperty("请选择村（社区）")

    def open(self, township: str | None = None, **params):
        self.township = township
        self.ids.grid.clear_widgets()
        self.load(lambda m: (m.scope, list(m.villages)), self._got)

    def _got(self, res):
        scope, villages = res
        self.villages = villages
        groups = group_townships(villages)
        grid = self.ids.grid
        grid.clear_widgets()
        if len(groups) > 1 and not self.township:
            self.heading = "请选择乡镇（街道）"
            for code, name, vs in groups:
                b = KButton(text=f"{rich(name)}\n{len(vs)} 个村（社区）", halign="center")
                b.bind(on_release=lambda b, code=code: App.get_running_app().go("villages", township=code))
                grid.add_widget(b)
            return
        shown = [v for v in villages if not self.township or v["township_code"] == self.township]
        self.heading = "请选择村（社区）" if shown else "没有村的数据"
        for v in shown:
            b = KButton(text=rich(v["name"]), halign="center")
            b.bind(on_release=lambda b, code=v["code"]: self.choose(code))
            grid.add_widget(b)

    def choose(self, code: str) -> None:
        App.get_running_app().data.choose_village(code)


Builder.load_file(os.path.join(os.path.dirname(__file__), "villages.kv"))
