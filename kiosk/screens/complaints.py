"""监督投诉: complaint channels, the 村务监督委员会 and the township discipline office, and
complaint figures, from the village profile (village.json → villages.profile_json)."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder

from kiosk.screens.widgets import KioskScreen, rich


def profile_sections(profile: dict) -> list[tuple[str, list[tuple[str, str]]]]:
    """The profile as ``[(heading, [(key, value), ...]), ...]`` in plain text (not markup).

    Missing parts are left out; ``received``/``handled`` only when present.
    """
    out = []
    comp = profile.get("complaints") or {}
    ch = []
    if comp.get("platform_url"):
        ch.append(("互联网+监督平台", comp["platform_url"]))
    if comp.get("wechat_official_account"):
        ch.append(("微信公众号", comp["wechat_official_account"]))
    grp = comp.get("village_group") or {}
    if grp.get("name"):
        ch.append(("村务监督微信群", grp["name"] + (f"（群主 {grp['admin']}）" if grp.get("admin") else "")))
    if ch:
        out.append(("投诉渠道", ch))
    office = profile.get("discipline_office") or {}
    if office:
        out.append(("乡镇纪委", [(office.get("name", "纪委"), office.get("phone", ""))]))
    fig = []
    if "received" in comp:
        fig.append(("收到投诉", f"{comp['received']} 件"))
    if "handled" in comp:
        fig.append(("已办结", f"{comp['handled']} 件"))
    if fig:
        out.append(("投诉办理情况", fig))
    sup = profile.get("supervision_committee") or []
    if sup:
        out.append(("村务监督委员会", [(f"{p.get('role', '')} {p.get('name', '')}".strip(), p.get("phone", "")) for p in sup]))
    cad = profile.get("cadres") or []
    if cad:
        out.append(("村干部", [(p.get("role", ""), f"{p.get('name', '')}  {p.get('phone', '')}".strip()) for p in cad]))
    return out


class ComplaintsScreen(KioskScreen):
    warm_on_idle = True

    def open(self, **params):
        from kiosk.screens.widgets import AutoLabel
        from kiosk.screens.theme import COLORS

        left, right = self.ids.left, self.ids.right
        info = App.get_running_app().info
        profile = (info.profile if info else None) or {}
        if left.children and profile == getattr(self, "_shown_profile", None):
            return  # same data version: the page is already built (building it costs ~0.1 s)
        self._shown_profile = profile
        left.clear_widgets()
        right.clear_widgets()
        secs = profile_sections(profile)
        if not secs:
            left.add_widget(AutoLabel(text="暂无投诉渠道信息"))
        for head, rows in secs:
            # channels, figures and the discipline office left; people to call right
            box = right if head in ("村务监督委员会", "村干部") else left
            box.add_widget(AutoLabel(text=rich(head), role="large", bold=True, color=COLORS["button2_text"]))
            for k, v in rows:
                box.add_widget(AutoLabel(text=f"[b]{rich(k)}：[/b]{rich(v)}"))  # a line may break after the colon, never before


Builder.load_file(os.path.join(os.path.dirname(__file__), "complaints.kv"))
