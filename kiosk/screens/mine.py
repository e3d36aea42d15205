"""我的查询: the card holder's own 到户资金 (totals per year) and 办事结果, after their ID card
is read. A card placed on any screen opens it (the App, on the card service's
``CardPresented``).

Privacy: the card (an ``IdCard`` with the full ID number) is handed straight to the worker
job that computes the holder key (:func:`kiosk.personal.lookup`) and is not kept; the screen
keeps only the masked name and the records, and drops them when the card is removed, on 退出,
首页/返回 and the idle timer (every way off this screen goes through ``on_leave``). After a
leave that was not a removal the card service is told to ``forget`` the card (a card left
on the reader cannot always be told from a removed one: docs/devices.md). Nothing here logs
the ID number or the name.
"""
from __future__ import annotations

import logging
import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

import kiosk.screens.service_detail  # noqa: F401  (StepRow)
from kiosk import personal, receipts
from kiosk.formatting import date_cn, money
from kiosk.screens.printing import PrintButton  # noqa: F401  (used in mine.kv)
from kiosk.screens.widgets import KioskScreen, make, rich, to_top, unrich

log = logging.getLogger("kiosk.mine")

READER_MISSING = "身份证读卡器未连接或已断开，请联系工作人员"
NO_RECORDS = "没有查到您本人的到户资金和办事结果记录。\n如有疑问，请向村务监督委员会或乡镇（街道）咨询。"


class MineScreen(KioskScreen):
    #: prompt (place the card) | reading (正在查询…) | shown (records) | empty (no records)
    phase = StringProperty("prompt")
    message = StringProperty("")        # refused card type / reader error, in Chinese
    greeting = StringProperty("")
    summary = StringProperty("")
    reader_missing = BooleanProperty(False)
    demo = BooleanProperty(False)       # the reader is the simulator: show the demo buttons
    records = ObjectProperty(None, allownone=True)  # kiosk.personal.PersonalRecords while shown

    def __init__(self, **kw):
        super().__init__(**kw)
        self._gen = 0
        self._demo_next = 0
        self.demo = self._card_service().simulator is not None

    @staticmethod
    def _card_service():
        return App.get_running_app().services.card

    # ---- navigation -------------------------------------------------------------------------
    def open(self, **params):
        self.message = ""

    def on_leave(self, *args):
        """Every way off this screen (首页, 返回, idle, another screen): drop the records and
        let the watcher forget a card still lying on the reader."""
        had = self.records is not None or self.phase == "reading"
        self.clear()
        if had:
            self._card_service().forget()

    def quit(self) -> None:
        """退出: drop the records and go to 首页 (on_leave also forgets the card)."""
        App.get_running_app().go_home()

    def clear(self) -> None:
        self._gen += 1
        self.records = None
        self.phase = "prompt"
        self.greeting = self.summary = ""
        for box in ("payments", "services"):
            self.ids[box].clear_widgets()

    # ---- card events (main thread) ----------------------------------------------------------
    def card_placed(self, card) -> None:
        self.clear()
        self.message = ""
        self.phase = "reading"
        gen = self._gen

        def done(rec):
            if gen != self._gen:  # removed (or left) while the key was computed
                return
            self._show(rec)

        def failed_safe(m, card=card):
            return personal.lookup(m, card)

        self.load(failed_safe, done)
        del card  # the job's closure is the only holder until it finishes

    def card_removed(self) -> None:
        if self.records is not None or self.phase == "reading":
            self.clear()
            self.message = "身份证已取走，您的信息已关闭"

    def card_error(self, text: str) -> None:
        self.clear()
        self.message = text

    # ---- showing ----------------------------------------------------------------------------
    def _show(self, rec) -> None:
        self.records = rec
        to_top(self)  # each holder's records start at their top, not where the last one scrolled
        App.get_running_app().nav.activity()  # the records just appeared: the idle time starts now
        self.greeting = rich(rec.greeting)
        if rec.empty:
            self.phase = "empty"
            return
        self.phase = "shown"
        self.summary = rich(f"到户资金 共 {len(rec.payments)} 笔，合计 {money(rec.total)}" if rec.payments
                            else "没有到户资金记录")
        box = self.ids.payments
        for y in rec.years:
            box.add_widget(make('Heading', text=rich(f"{y.year}年　共 {y.count} 笔　合计 {money(y.amount)}")))
            for p in rec.payments_in(y.year):
                box.add_widget(make('PayRow', title=rich(f"{p['item']}（{p['period']}）"),
                                    sub=rich(f"发放日期 {date_cn(p['paid_on'])}　依据 {p['basis']}"),
                                    amount=rich(money(p["amount"]))))
        sbox = self.ids.services
        if not rec.services:
            sbox.add_widget(make('Heading', text=rich("办事结果：没有记录")))
        for s in rec.services:
            sbox.add_widget(make('Heading', text=rich(f"{s['power_name']}　{s['result']}")))
            sbox.add_widget(make('PayRow', title="", sub=rich(f"办结日期 {date_cn(s['decided_on'])}"), amount=""))
            steps = s.get("steps") or []
            for i, st in enumerate(steps):
                sbox.add_widget(make('StepRow', no=str(i + 1), step=rich(st.get("step", "")),
                                     when=rich(date_cn(st["date"]) if st.get("date") else ""),
                                     note=rich(st.get("note") or ""), first=i == 0, last=i == len(steps) - 1))

    def spoken(self) -> list[tuple[str, str]]:
        """What the screen says: the prompt or message, or the holder's totals, each year's
        payments and each service result. The holder's name is not read out loud (others
        may stand nearby); it is on the screen."""
        out = [("", self.frame_title())]
        rec = self.records
        if self.phase != "shown" or rec is None:
            prompt = self.ids.prompt.text if self.phase != "shown" else ""
            for t in (self.message, prompt, unrich(self.ids.explain.text)):
                if t and t.strip():
                    out.append(("", unrich(t).replace("\n", "")))
            return out
        out.append(("", unrich(self.summary)))
        for y in rec.years:
            out.append(("", f"{y.year}年，共 {y.count} 笔，合计 {money(y.amount)}"))
            for pay in rec.payments_in(y.year):
                out.append(("", f"{pay['item']}，{pay['period']}，{date_cn(pay['paid_on'])}发放，{money(pay['amount'])}"))
        for sv in rec.services:
            out.append(("办事结果", f"{sv['power_name']}，{sv['result']}，{date_cn(sv['decided_on'])}办结"))
        return out

    def print_payments(self) -> None:
        rec = self.records
        if rec is None:
            return
        App.get_running_app().print_record(lambda m, link: receipts.payments(rec, m.info, link))

    # ---- demo (simulated reader only) -------------------------------------------------------
    def demo_place(self) -> None:
        sim = self._card_service().simulator
        if sim is not None:
            sim.place(self._demo_next % min(5, len(sim.cards)))
            self._demo_next += 1

    def demo_remove(self) -> None:
        sim = self._card_service().simulator
        if sim is not None:
            sim.remove()


Builder.load_file(os.path.join(os.path.dirname(__file__), "mine.kv"))
