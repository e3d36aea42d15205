// The viewer's worker: fetches a county-signed bundle's public database by HTTP range requests,
// verifies every byte it reads, and answers SQL queries with sql.js.
//
// Trust chain (docs/bundle-format.md section 13):
//   viewer/keys.json (county keys published with the viewer; a receipt's QR code pins the key id)
//   → manifest.sig verifies manifest.json (Ed25519, tweetnacl)
//   → manifest lists web/public.json with its SHA-256
//   → public.json holds the top of a SHA-256 tree over the database's 4 KiB chunks
//   → each chunk SQLite reads is hashed and checked against the tree before SQLite sees it.
// Any mismatch raises a TamperError and the page shows 数据校验失败，请勿采信 and no data.
//
// Why a worker: SQLite reads synchronously, so a page it needs is fetched with a synchronous
// XMLHttpRequest, which browsers allow (with binary responses) only in workers.
import nacl from "tweetnacl";
import { sha256 } from "@noble/hashes/sha2.js";
import initSqlJs from "sql.js/dist/sql-wasm-browser.js";

class TamperError extends Error { constructor(m) { super(m); this.kind = "tamper"; } }
class NetError extends Error { constructor(m) { super(m); this.kind = "network"; } }
class Unsupported extends Error { constructor(m) { super(m); this.kind = "unsupported"; } }

const stats = { bytes: 0, requests: 0, syncRequests: 0 };
const utf8 = new TextDecoder("utf-8", { fatal: true });
const hex = (b) => Array.prototype.map.call(b, (x) => (x < 16 ? "0" : "") + x.toString(16)).join("");
const unhex = (s) => {
  if (!/^[0-9a-f]*$/.test(s) || s.length % 2) throw new TamperError("bad hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
};
const equal = (a, b) => {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
};
const pad6 = (n) => ("00000" + n).slice(-6);
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function getBytes(url, fresh) {
  let r;
  try {
    r = await fetch(url, fresh ? { cache: "no-cache" } : {});
  } catch (e) {
    throw new NetError("cannot fetch " + url);
  }
  if (r.status === 404) throw new Unsupported("not found: " + url);
  if (!r.ok) throw new NetError("HTTP " + r.status + " " + url);
  const b = new Uint8Array(await r.arrayBuffer());
  stats.bytes += b.length;
  stats.requests += 1;
  return b;
}

async function getRange(url, start, end) {
  let r;
  try {
    r = await fetch(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
  } catch (e) {
    throw new NetError("cannot fetch " + url);
  }
  return rangeBody(r.status, new Uint8Array(await r.arrayBuffer()), start, end, url);
}

function rangeBody(status, body, start, end, url) {
  stats.bytes += body.length;
  stats.requests += 1;
  if (status === 206 && body.length === end - start) return body;
  if (status === 200) return body.subarray(start, end); // a server that ignores Range: still verified
  if (status === 206 || status === 416) throw new TamperError("wrong range length from " + url);
  throw new NetError("HTTP " + status + " " + url);
}

function syncRange(url, start, end) {
  const x = new XMLHttpRequest();
  x.open("GET", url, false);
  x.responseType = "arraybuffer";
  x.setRequestHeader("Range", `bytes=${start}-${end - 1}`);
  try {
    x.send();
  } catch (e) {
    throw new NetError("cannot fetch " + url);
  }
  stats.syncRequests += 1;
  return rangeBody(x.status, new Uint8Array(x.response || new ArrayBuffer(0)), start, end, url);
}

// The app's own folder (ROOT/viewer/): keys and wasm are fetched from the moment the worker
// starts, while the page is still loading, so they overlap with the data requests.
const HERE = new URL("./", self.location.href).href;
let keysPromise = null;
function trustedKeys() {
  // viewer/keys.json: [{key_id, public_key (base64 of the 32 raw bytes)}]; each id is checked
  keysPromise = keysPromise || getBytes(HERE + "keys.json", true).then((b) => {
    const list = JSON.parse(utf8.decode(b)).keys || [];
    return list.map((k) => {
      const pk = b64(k.public_key);
      if (pk.length !== 32 || hex(sha256(pk)).slice(0, 16) !== k.key_id) throw new TamperError("bad key list");
      return { id: k.key_id, pk };
    });
  });
  return keysPromise;
}

let sqlPromise = null;
function loadSql() {
  sqlPromise = sqlPromise || initSqlJs({ locateFile: () => HERE + "sql-wasm.wasm" });
  return sqlPromise;
}
loadSql();
trustedKeys().catch(() => null); // errors are reported by open()

// ---------------------------------------------------------------- one opened version

class Version {
  constructor(vurl, desc, files) {
    this.vurl = vurl;
    this.dbUrl = vurl + desc.database.path;
    this.treeUrl = vurl + desc.tree.path;
    this.size = desc.database.size;
    this.cs = desc.chunk_size;
    this.fan = desc.tree.fanout;
    this.levels = desc.tree.levels;
    this.top = desc.tree.top.map(unhex);
    this.chunks = new Map(); // verified chunks
    this.blocks = new Map(); // verified tree blocks, "level:block"
    this.raw = new Map(); // prefetched, not yet verified
    this.failed = null;
    if (files[desc.database.path] !== this.size || files[desc.tree.path] === undefined)
      throw new TamperError("descriptor does not match the manifest");
    if (this.cs !== 4096 || this.fan !== 128 || this.top.some((h) => h.length !== 32))
      throw new Unsupported("unknown descriptor layout");
  }

  blockRange(level, b) {
    const lv = this.levels[level];
    return [lv.offset + 32 * b * this.fan, lv.offset + 32 * Math.min(lv.count, (b + 1) * this.fan)];
  }

  // SHA-256 expected for node `index` at `level` (level 0: the chunks), walking down from the top
  nodeHash(level, index) {
    if (level === this.levels.length) {
      if (index >= this.top.length) throw new TamperError("chunk outside the tree");
      return this.top[index];
    }
    const b = Math.floor(index / this.fan);
    const key = level + ":" + b;
    let block = this.blocks.get(key);
    if (!block) {
      const [s, e] = this.blockRange(level, b);
      const got = this.raw.get("t" + key) || syncRange(this.treeUrl, s, e);
      this.raw.delete("t" + key);
      if (!equal(sha256(got), this.nodeHash(level + 1, b))) throw new TamperError("hash tree block " + key);
      this.blocks.set(key, (block = got));
    }
    const i = index - b * this.fan;
    return block.subarray(32 * i, 32 * i + 32);
  }

  chunkRange(i) {
    return [i * this.cs, Math.min(this.size, (i + 1) * this.cs)];
  }

  chunk(i) {
    let c = this.chunks.get(i);
    if (c) return c;
    const [s, e] = this.chunkRange(i);
    c = this.raw.get("c" + i) || syncRange(this.dbUrl, s, e);
    this.raw.delete("c" + i);
    if (!equal(sha256(c), this.nodeHash(0, i))) throw new TamperError("database chunk " + i);
    this.chunks.set(i, c);
    return c;
  }

  read(a, b) {
    const out = new Uint8Array(b - a);
    let p = a;
    while (p < b) {
      const i = Math.floor(p / this.cs);
      const c = this.chunk(i);
      const off = p - i * this.cs;
      const n = Math.min(c.length - off, b - p);
      out.set(c.subarray(off, off + n), p - a);
      p += n;
    }
    return out;
  }

  // Fetch the chunks every query starts with (and their tree blocks) in parallel, unverified:
  // they are verified when SQLite reads them, like any other chunk.
  async prefetch(list) {
    const jobs = [];
    const want = list.filter((i) => i * this.cs < this.size);
    // the tree's levels above 0 in one request when small (≤ 64 KiB: a database up to ~2 GB),
    // so reading a chunk later costs at most one tree block before it
    const upper = this.levels.slice(1);
    const upperBytes = upper.reduce((n, lv) => n + 32 * lv.count, 0);
    if (upper.length && upperBytes <= 65536) {
      const s0 = upper[0].offset;
      jobs.push(getRange(this.treeUrl, s0, s0 + upperBytes).then((d) => {
        upper.forEach((lv, k) => {
          for (let b = 0; b * this.fan < lv.count; b++) {
            const [s, e] = this.blockRange(k + 1, b);
            this.raw.set("t" + (k + 1) + ":" + b, d.subarray(s - s0, e - s0));
          }
        });
      }));
    }
    let path = want.slice();
    for (let level = 0; level < this.levels.length; level++) {
      const bs = Array.from(new Set(path.map((i) => Math.floor(i / this.fan))));
      if (level > 0 && upper.length && upperBytes <= 65536) break; // fetched whole above
      for (const b of bs) {
        const [s, e] = this.blockRange(level, b);
        const key = "t" + level + ":" + b;
        jobs.push(getRange(this.treeUrl, s, e).then((d) => this.raw.set(key, d)));
      }
      path = bs;
    }
    // contiguous chunks in one request each
    want.sort((x, y) => x - y);
    for (let k = 0; k < want.length; ) {
      let j = k;
      while (j + 1 < want.length && want[j + 1] === want[j] + 1) j++;
      const first = want[k], last = want[j];
      const s = this.chunkRange(first)[0], e = this.chunkRange(last)[1];
      jobs.push(getRange(this.dbUrl, s, e).then((d) => {
        for (let i = first; i <= last; i++) this.raw.set("c" + i, d.subarray((i - first) * this.cs, Math.min(d.length, (i - first + 1) * this.cs)));
      }));
      k = j + 1;
    }
    await Promise.all(jobs);
  }

  // A file object sql.js's in-memory file system reads from: it calls subarray() for every
  // read (MEMFS), so each read is served from verified chunks. sql.js 1.17 keeps the object it
  // is given when slice() covers the whole file (pinned in package-lock.json; tests cover it).
  lazyFile() {
    const self = this;
    const file = {
      length: self.size,
      subarray(a, b) {
        if (self.failed) throw { name: "ErrnoError", errno: 29 };
        try {
          return self.read(a, Math.min(b, self.size));
        } catch (e) {
          // SQLite gets an I/O error (its state stays sound); the real cause is reported
          self.failed = e;
          throw { name: "ErrnoError", errno: 29 };
        }
      },
      slice(a, b) {
        if (a !== 0 || b !== self.size) throw new Error("unexpected slice");
        return file;
      },
    };
    return file;
  }
}

const handles = new Map();
const byDigest = new Map();
let nextHandle = 1;

async function open(a) {
  // a: {root, scope, village, seq?, fp?, k?}
  const root = a.root;
  const sql = loadSql();
  const keys = await trustedKeys();
  const sdir = root + encodeURIComponent(a.scope) + "/";
  const mdir = a.seq ? sdir + "v" + pad6(a.seq) + "/" : sdir + "latest/";
  const [mb, sig] = await Promise.all([getBytes(mdir + "manifest.json", !a.seq), getBytes(mdir + "manifest.sig", !a.seq)]);
  if (sig.length !== 64) throw new TamperError("signature is not 64 bytes");
  const signer = keys.find((k) => nacl.sign.detached.verify(mb, sig, k.pk));
  if (!signer) throw new TamperError("signature does not verify with the county key");
  if (a.k && signer.id !== a.k) throw new TamperError("signed by another key than the receipt names");
  const digest = hex(sha256(mb));
  if (a.fp && digest.slice(0, 8) !== a.fp) throw new TamperError("fingerprint differs from the receipt");
  let m;
  try {
    m = JSON.parse(utf8.decode(mb));
  } catch (e) {
    throw new TamperError("manifest is not UTF-8 JSON");
  }
  if (m.format_version !== 1) throw new Unsupported("unknown format_version");
  if (m.scope !== a.scope || (a.seq && m.seq !== a.seq)) throw new TamperError("manifest is for another scope or version");
  const villages = m.villages || (m.village ? [m.village.code] : []);
  if (villages.indexOf(a.village) < 0 && m.scope !== a.village) throw new TamperError("village not covered by the manifest");
  const files = {};
  const sums = {};
  for (const f of m.files || []) {
    files[f.path] = f.size;
    sums[f.path] = f.sha256;
  }
  if (!sums["web/public.json"]) throw new Unsupported("this version has no public database");
  const vurl = sdir + "v" + pad6(m.seq) + "/";
  const db = await getBytes(vurl + "web/public.json");
  if (db.length !== files["web/public.json"] || hex(sha256(db)) !== sums["web/public.json"])
    throw new TamperError("public.json differs from the manifest");
  const desc = JSON.parse(utf8.decode(db));
  if (desc.type !== "cunwu-public-db" || desc.version !== 1) throw new Unsupported("unknown descriptor");
  if (byDigest.has(digest)) return byDigest.get(digest); // latest is the version already open
  const v = new Version(vurl, desc, files);
  const hot = (a.hint && desc.hot && desc.hot[a.hint]) || [];
  await v.prefetch((desc.prefetch || [0]).concat(hot));
  const SQL = await sql;
  v.db = new SQL.Database(v.lazyFile());
  const h = nextHandle++;
  handles.set(h, v);
  const info = {
    handle: h, seq: m.seq, data_as_of: m.data_as_of, issued_at: m.issued_at, scope: m.scope,
    fingerprint: digest.slice(0, 8), manifest_sha256: digest, key_id: signer.id,
  };
  byDigest.set(digest, info);
  return info;
}

function query(a) {
  const v = handles.get(a.handle);
  if (!v) throw new Error("no such handle");
  if (v.failed) throw v.failed;
  const out = [];
  let st;
  try {
    st = v.db.prepare(a.sql);
    st.bind(a.params || []);
    while (st.step()) out.push(st.getAsObject());
  } catch (e) {
    if (v.failed) {
      const f = v.failed;
      if (f.kind === "network") v.failed = null; // the page may be read again later
      throw f;
    }
    throw e;
  } finally {
    if (st) st.free();
  }
  return out;
}

const OPS = {
  open,
  query,
  batch: (a) => a.queries.map((q) => query({ handle: a.handle, sql: q[0], params: q[1] })),
  stats: () => Object.assign({}, stats),
  close: (a) => {
    const v = handles.get(a.handle);
    if (v && v.db) v.db.close();
    handles.delete(a.handle);
  },
};

self.onmessage = async (e) => {
  const { id, op, args } = e.data;
  try {
    const result = await OPS[op](args || {});
    self.postMessage({ id, ok: true, result });
  } catch (err) {
    self.postMessage({ id, ok: false, error: { kind: err.kind || "error", message: String((err && err.message) || err) } });
  }
};
