// 村务公开 · 手机查看: the same sections as the village kiosk, read from the county-signed public
// database and verified in the browser (worker.js) before anything is shown.
//
// Addresses (hash routes, so any static server works):
//   ROOT/<village>/#/                      首页
//   #/finance  #/finance/2025  #/finance/2025/3   财务收支 by year and month
//   #/projects #/assets/资产 #/services #/powers #/flags #/complaints #/about
//   #/r/<kind>/<id>                        one record (kind: finance project asset service power)
//   …?v=7&fp=1a2b3c4d&k=<key id>           pinned to the version a receipt was printed from
import { amountInCapitals, dateCn, esc, money, counterpartyLabel, stageStates } from "./format.js";
import { flowSteps } from "./flow.js";

const CFG = window.CUNWU || {};
const ROOT = new URL(CFG.root || "../", location.href).href;
const VILLAGE = CFG.village;
const SCOPE = CFG.scope || VILLAGE;
const PAGE = 30;
const FAILED = "数据校验失败，请勿采信";
const KINDS = { finance: "财务收支", project: "工程项目", asset: "资产资源", service: "办事结果", power: "权力清单" };

// ---------------------------------------------------------------- the worker

// the page's inline script starts the worker before this file arrives (village_page)
const worker = CFG.worker || new Worker(ROOT + "viewer/worker.js");
let rpcId = 0;
const pending = new Map();
worker.onmessage = (e) => {
  const p = pending.get(e.data.id);
  pending.delete(e.data.id);
  if (e.data.ok) p.resolve(e.data.result);
  else {
    const err = new Error(e.data.error.message);
    err.kind = e.data.error.kind;
    p.reject(err);
  }
};
function rpc(op, args) {
  return new Promise((resolve, reject) => {
    const id = ++rpcId;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args });
  });
}

const versions = new Map(); // "latest" | "v7" → Promise of {handle, seq, ...}
function version(pin) {
  const key = pin ? "v" + pin.seq : "latest";
  if (!versions.has(key)) {
    const route = parseHash().parts;
    const hint = route[0] === "r" ? route[1] : null; // a record page: prefetch its b-trees' upper pages
    const p = rpc("open", { root: ROOT, scope: SCOPE, village: VILLAGE, seq: pin && pin.seq, fp: pin && pin.fp, k: pin && pin.k, hint });
    p.catch(() => versions.delete(key));
    versions.set(key, p);
  }
  return versions.get(key);
}
const q = (ver, sql, params) => rpc("query", { handle: ver.handle, sql, params: params || [] });
const one = async (ver, sql, params) => (await q(ver, sql, params))[0] || null;
window.cunwuStats = () => rpc("stats");

// ---------------------------------------------------------------- routing and page frame

let tampered = null;
const app = document.getElementById("app");

function parseHash() {
  const h = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [path, query] = h.split("?");
  const params = {};
  (query || "").split("&").forEach((kv) => {
    const i = kv.indexOf("=");
    if (i > 0) params[kv.slice(0, i)] = kv.slice(i + 1);
  });
  return { parts: path.split("/").filter(Boolean), params };
}

let pinQuery = "";
const link = (path) => "#" + path + pinQuery;

function frame(title, body, ver, back) {
  const foot = ver ? `数据更新至 ${esc(ver.data_as_of)} · 第${ver.seq}版 · 指纹 ${esc(ver.fingerprint)}` : "";
  const nav = back === null ? "" :
    `<nav class="nav"><a class="btn" href="${back || link("/")}" id="back">返回</a><a class="btn" href="${link("/")}" id="home">首页</a></nav>`;
  app.innerHTML = `<header class="top"><h1>${esc(title)}</h1>${nav}</header>
    <div id="notice"></div><main id="main">${body}</main>
    <footer class="foot" id="footer">${foot}</footer>`;
  window.scrollTo(0, 0);
}

function fail(err) {
  if (err && err.kind === "tamper") {
    tampered = err;
    app.innerHTML = `<main class="failed" id="failed"><h1>${FAILED}</h1>
      <p>网上的数据与县平台签名的不一致（可能被改动、不完整，或不是县平台发布的）。</p>
      <p>请以村部查询机和公开栏为准，或向乡镇纪委、12388 反映。</p>
      <p class="small">原因：${esc(err.message)}</p></main>`;
    return;
  }
  const msg = err && err.kind === "network" ? "网络连接失败，请检查网络后重试" :
    err && err.kind === "unsupported" ? "没有找到这一版本的公开数据（可能尚未发布）" : "页面出错，请稍后重试";
  app.innerHTML = `<main class="error" id="error"><h1>${msg}</h1>
    <p><button class="btn" onclick="location.reload()">重试</button></p>
    <p class="small">${esc(err && err.message)}</p></main>`;
}

async function route() {
  if (tampered) return;
  const { parts, params } = parseHash();
  const pin = params.v ? { seq: parseInt(params.v, 10), fp: params.fp, k: params.k } : null;
  pinQuery = pin ? `?v=${pin.seq}` + (pin.fp ? `&fp=${pin.fp}` : "") + (pin.k ? `&k=${pin.k}` : "") : "";
  if (!app.firstChild || app.querySelector("#failed,#error")) app.innerHTML = `<p class="loading" id="loading">正在下载并核验数据…</p>`;
  try {
    const ver = await version(pin);
    const page = PAGES[parts[0] || ""] || PAGES[""];
    await page(ver, parts.slice(1), params);
    document.body.setAttribute("data-ready", location.hash || "#/");
    if (pin) await newerNotice(ver, parts);
  } catch (err) {
    fail(err);
  }
}
window.addEventListener("hashchange", route);

// ---------------------------------------------------------------- shared pieces

let villageRow = null;
async function village(ver) {
  if (!villageRow || villageRow.seq !== ver.seq) {
    const v = await one(ver, "SELECT * FROM villages WHERE code = ?", [VILLAGE]);
    if (!v) throw Object.assign(new Error("village not in this version"), { kind: "unsupported" });
    v.profile = JSON.parse(v.profile_json || "{}");
    villageRow = Object.assign(v, { seq: ver.seq });
  }
  return villageRow;
}

function rows(pairs) {
  return `<dl class="kv">${pairs.filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== "")
    .map((p) => `<dt>${esc(p[0])}</dt><dd>${esc(p[1])}</dd>`).join("")}</dl>`;
}

function listItems(items) {
  return items.map((it) => `<a class="item" href="${it.href}"><span class="t">${esc(it.title)}</span>` +
    `<span class="s">${esc(it.sub || "")}</span>${it.amount ? `<span class="a ${it.cls || ""}">${esc(it.amount)}</span>` : ""}</a>`).join("");
}

// A list with a 下一页 button (keyset pages like the kiosk's: never OFFSET)
async function pagedList(ver, fetchPage, toItem, empty) {
  const main = document.getElementById("main");
  const box = document.createElement("div");
  box.className = "list";
  main.appendChild(box);
  let after = null;
  async function more() {
    const rs = await fetchPage(after);
    const shown = rs.slice(0, PAGE);
    box.insertAdjacentHTML("beforeend", listItems(shown.map(toItem)));
    const old = document.getElementById("more");
    if (old) old.remove();
    if (!shown.length && !after) box.innerHTML = `<p class="empty">${empty}</p>`;
    if (rs.length > PAGE) {
      after = shown[shown.length - 1];
      const b = document.createElement("button");
      b.className = "btn wide";
      b.id = "more";
      b.textContent = "下一页";
      b.onclick = () => more().catch(fail);
      main.appendChild(b);
    }
  }
  await more();
}

// ---------------------------------------------------------------- 首页

const SECTIONS = [["finance", "财务收支"], ["projects", "工程项目"], ["assets", "资产资源"], ["services", "办事结果"],
  ["powers", "权力清单"], ["flags", "监督提示"], ["complaints", "监督投诉"], ["about", "数据核验"]];

async function home(ver) {
  const v = await village(ver);
  const flags = await flagCount(ver);
  const btns = SECTIONS.map(([k, name]) => `<a class="section" id="s-${k}" href="${link("/" + k)}">${name}` +
    (k === "flags" && flags ? `<span class="badge">${flags}</span>` : "") + "</a>").join("");
  frame(v.name + " · 村务公开", `<p class="where">${esc(v.county_name)} ${esc(v.township_name)} ${esc(v.official_name)}</p>
    <div class="sections">${btns}</div>
    <p class="small">本页数据由县互联网+监督平台签名发布，显示前已在本机逐字节核验。个人到户资金等信息不在网上公开，请到村部查询机刷身份证查询。</p>`, ver, null);
}

// ---------------------------------------------------------------- 财务收支

const DIRECTION = { income: "收入", expense: "支出" };

async function finance(ver, parts) {
  const year = parts[0] ? parseInt(parts[0], 10) : null;
  const month = parts[1] ? parseInt(parts[1], 10) : null;
  const span = await one(ver, "SELECT min(date) AS lo, max(date) AS hi FROM finance WHERE village_code = ?", [VILLAGE]);
  if (!span || !span.lo) return frame("财务收支", `<p class="empty">暂无财务收支记录</p>`, ver);
  const years = [];
  for (let y = parseInt(span.hi.slice(0, 4), 10); y >= parseInt(span.lo.slice(0, 4), 10); y--) years.push(y);
  const y = year || years[0];
  const period = (yy, mm) => mm ? [`${yy}-${pad2(mm)}-01`, mm === 12 ? `${yy + 1}-01-01` : `${yy}-${pad2(mm + 1)}-01`] : [`${yy}-01-01`, `${yy + 1}-01-01`];
  const months = [];
  for (let m = 1; m <= 12; m++) {
    const [lo, hi] = period(y, m);
    if (await one(ver, "SELECT 1 AS x FROM finance WHERE village_code = ? AND date >= ? AND date < ? LIMIT 1", [VILLAGE, lo, hi])) months.push(m);
  }
  const [lo, hi] = period(y, month);
  const t = await one(ver, "SELECT coalesce(sum(CASE WHEN direction='income' THEN amount_fen END), 0) AS inc," +
    " coalesce(sum(CASE WHEN direction='expense' THEN amount_fen END), 0) AS exp, count(*) AS n" +
    " FROM finance WHERE village_code = ? AND date >= ? AND date < ?", [VILLAGE, lo, hi]);
  const chips = (items) => `<div class="chips">${items.join("")}</div>`;
  const yChips = chips(years.map((yy) => `<a class="chip${yy === y ? " on" : ""}" href="${link("/finance/" + yy)}">${yy}年</a>`));
  const mChips = chips([`<a class="chip${!month ? " on" : ""}" href="${link("/finance/" + y)}">全年</a>`]
    .concat(months.map((m) => `<a class="chip${m === month ? " on" : ""}" id="m-${m}" href="${link(`/finance/${y}/${m}`)}">${m}月</a>`)));
  const label = month ? `${y}年${month}月` : `${y}年`;
  frame("财务收支", `${yChips}${mChips}
    <div class="totals"><p><b>${label}</b> 共 ${t.n} 笔</p>
    <p>收入 <b class="income">${money(fen(t.inc))}</b></p><p>支出 <b class="expense">${money(fen(t.exp))}</b></p>
    <p>结余 <b>${money(fen(t.inc - t.exp))}</b></p></div>`, ver, month ? link("/finance/" + y) : year ? link("/finance") : null);
  await pagedList(ver, (after) => q(ver, "SELECT id, seq, date, summary, direction, amount FROM finance" +
    " WHERE village_code = ? AND date >= ? AND date < ?" + (after ? " AND (date, seq) < (?, ?)" : "") +
    " ORDER BY date DESC, seq DESC LIMIT ?", [VILLAGE, lo, hi].concat(after ? [after.date, after.seq] : [], [PAGE + 1])),
  (r) => ({ href: link("/r/finance/" + encodeURIComponent(r.id)), title: r.summary, sub: dateCn(r.date),
    amount: (r.direction === "income" ? "+" : "−") + money(r.amount, false), cls: r.direction }), "这一期间没有收支记录");
}
const pad2 = (n) => (n < 10 ? "0" : "") + n;
const fen = (n) => (n / 100).toFixed(2);

// ---------------------------------------------------------------- lists of the other sections

async function projects(ver) {
  frame("工程项目", "", ver);
  await pagedList(ver, (after) => q(ver, "SELECT id, seq, name, stage, budget, started_on FROM projects WHERE village_code = ?" +
    (after ? " AND seq < ?" : "") + " ORDER BY seq DESC LIMIT ?", [VILLAGE].concat(after ? [after.seq] : [], [PAGE + 1])),
  (r) => ({ href: link("/r/project/" + encodeURIComponent(r.id)), title: r.name, sub: `${r.stage} · 立项 ${dateCn(r.started_on)}`,
    amount: money(r.budget) }), "暂无工程项目");
}

async function assets(ver, parts) {
  const kind = parts[0] === "资源" ? "资源" : "资产";
  const tabs = ["资产", "资源"].map((k) => `<a class="chip${k === kind ? " on" : ""}" href="${link("/assets/" + k)}">${k}</a>`).join("");
  frame("资产资源", `<div class="chips">${tabs}</div>`, ver);
  await pagedList(ver, (after) => q(ver, "SELECT id, seq, name, category, status, annual_rent, deal_price FROM assets" +
    " WHERE village_code = ? AND kind = ?" + (after ? " AND seq > ?" : "") + " ORDER BY seq LIMIT ?",
  [VILLAGE, kind].concat(after ? [after.seq] : [], [PAGE + 1])),
  (r) => ({ href: link("/r/asset/" + encodeURIComponent(r.id)), title: r.name, sub: `${r.category} · ${r.status}`,
    amount: r.annual_rent !== null ? "年租金 " + money(r.annual_rent) : r.deal_price !== null ? "成交价 " + money(r.deal_price) : "" }),
  "暂无" + kind);
}

async function services(ver) {
  frame("办事结果", `<p class="small">申请人姓名已按规定隐去部分文字。</p>`, ver);
  await pagedList(ver, (after) => q(ver, "SELECT id, seq, power_name, applicant, group_name, result, decided_on FROM services" +
    " WHERE village_code = ?" + (after ? " AND seq < ?" : "") + " ORDER BY seq DESC LIMIT ?", [VILLAGE].concat(after ? [after.seq] : [], [PAGE + 1])),
  (r) => ({ href: link("/r/service/" + encodeURIComponent(r.id)), title: `${r.power_name} · ${r.applicant}`,
    sub: `${dateCn(r.decided_on)} · ${r.group_name}`, amount: r.result }), "暂无办事结果");
}

async function powers(ver) {
  const list = await q(ver, "SELECT id, class, no, name, sample FROM powers WHERE village_code = ? ORDER BY seq", [VILLAGE]);
  const groups = ["重大决策", "日常管理", "便民服务"].map((c) => {
    const items = list.filter((p) => p.class === c);
    return items.length ? `<h2>${c}</h2><div class="list">${listItems(items.map((p) => ({
      href: link("/r/power/" + encodeURIComponent(p.id)), title: `${p.no}. ${p.name}`, sub: p.sample ? "示例" : "" })))}</div>` : "";
  }).join("");
  frame("权力清单", groups || `<p class="empty">暂无权力清单</p>`, ver);
}

async function hasTable(ver, name) {
  return !!(await one(ver, "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]));
}
async function flagCount(ver) {
  if (!(await hasTable(ver, "flags"))) return 0;
  const r = await one(ver, "SELECT count(*) AS n FROM flags WHERE village_code = ?", [VILLAGE]).catch(() => null);
  return r ? r.n : 0;
}

// 监督提示: the supervision flags table, when the bundle carries one. Its columns are read by
// name (rule/title/text/record_kind/record_id), so the page follows the table as it grows.
async function flags(ver) {
  if (!(await hasTable(ver, "flags"))) return frame("监督提示", `<p class="empty">本版数据暂无监督提示</p>`, ver);
  const list = await q(ver, "SELECT * FROM flags WHERE village_code = ? LIMIT 500", [VILLAGE]);
  const kindOf = { finance: "finance", projects: "project", project: "project", assets: "asset", asset: "asset", services: "service", service: "service" };
  frame("监督提示", list.length ? `<p class="small">以下记录与本县规则不一致，请关注并可向村务监督委员会询问。</p><div class="list">` +
    listItems(list.map((f) => {
      const kind = kindOf[f.record_kind || f.kind];
      return { href: kind && f.record_id ? link(`/r/${kind}/${encodeURIComponent(f.record_id)}`) : link("/flags"),
        title: f.title || f.rule_name || f.rule || "请关注", sub: f.text || f.message || f.detail || "" };
    })) + "</div>" : `<p class="empty">本村暂无监督提示</p>`, ver);
}

// ---------------------------------------------------------------- 监督投诉 and 数据核验

async function complaints(ver) {
  const v = await village(ver);
  const p = v.profile || {};
  const c = p.complaints || {};
  const out = [];
  const a = (href, text) => `<a href="${esc(href)}">${esc(text)}</a>`;
  if (c.platform_url) out.push(["县互联网+监督平台", a(c.platform_url, "打开投诉页面")]);
  if (c.wechat_official_account) out.push(["微信公众号", esc(c.wechat_official_account)]);
  const g = c.village_group || {};
  if (g.name) out.push(["村务监督微信群", esc(g.name) + (g.admin ? `（群主 ${esc(g.admin)}）` : "")]);
  out.push(["纪检监察举报电话", a("tel:" + (c.hotline || "12388"), c.hotline || "12388")]);
  for (const o of [p.discipline_office, c.county_discipline_office]) {
    if (o && o.name) out.push([o.name, o.phone ? a("tel:" + o.phone, o.phone) : ""]);
  }
  const sup = (p.supervision_committee || []).map((s) => [`村务监督委员会 ${s.role || ""}`, `${esc(s.name || "")} ${s.phone ? a("tel:" + s.phone, s.phone) : ""}`]);
  const html = (pairs) => `<dl class="kv">${pairs.map((x) => `<dt>${esc(x[0])}</dt><dd>${x[1]}</dd>`).join("")}</dl>`;
  frame("监督投诉", html(out) + (sup.length ? "<h2>村务监督委员会</h2>" + html(sup) : ""), ver);
}

async function about(ver) {
  const v = await village(ver);
  frame("数据核验", rows([["村", v.name], ["版本", `第${ver.seq}版`], ["数据更新至", ver.data_as_of],
    ["签发时间", ver.issued_at], ["指纹", ver.fingerprint], ["签名密钥", ver.key_id]]) +
    `<p>本页显示的每一项数据在显示前都已在您的手机上核验：县平台的签名（Ed25519），以及读到的每一段数据的校验值（SHA-256）。数据被改动时，页面只显示“${FAILED}”。</p>
     <p>请与村部查询机、公开栏和小票上的“第N版 · 指纹”核对；扫小票上的二维码时，还会核对小票上记下的签名密钥。</p>`, ver);
}

// ---------------------------------------------------------------- one record

const DETAIL = {
  async finance(ver, id) {
    const r = await one(ver, "SELECT f.*, a.plain_name FROM finance f LEFT JOIN accounts a ON a.code = f.account_code WHERE f.id = ?", [id]);
    if (r && r.reverses_id) r.reverses = await one(ver, "SELECT id, date, voucher_no, summary, amount FROM finance WHERE id = ?", [r.reverses_id]);
    return r;
  },
  async project(ver, id) {
    const r = await one(ver, "SELECT * FROM projects WHERE id = ?", [id]);
    if (r) r.stages = await q(ver, "SELECT ord, stage, date, note FROM project_stages WHERE project_id = ? ORDER BY ord", [id]);
    return r;
  },
  asset: (ver, id) => one(ver, "SELECT * FROM assets WHERE id = ?", [id]),
  service: (ver, id) => one(ver, "SELECT id, village_code, power_id, power_name, applicant, group_name, result, decided_on," +
    " notice_from, notice_to, steps_json FROM services WHERE id = ?", [id]),
  async power(ver, id) {
    const r = await one(ver, "SELECT * FROM powers WHERE id = ?", [id]);
    if (r) {
      r.steps = await q(ver, "SELECT step_id, ord, label, kind FROM power_steps WHERE power_id = ? ORDER BY ord", [id]);
      r.edges = await q(ver, "SELECT src, dst, label FROM power_edges WHERE power_id = ?", [id]);
    }
    return r;
  },
};

// The record as label/value rows (the kiosk's detail screens' words), also used to compare versions
function pairs(kind, r) {
  const opt = (v) => (v === null || v === undefined ? null : money(v));
  if (kind === "finance") {
    const plain = r.plain_name || r.account_name;
    const account = plain === r.account_name ? plain : `${plain}（${r.account_name}）`;
    return [["日期", dateCn(r.date)], ["凭证号", r.voucher_no], ["摘要", r.summary], ["收支", DIRECTION[r.direction]],
      ["金额", `${money(r.amount)}（${amountInCapitals(r.amount)}）`], ["科目", account], ["科目代码", r.account_code],
      ["经手人", r.handler], ["审核人", `${r.reviewer}（村务监督委员会）`], ["审批人", r.approver], ["审批程序", r.approval_level],
      ["附件", `${r.attachments} 张`],
      ["红字冲销", r.reverses ? `冲销 ${dateCn(r.reverses.date)} 凭证号 ${r.reverses.voucher_no} ${r.reverses.summary} ${money(r.reverses.amount)}` : null]];
  }
  if (kind === "project") {
    const funds = JSON.parse(r.fund_sources_json || "[]").map((f) => `${f.source} ${money(f.amount)}`).join("；");
    return [["名称", r.name], ["类别", r.category], ["地点", r.location], ["预算", money(r.budget)], ["评审价", opt(r.review_amount)],
      ["资金来源", funds], ["采购方式", r.procurement_method], ["施工单位", r.contractor], ["合同金额", opt(r.contract_amount)],
      ["审计结算", opt(r.settlement_amount)], ["监督人", JSON.parse(r.supervisors_json || "[]").join("、")]]
      .concat(stageStates(r.stages).map(([name, state, rec]) => ["阶段 " + name,
        rec ? `${dateCn(rec.date)}${state === "current" ? "（进行中）" : ""}${rec.note ? " " + rec.note : ""}` : state === "skipped" ? "跳过" : "未开始"]));
  }
  if (kind === "asset") {
    const term = r.term_start || r.term_end ? `${r.term_start ? dateCn(r.term_start) : "—"} 至 ${r.term_end ? dateCn(r.term_end) : "—"}` : null;
    const area = r.area !== null ? `${Number(r.area)} ${r.area_unit || ""}`.trim() : null;
    return [["名称", r.name], ["类别", `${r.kind} · ${r.category}`], ["面积", area], ["状态", r.status],
      [counterpartyLabel(r.status), r.counterparty], ["处置方式", r.disposal_method], ["底价", opt(r.reserve_price)],
      ["底价评审", r.reserve_review], ["成交价", opt(r.deal_price)], ["期限", term], ["年租金", opt(r.annual_rent)], ["保证金", opt(r.deposit)]];
  }
  if (kind === "service") {
    const notice = r.notice_from ? (r.notice_to ? `${dateCn(r.notice_from)} 至 ${dateCn(r.notice_to)}` : dateCn(r.notice_from)) : null;
    return [["事项", r.power_name], ["申请人", r.applicant], ["村民小组", r.group_name], ["结果", r.result],
      ["办结日期", dateCn(r.decided_on)], ["公示期", notice]]
      .concat(JSON.parse(r.steps_json || "[]").map((s, i) => [`步骤${i + 1}`, `${s.step}${s.date ? " " + dateCn(s.date) : ""}${s.note ? " " + s.note : ""}`]));
  }
  // power
  return [["名称", r.name], ["类别", `${r.class} 第${r.no}项`], ["依据", r.basis], ["执行主体", r.executor], ["监督主体", r.supervisor],
    ["所需材料", r.materials], ["办理时限", r.time_limit]]
    .concat(flowSteps(r.steps, r.edges).map((s, i) => [`流程${i + 1}`, s.text]));
}

function detailBody(kind, r) {
  const shown = pairs(kind, r).filter((p) => !/^(阶段 |步骤\d|流程\d)/.test(p[0]));
  let extra = "";
  if (kind === "project") {
    extra = `<h2>项目进度</h2><ol class="stages">${stageStates(r.stages).map(([name, state, rec]) =>
      `<li class="${state}"><b>${name}</b> <span>${rec ? dateCn(rec.date) + (state === "current" ? "（进行中）" : "") : state === "skipped" ? "跳过" : "未开始"}</span>` +
      `${rec && rec.note ? `<br><small>${esc(rec.note)}</small>` : ""}</li>`).join("")}</ol>`;
  } else if (kind === "service") {
    extra = `<h2>办理过程</h2><ol class="stages">${JSON.parse(r.steps_json || "[]").map((s) =>
      `<li class="done"><b>${esc(s.step)}</b> <span>${s.date ? dateCn(s.date) : ""}</span>${s.note ? `<br><small>${esc(s.note)}</small>` : ""}</li>`).join("")}</ol>`;
  } else if (kind === "power") {
    extra = `<h2>办理流程</h2><div class="flow" id="flow">${flowSteps(r.steps, r.edges).map((s) =>
      `<div class="box ${s.kind}">${esc(s.label)}</div>${s.side.map((x) => `<div class="side ${x.negative ? "neg" : ""}">${esc(x.label)} → ${esc(x.to)}</div>`).join("")}` +
      (s.next ? `<div class="arrow">↓${s.nextLabel ? " " + esc(s.nextLabel) : ""}</div>` : "")).join("")}</div>`;
    if (r.sample) extra = `<p class="sample">示例：县平台尚未提供本村该事项的正式流程</p>` + extra;
  }
  return rows(shown) + extra;
}

let shownRecord = null;
async function record(ver, parts) {
  const kind = parts[0];
  const id = parts.slice(1).join("/");
  if (!DETAIL[kind]) return home(ver);
  const r = await DETAIL[kind](ver, id);
  shownRecord = { kind, id, r };
  const back = { finance: "/finance", project: "/projects", asset: "/assets", service: "/services", power: "/powers" }[kind];
  if (!r) return frame(KINDS[kind], `<p class="empty" id="missing">第${ver.seq}版中没有这条记录</p>`, ver, link(back));
  const title = kind === "finance" ? `收支明细 · ${DIRECTION[r.direction]}` : kind === "service" ? "办事结果" : r.name;
  frame(title, `<div id="record" data-kind="${kind}" data-id="${esc(id)}">${detailBody(kind, r)}</div>`, ver, link(back));
}

// On a page pinned to a version (a receipt's QR code): say whether a newer version exists and
// whether this record changed in it, field by field.
async function newerNotice(ver, parts) {
  let latest;
  try {
    latest = await version(null);
  } catch (err) {
    if (err.kind === "tamper") return fail(err);
    return; // offline or not published: the pinned version stands on its own
  }
  const box = document.getElementById("notice");
  if (!box || latest.seq <= ver.seq) return;
  let html = `<p><b>此记录已有更新版本（第${latest.seq}版）</b></p>`;
  if (parts[0] === "r" && shownRecord && shownRecord.r) {
    const { kind, id, r } = shownRecord;
    const nr = await DETAIL[kind](latest, id);
    if (!nr) html += `<p>该记录在第${latest.seq}版中已不存在。</p>`;
    else {
      const a = pairs(kind, r), b = pairs(kind, nr);
      const labels = Array.from(new Set(a.map((p) => p[0]).concat(b.map((p) => p[0]))));
      const get = (ps, l) => { const p = ps.find((x) => x[0] === l); return p && p[1] !== null && p[1] !== undefined ? String(p[1]) : "（无）"; };
      const diff = labels.filter((l) => get(a, l) !== get(b, l));
      html += diff.length ? `<p>与第${latest.seq}版相比，这条记录有 ${diff.length} 处变化：</p><ul class="diff" id="diff">` +
        diff.map((l) => `<li><b>${esc(l)}</b>：${esc(get(a, l))} → <ins>${esc(get(b, l))}</ins></li>`).join("") + "</ul>"
        : `<p id="same">第${latest.seq}版中这条记录内容未变。</p>`;
    }
    html += `<p><a class="btn" id="to-latest" href="#/r/${parts.slice(1).map(encodeURIComponent).join("/")}">查看第${latest.seq}版</a></p>`;
  }
  box.className = "notice";
  box.innerHTML = html;
  document.body.setAttribute("data-notice", String(latest.seq));
}

const PAGES = { "": home, finance, projects, assets, services, powers, flags, complaints, about, r: record };

if (!window.Worker || !window.WebAssembly) {
  app.innerHTML = `<main class="error"><h1>浏览器版本过旧，无法核验数据</h1><p>请升级微信或浏览器后再打开。</p></main>`;
} else route();


