// A power-list procedure as a vertical flow for a narrow phone screen: the steps in their
// order, an arrow (with its label, e.g. 通过) to the next step, and every other way out of a
// step beside it ("不通过 → 退回申请人").
const NEGATIVE = ["不", "退回", "驳回", "否"];

export function flowSteps(steps, edges) {
  const list = (steps || []).slice().sort((a, b) => a.ord - b.ord);
  const label = {};
  list.forEach((s) => { label[s.step_id] = s.label; });
  return list.map((s, i) => {
    const next = list[i + 1];
    const out = (edges || []).filter((e) => e.src === s.step_id);
    const toNext = next ? out.find((e) => e.dst === next.step_id) : null;
    const side = out.filter((e) => e !== toNext).map((e) => ({
      label: e.label || "转到", to: label[e.dst] || e.dst, negative: NEGATIVE.some((w) => (e.label || "").indexOf(w) >= 0) }));
    const nextLabel = toNext ? toNext.label : "";
    const sideText = side.map((x) => `${x.label} → ${x.to}`).join("；");
    return { kind: s.kind, label: s.label, side, next: !!next, nextLabel,
      text: s.label + (nextLabel ? `（${nextLabel}）` : "") + (sideText ? `；${sideText}` : "") };
  });
}
