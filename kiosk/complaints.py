"""监督投诉: where a villager can raise a question or complaint, from the village profile the
bundle carries (``village.json`` → ``villages.profile_json``, docs/data-model.md), and the slip
that prints all of it.

:func:`channels` gives what the 监督投诉 screen shows: the channels with a QR code (the county
platform's complaint page, the WeChat official account, 用手机查看本村公开, and the village
supervision group while its own QR code is current) and the lines without one (the group's name
and administrator once its QR code has expired, the 12388 hotline, the township and county
discipline offices, the 村务监督委员会). :func:`slip` composes the printable slip.

:func:`validate` checks these fields of a source export, one line per defect.

Source: 12388 is the national reporting number of the discipline inspection and supervision
organs (中央纪委国家监委举报电话); a WeChat group's own QR code is valid for 7 days.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from kiosk.devices.printer import Receipt

HOTLINE = "12388"
#: a WeChat group's QR code expires this many days after it is made
GROUP_QR_DAYS = 7
URL_MAX = 300  # a longer URL makes a QR code too dense for a 58 mm receipt
_URL = re.compile(r"https?://[^\s\"<>]+")
_PHONE = re.compile(r"[0-9][0-9\-]{2,19}")


@dataclass(frozen=True)
class Channel:
    """One way to complain: ``label`` (what it is), ``text`` (name, number or address shown),
    ``qr`` (the payload of its QR code, or None), ``note`` (e.g. 群主 or a validity date)."""

    label: str
    text: str
    qr: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Channels:
    """``with_qr``: channels shown with a QR code; ``lines``: the rest, as text (phones to call,
    the group without a current QR code); ``committee``: the 村务监督委员会 members."""

    with_qr: list[Channel] = field(default_factory=list)
    lines: list[Channel] = field(default_factory=list)
    committee: list[Channel] = field(default_factory=list)


def viewer_url(profile: dict, village_code: str, link=None) -> str | None:
    """用手机查看本村公开: the bundle's ``complaints.viewer_url`` (signed with the data), else the
    kiosk's ``viewer.base_url`` + ``/<village>/`` (``link``: a :class:`kiosk.receipts.ViewerLink`)."""
    url = ((profile or {}).get("complaints") or {}).get("viewer_url")
    if url:
        return url
    if link is not None and getattr(link, "base_url", ""):
        return f"{link.base_url.rstrip('/')}/{village_code}/"
    return None


def channels(profile: dict | None, info=None, link=None, today: dt.date | None = None) -> Channels:
    """The 监督投诉 channels of a village profile (``MirrorInfo.profile``). ``info`` gives the
    village code for the viewer link; ``today`` decides whether the group's QR is current.
    Missing parts are left out; the 12388 hotline is always there."""
    p = profile or {}
    c = p.get("complaints") or {}
    today = today or dt.date.today()
    out = Channels()
    if c.get("platform_url"):
        out.with_qr.append(Channel("县互联网+监督平台投诉", "扫码打开投诉页面", c["platform_url"]))
    if c.get("wechat_official_account"):
        acct = c["wechat_official_account"]
        if c.get("wechat_official_account_url"):
            out.with_qr.append(Channel("微信公众号", acct, c["wechat_official_account_url"]))
        else:
            out.lines.append(Channel("微信公众号", f"微信搜索“{acct}”"))
    url = viewer_url(p, getattr(info, "village_code", ""), link) if info is not None else c.get("viewer_url")
    if url:
        out.with_qr.append(Channel("用手机查看本村公开", "扫码查看本村财务、项目等公开信息", url))
    g = c.get("village_group") or {}
    if g.get("name"):

        exp = g.get("qr_expires_on")
        current = bool(g.get("qr_url") and exp and today <= dt.date.fromisoformat(exp))
        if current:
            out.with_qr.append(Channel("村务监督微信群", g["name"], g["qr_url"],
                                       f"二维码{dt.date.fromisoformat(exp).month}月{dt.date.fromisoformat(exp).day}日前有效"))
        else:
            out.lines.append(Channel("村务监督微信群", g["name"], None,
                                     f"请联系群主{g['admin']}入群" if g.get("admin") else "请到村部询问入群方式"))
    out.lines.append(Channel("纪检监察举报电话", c.get("hotline") or HOTLINE))
    for o, label in ((p.get("discipline_office"), "乡镇纪委"), (c.get("county_discipline_office"), "县纪委监委")):
        if o and o.get("name"):
            out.lines.append(Channel(label, f"{o['name']} {o.get('phone', '')}".strip()))
    for m in p.get("supervision_committee") or []:
        out.committee.append(Channel(f"村务监督委员会{m.get('role', '')}", f"{m.get('name', '')} {m.get('phone', '')}".strip()))
    return out


def slip(ch: Channels, info) -> Receipt:
    """The printable 监督投诉 slip: every channel, QR codes with their captions, the data
    version footer. ``info``: the ``MirrorInfo`` shown."""
    r = Receipt("监督投诉渠道", village=f"{info.township_name}·{info.village_name}")
    r.text("对村务公开内容有疑问，可以通过以下方式反映：")
    for c in ch.with_qr:
        r.rule()
        r.text(c.label, bold=True)
        r.qr(c.qr, c.text + (f"（{c.note}）" if c.note else ""))
    r.rule()
    for c in ch.lines:
        r.row(c.label, c.text)
        if c.note:
            r.text(f"　{c.note}")
    for c in ch.committee:
        r.row(c.label, c.text)
    return r.footer(seq=info.seq, fingerprint=info.fingerprint, data_as_of=info.data_as_of)


# ---------------------------------------------------------------- source validation (county side)

def _url(v: Any) -> str | None:
    if not isinstance(v, str) or not _URL.fullmatch(v):
        return "not an http(s):// address"
    if len(v) > URL_MAX:
        return f"longer than {URL_MAX} characters (too dense for a receipt's QR code)"
    return None


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _phone(v: Any) -> str | None:
    return None if isinstance(v, str) and _PHONE.fullmatch(v) else "not a phone number (digits and '-')"


def _date(v: Any) -> str | None:
    try:
        dt.date.fromisoformat(v)
        return None if isinstance(v, str) and len(v) == 10 else "not a date YYYY-MM-DD"
    except (TypeError, ValueError):
        return "not a date YYYY-MM-DD"


def validate(village: dict) -> list[str]:
    """Defects of the complaint-channel fields of ``village.json``, one line each
    (``village.json: complaints.platform_url: not an http(s):// address``). Every field is
    optional (older exports lack them); when present it must be well-formed:

    - ``complaints.platform_url``, ``wechat_official_account_url``, ``viewer_url``,
      ``village_group.qr_url``: http(s) addresses of at most 300 characters;
    - ``complaints.wechat_official_account``, ``village_group.name``/``admin``: non-empty text;
    - ``village_group.qr_url`` and ``qr_expires_on`` (a date) come together;
    - ``complaints.hotline``, ``discipline_office.phone``, ``county_discipline_office.phone``:
      phone numbers; each office has a ``name``;
    - ``received``/``handled``: whole numbers ≥ 0, ``handled`` ≤ ``received``.
    """
    out: list[str] = []

    def check(path: str, value: Any, fn) -> None:
        why = fn(value)
        if why:
            out.append(f"village.json: {path}: {why}")

    c = village.get("complaints")
    if c is None:
        c = {}
    elif not isinstance(c, dict):
        return ["village.json: complaints: must be an object"]
    for k in ("platform_url", "wechat_official_account_url", "viewer_url"):
        if k in c:
            check(f"complaints.{k}", c[k], _url)
    if "wechat_official_account" in c:
        check("complaints.wechat_official_account", c["wechat_official_account"], _text)
    if "hotline" in c:
        check("complaints.hotline", c["hotline"], _phone)
    g = c.get("village_group")
    if g is not None:
        if not isinstance(g, dict):
            out.append("village.json: complaints.village_group: must be an object")
        else:
            for k in ("name", "admin"):
                if k in g:
                    check(f"complaints.village_group.{k}", g[k], _text)
            if "qr_url" in g:
                check("complaints.village_group.qr_url", g["qr_url"], _url)
            if "qr_expires_on" in g:
                check("complaints.village_group.qr_expires_on", g["qr_expires_on"], _date)
            if ("qr_url" in g) != ("qr_expires_on" in g):
                out.append("village.json: complaints.village_group: qr_url and qr_expires_on go together "
                           f"(a group's QR code expires after {GROUP_QR_DAYS} days)")
    for path, o in (("discipline_office", village.get("discipline_office")),
                    ("complaints.county_discipline_office", c.get("county_discipline_office"))):
        if o is None:
            continue
        if not isinstance(o, dict):
            out.append(f"village.json: {path}: must be an object")
            continue
        check(f"{path}.name", o.get("name"), _text)
        if "phone" in o:
            check(f"{path}.phone", o["phone"], _phone)
    for k in ("received", "handled"):
        if k in c and (not isinstance(c[k], int) or isinstance(c[k], bool) or c[k] < 0):
            out.append(f"village.json: complaints.{k}: must be a whole number ≥ 0")
    if isinstance(c.get("received"), int) and isinstance(c.get("handled"), int) and c["handled"] > c["received"]:
        out.append("village.json: complaints.handled: more than received")
    return out
