// Formatting as on the kiosk (kiosk/formatting.py): amounts in 元 with thousands separators,
// Chinese dates, amounts in capitals (大写), the project's stage states.
// Amounts arrive as exact decimal strings ("1234.50"); they are formatted as strings, never
// through floating point.

export const esc = (s) => String(s === null || s === undefined ? "" : s)
  .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function parts(amount) {
  const s = String(amount).trim();
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) return null;
  return { neg: m[1] === "-", int: m[2].replace(/^0+(?=\d)/, ""), frac: ((m[3] || "") + "00").slice(0, 2) };
}

// "1234.5" → "1,234.50 元" (unit=false drops " 元")
export function money(amount, unit = true) {
  const p = parts(amount);
  if (!p) return String(amount);
  const int = p.int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${p.neg ? "-" : ""}${int}.${p.frac}${unit ? " 元" : ""}`;
}

// "2024-03-05" → "2024年3月5日"
export function dateCn(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || "");
  return m ? `${m[1]}年${+m[2]}月${+m[3]}日` : String(s || "");
}

const DIGITS = "零壹贰叁肆伍陆柒捌玖";
const SMALL = ["", "拾", "佰", "仟"];
const BIG = ["", "万", "亿", "万亿"];

function fourDigits(n) {
  let out = "", zero = false;
  for (let pos = 3; pos >= 0; pos--) {
    const d = Math.floor(n / Math.pow(10, pos)) % 10;
    if (d === 0) { zero = out !== ""; continue; }
    if (zero) { out += "零"; zero = false; }
    out += DIGITS[d] + SMALL[pos];
  }
  return out;
}

// 大写金额, the same rules as kiosk.formatting.amount_in_capitals
export function amountInCapitals(amount) {
  const p = parts(amount);
  if (!p) return "";
  const sign = p.neg ? "负" : "";
  const jiao = +p.frac[0], fenD = +p.frac[1];
  // groups of four digits from the right, as strings (no float for big amounts)
  const groups = [];
  for (let s = p.int; s.length; s = s.slice(0, -4)) groups.push(parseInt(s.slice(-4), 10));
  const yuanZero = groups.every((g) => g === 0);
  if (yuanZero && !jiao && !fenD) return "零元整";
  let intPart = "";
  if (!yuanZero) {
    let needZero = false;
    for (let i = groups.length - 1; i >= 0; i--) {
      const g = groups[i];
      if (g === 0) { needZero = intPart !== ""; continue; }
      if (intPart && (needZero || g < 1000)) intPart += "零";
      intPart += fourDigits(g) + BIG[i];
      needZero = false;
    }
    intPart += "元";
  }
  if (!jiao && !fenD) return sign + intPart + "整";
  let tail = "";
  if (jiao) tail += DIGITS[jiao] + "角";
  else if (!yuanZero) tail += "零";
  if (fenD) tail += DIGITS[fenD] + "分";
  return sign + intPart + tail;
}

const ROLE = { 出租: "承租方", 发包: "承包方", 流转: "流入方", 已处置: "买受方", 出售: "买受方" };
export const counterpartyLabel = (status) => ROLE[status || ""] || "交易对方";

export const STAGES = ["立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示"];

// [[stage, state, record|null]] for the eight stages: done, current (latest reached of a
// project not yet at 公示), skipped (a later stage was reached), pending (未开始)
export function stageStates(stages) {
  const by = {};
  (stages || []).forEach((s) => { by[s.stage] = s; });
  const reached = STAGES.map((n, i) => (by[n] ? i : -1)).filter((i) => i >= 0);
  const last = reached.length ? Math.max.apply(null, reached) : -1;
  const finished = last === STAGES.length - 1;
  return STAGES.map((n, i) => by[n] ? [n, i === last && !finished ? "current" : "done", by[n]] : [n, i < last ? "skipped" : "pending", null]);
}
