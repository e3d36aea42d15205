"""监督投诉: where a villager can raise a question or a complaint (kiosk.complaints.channels):
QR codes for the county platform's complaint page, the WeChat official account, 用手机查看本村公开
(the phone viewer) and the village supervision group while its own QR code is current; the
12388 hotline, the township and county discipline offices, the group's name and administrator
once its QR code expired; the 村务监督委员会, the village cadres and the complaint figures from
the village profile. 打印 prints it all as a slip (kiosk.complaints.slip).

The channels are worked out on every open (a group's QR code expires after 7 days) on the data
worker, with the viewer link of the version shown and the kiosk's date; the QR matrices are made
there too and drawn on screen as textures (kiosk.screens.qr).
"""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty

from kiosk import complaints
from kiosk.screens.attention import WrapLabel  # noqa: F401  (kv)
from kiosk.screens.qr import QRImage, qr_matrix  # noqa: F401  (kv)
from kiosk.screens.widgets import KioskScreen, pooled

def complaint_page(m, link, today) -> dict:
    """What 监督投诉 shows (worker): ``channels`` (kiosk.complaints.Channels), ``qr`` (one
    module matrix per QR channel), ``people`` [(heading, [(label, text)])] (村务监督委员会,
    投诉办理情况, 村干部)."""
    if m is None:
        return {"channels": complaints.Channels(), "qr": [], "people": []}
    profile = m.info.profile or {}
    ch = complaints.channels(profile, m.info, link, today)
    return {"channels": ch, "qr": [qr_matrix(c.qr) for c in ch.with_qr], "people": people_sections(profile, ch)}


def people_sections(profile: dict, ch) -> list[tuple[str, list[tuple[str, str]]]]:
    """The right-hand column: the 村务监督委员会, the complaint figures (received/handled only
    when the profile has them) and the village cadres."""
    out = []
    if ch.committee:
        out.append(("村务监督委员会", [(c.label.replace("村务监督委员会", "") or "委员", c.text) for c in ch.committee]))
    comp = profile.get("complaints") or {}
    fig = [(k, f"{comp[key]} 件") for key, k in (("received", "收到投诉"), ("handled", "已办结")) if key in comp]
    if fig:
        out.append(("投诉办理情况", fig))
    cad = profile.get("cadres") or []
    if cad:
        out.append(("村干部", [(p.get("role", ""), f"{p.get('name', '')} {p.get('phone', '')}".strip()) for p in cad]))
    return out


def channel_lines(ch) -> list[tuple[str, str]]:
    """The channels without a QR code as (label, text) lines, the 12388 hotline first; a note
    follows its text."""
    lines = sorted(ch.lines, key=lambda c: c.label != "纪检监察举报电话")
    return [(c.label, c.text + (f"（{c.note}）" if c.note else "")) for c in lines]


#: QR codes side by side (the channels give four at most)
QR_PER_ROW = 4


class ComplaintsScreen(KioskScreen):
    warm_on_idle = True
    #: there is something to print (the channels always hold 12388)
    printable = BooleanProperty(False)

    def open(self, **params):
        app = App.get_running_app()
        data = app.data
        today = app.today()
        self.printable = False
        self.load(lambda m: complaint_page(m, data.viewer_link, today), self._got)

    def _got(self, page: dict) -> None:
        self.page = page
        ch = page["channels"]
        qrs = self.ids.qrs
        qrs.clear_widgets()
        qrs.cols = max(1, min(QR_PER_ROW, len(ch.with_qr)))
        for c, matrix in zip(ch.with_qr, page["qr"]):
            card = pooled(qrs, "QRCard", label=c.label, caption=c.text, note=c.note, data=c.qr, matrix=matrix)
            card.unbind(minimum_height=self._fit_cards)
            card.bind(minimum_height=self._fit_cards)
            qrs.add_widget(card)
        self._fit_cards()
        lines = self.ids.lines
        lines.clear_widgets()
        self._section(lines, "电话与其他渠道", channel_lines(ch))
        for head, rows in page["people"]:
            self._section(lines, head, rows)
        self.ids.scroll.scroll_y = 1
        self.printable = True

    def _fit_cards(self, *_):
        """The QR cards of a row all as tall as the tallest (their texts wrap differently)."""
        qrs = self.ids.qrs
        qrs.row_default_height = max([c.minimum_height for c in qrs.children] or [0])

    @staticmethod
    def _section(box, head: str, rows: list[tuple[str, str]]) -> None:
        box.add_widget(pooled(box, "ComplaintHeading", plain=head))
        for k, v in rows:
            box.add_widget(pooled(box, "AttentionRow", key=k, value=v, highlight=False))

    def print_slip(self) -> None:
        """打印: the slip with every channel and its QR code (built on the worker)."""
        app = App.get_running_app()
        today = app.today()
        app.print_record(lambda m, link: complaints.slip(complaints.channels(m.info.profile, m.info, link, today), m.info))

    def spoken(self) -> list[tuple[str, str]]:
        """Each channel with its QR code (label, what it opens), the other channels, then the
        people to call and the figures."""
        page = getattr(self, "page", None)
        if page is None:
            return [("", "监督投诉")]
        ch = page["channels"]
        pairs = [("", "监督投诉")]
        pairs += [(c.label, f"扫码，{c.text}" + (f"，{c.note}" if c.note else "")) for c in ch.with_qr]
        pairs += channel_lines(ch)
        for head, rows in page["people"]:
            pairs.append(("", head))
            pairs += rows
        return pairs


Builder.load_file(os.path.join(os.path.dirname(__file__), "complaints.kv"))
