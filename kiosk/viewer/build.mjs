// Builds the phone viewer into dist/ from src/ and the pinned npm packages (package-lock.json).
// Same inputs, same bytes: esbuild is deterministic, sql.js's wasm is copied as shipped.
// Target: the browsers named in docs/viewer.md (WeChat's built-in browser on Android and iOS).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const TARGET = ["es2017"]; // ES2017 syntax: Chromium ≥ 61, iOS Safari/WKWebView ≥ 11 (docs/viewer.md)
rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
const common = { bundle: true, minify: true, format: "iife", target: TARGET, legalComments: "none",
  logLevel: "warning", charset: "utf8" };
await build({ ...common, entryPoints: ["src/worker.js"], outfile: "dist/worker.js" });
await build({ ...common, entryPoints: ["src/app.js"], outfile: "dist/app.js" });
await build({ ...common, entryPoints: ["src/app.css"], outfile: "dist/app.css" });
copyFileSync("node_modules/sql.js/dist/sql-wasm-browser.wasm", "dist/sql-wasm.wasm");

// One licence file: each bundled package's name, version and licence text, then SQLite's notice.
const parts = ["村务公开 · 手机查看 (phone viewer). Third-party software bundled in these files:\n"];
for (const name of ["sql.js", "tweetnacl", "@noble/hashes"]) {
  const dir = `node_modules/${name}/`;  // read directly: packages' "exports" hide package.json
  const pkg = JSON.parse(readFileSync(dir + "package.json", "utf8"));
  const text = readFileSync(dir + "LICENSE", "utf8");
  parts.push(`\n==== ${name} ${pkg.version} (${pkg.license}) ====\n\n${text.trim()}\n`);
}
parts.push("\n==== SQLite (compiled into sql-wasm.wasm) ====\n\nSQLite is in the public domain: https://sqlite.org/copyright.html\n");
writeFileSync("dist/LICENSES.txt", parts.join(""));
