"""What villagers read and hear about a flag: the 请关注 box on a record's screen, the lines of
the 本县规则 page, and the same words for read-aloud.

The tone prompts a question and accuses no one: a flag says what the county's rule is, what
the record shows, where the rule comes from and whom to ask. The record may have a good
reason (the county's 说明 is shown beside it when it gave one).

Inputs are the mirror's rows (``Mirror.flags_for`` / ``flags_page`` rows and ``Mirror.rules``
rows, see docs/mirror.md) and the village profile (``MirrorInfo.profile``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HEADING = "请关注"
#: Said under every box: the flag is a prompt, not a finding.
NOT_A_VERDICT = "这是按本县规则自动比对的提示，不是结论。这条记录也可能有合理的原因，有疑问可以问一问。"
SEVERITY_WORD = {"red": "请关注", "amber": "提示"}


def contacts(ask: str, profile: dict[str, Any] | None) -> list[str]:
    """Whom to ask, with names and telephone numbers from the village profile where known.

    ``ask`` is the rule's ``ask`` text, bodies separated by ``、`` (村务监督委员会、乡镇纪委).
    """
    profile = profile or {}
    out = []
    for body in [b.strip() for b in ask.split("、") if b.strip()]:
        line = body
        if body == "村务监督委员会":
            chief = next((p for p in profile.get("supervision_committee") or [] if p.get("role") == "主任"), None)
            if chief and chief.get("name"):
                line = f"村务监督委员会主任 {chief['name']}" + (f"（电话 {chief['phone']}）" if chief.get("phone") else "")
        elif body == "乡镇纪委":
            office = profile.get("discipline_office") or {}
            if office.get("name"):
                line = office["name"] + (f"（电话 {office['phone']}）" if office.get("phone") else "")
        elif body == "村报账员":
            acc = next((p for p in profile.get("cadres") or [] if "报账员" in (p.get("role") or "")), None)
            if acc and acc.get("name"):
                line = f"村报账员 {acc['name']}" + (f"（电话 {acc['phone']}）" if acc.get("phone") else "")
        out.append(line)
    return out


@dataclass(frozen=True)
class AttentionBox:
    """The 请关注 box for one flag, as plain text parts (the screen lays them out).

    ``heading``: 请关注 (red) or 提示 (amber); ``title``: the rule's short name; ``rule``:
    the rule in plain words with the county's numbers; ``figures``: what this record shows;
    ``basis``: document and article; ``ask``: whom to ask, one entry per body with contacts;
    ``note``: the county's 说明 (None when it gave none); ``severity``: red or amber.
    """

    heading: str
    title: str
    rule: str
    figures: str
    basis: str
    ask: list[str]
    note: str | None
    severity: str

    def lines(self) -> list[tuple[str, str]]:
        """``[(label, text), ...]`` in display order (labels may be '' for running text)."""
        out = [("", self.title), ("本条记录", self.figures + "。"), ("规定", self.rule), ("依据", self.basis)]
        if self.note:
            out.append(("县里的说明", self.note))
        out.append(("可以问", "；".join(self.ask)))
        out.append(("", NOT_A_VERDICT))
        return out

    def speech(self) -> str:
        """The box as one text for read-aloud."""
        parts = [f"{self.heading}：{self.title}", f"本条记录：{self.figures}", f"规定：{self.rule}",
                 f"依据：{self.basis}"]
        if self.note:
            parts.append(f"县里的说明：{self.note}")
        parts.append("有疑问可以问：" + "；".join(self.ask))
        parts.append(NOT_A_VERDICT)
        return "".join(p if p.endswith("。") else p + "。" for p in parts)


def attention_box(flag: dict[str, Any], rule: dict[str, Any], profile: dict[str, Any] | None = None) -> AttentionBox:
    """The box for ``flag`` (a flags row) under ``rule`` (a rules row)."""
    note = None
    if flag.get("note"):
        by = flag.get("note_by")
        when = flag.get("note_date")
        note = flag["note"] + ("（" + "，".join(x for x in (by, when) if x) + "）" if by or when else "")
    return AttentionBox(heading=SEVERITY_WORD.get(flag["severity"], HEADING), title=rule["title"], rule=rule["text"],
                        figures=flag["detail"], basis=rule["basis"], ask=contacts(rule["ask"], profile), note=note,
                        severity=flag["severity"])


def coverage_line(rule: dict[str, Any]) -> str | None:
    """For the 本县规则 page: a line when the rule could not check (all or part of) this
    village's data, None when it checked everything. ``rule`` is a ``Mirror.rules`` row."""
    if not rule.get("enabled", 1):
        return "本县没有启用这项检查。"
    if rule.get("reason") is None:
        return None
    if rule.get("checked", 0) == 0:
        return f"这项检查暂时无法进行：{rule['reason']}。"
    return f"有 {rule['missing']} 条记录无法检查：{rule['reason']}。"
