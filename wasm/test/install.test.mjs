// The published package as a user gets it: dist/cip-wasm-<version>.tgz (written by `npm run pack`)
// installed into a fresh project, then used from ESM (default and named imports), CommonJS,
// TypeScript (tsc, module nodenext, for `import` and `require`; moduleResolution bundler), the
// bundler entry (Node's own wasm ES-module support standing in for a bundler) and the browser
// entry `cip-wasm/web` (initSync with the module's bytes). The tarball itself is checked by
// @arethetypeswrong/cli and publint, and `npm publish --dry-run` must be clean.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freshProject, nodenextTsconfig, ok, run, tarballs } from "../../tests/js/fresh-project.mjs";

const wasmDir = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => path.join(wasmDir, "node_modules/.bin", name);
const tsc = path.join(wasmDir, "node_modules/typescript/bin/tsc");
const { version } = JSON.parse(readFileSync(path.join(wasmDir, "package.json"), "utf8"));

const MANIFEST = `registries:\n- name: gcr.io/staging\n  src: true\n- name: gcr.io/prod\nimages:\n- name: app\n  dmap:\n    "sha256:${"a".repeat(64)}": [v1]\n`;

// What every consumer checks at run time, for the API object it got (named and default).
const CHECKS = `
function check(cip, named) {
  if (cip.lint !== named.lint) throw new Error("default and named exports differ");
  const report = cip.lint(${JSON.stringify(MANIFEST)});
  if (report.summary.errors !== 0 || report.summary.digests !== 1) throw new Error("lint: " + JSON.stringify(report));
  const bad = cip.lint(${JSON.stringify(MANIFEST.replace("src: true", "src: yes please"))});
  if (bad.diagnostics.length === 0) throw new Error("a bad manifest gave no finding");
  const codes = [];
  for (const call of [() => cip.lint(42), () => cip.plan("", "{not json"), () => cip.plan("", { repositories: { "gcr.io/x/app": 5 } })]) {
    try { call(); codes.push("no error"); } catch (e) {
      if (!(e instanceof Error) || /Reflect|^Error:|Error: Error/.test(e.message)) throw new Error("unclean error: " + e.message);
      codes.push(e.code);
    }
  }
  return cip.version() + " " + codes.join(",");
}
`;
const EXPECTED = `${version} ERR_INVALID_ARG_TYPE,ERR_INVALID_ARG_VALUE,ERR_INVALID_ARG_VALUE`;

let project;
let tarball;

before(() => {
  [tarball] = tarballs(path.join(wasmDir, "dist"));
  project = freshProject([tarball]);
  assert.equal(project.install.status, 0, project.install.text);
});
after(() => project?.dispose());

test("the tarball holds one wasm module and no build leftovers", () => {
  const listing = ok("tar", ["-tzf", tarball]).stdout.split("\n").filter(Boolean).sort();
  assert.deepEqual(listing.filter((f) => f.endsWith(".wasm")), ["package/pkg/cip_wasm_bg.wasm"]);
  assert.deepEqual(listing.filter((f) => f.startsWith("package/pkg/web/") || f.includes("/src/")), []);
});

test("ESM: default and named imports work at run time", () => {
  project.write("esm.mjs", `import cip from "cip-wasm";\nimport * as named from "cip-wasm";\n${CHECKS}\nconsole.log(check(cip, named));\n`);
  assert.equal(ok(process.execPath, ["esm.mjs"], { cwd: project.dir }).stdout.trim(), EXPECTED);
});

test("CommonJS: require gives the same functions", () => {
  project.write("cjs.cjs", `const cip = require("cip-wasm");\n${CHECKS}\nconsole.log(check(cip, cip));\n`);
  assert.equal(ok(process.execPath, ["cjs.cjs"], { cwd: project.dir }).stdout.trim(), EXPECTED);
});

test("TypeScript (nodenext): ESM and CommonJS consumers type-check, compile and run", () => {
  const body = `
const report: LintReport = cip.lint(${JSON.stringify(MANIFEST)});
const plan: Plan = named.plan("", { repositories: {} }, { strict: true });
const findings: string = named.sarif(report.diagnostics);
try { named.lint(42 as unknown as string); } catch (e) { const code: string = (e as CipError).code; console.log(code); }
console.log(report.summary.errors, plan.actions.length, findings.includes("2.1.0"));
`;
  project.write("ts-esm.mts", `import cip from "cip-wasm";\nimport * as named from "cip-wasm";\nimport type { CipError, LintReport, Plan } from "cip-wasm";\n${body}`);
  project.write("ts-cjs.cts", `import cip = require("cip-wasm");\nimport named = require("cip-wasm");\nimport type { CipError, LintReport, Plan } from "cip-wasm";\n${body}`);
  project.write("tsconfig.json", nodenextTsconfig(["ts-esm.mts", "ts-cjs.cts"], { noEmit: false, outDir: "out" }));
  ok(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: project.dir });
  for (const out of ["out/ts-esm.mjs", "out/ts-cjs.cjs"]) {
    assert.equal(ok(process.execPath, [out], { cwd: project.dir }).stdout, "ERR_INVALID_ARG_TYPE\n0 0 true\n", out);
  }
});

test("TypeScript (moduleResolution bundler, DOM): the bundler and browser entries type-check", () => {
  project.write("bundled.ts", `import cip, { lint } from "cip-wasm";\nimport init, { initSync, lint as webLint } from "cip-wasm/web";\nexport const n: number = cip.lint("").summary.errors + lint("").summary.errors;\nexport async function go(url: URL) { await init({ module_or_path: url }); initSync({ module: new ArrayBuffer(0) }); return webLint(""); }\n`);
  project.write(
    "tsconfig.bundler.json",
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: "esnext", moduleResolution: "bundler", target: "es2022", lib: ["es2022", "dom"], types: [] }, files: ["bundled.ts"] }),
  );
  ok(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], { cwd: project.dir });
});

test("bundler entry: the ESM glue imports the one module and has the default export", () => {
  // What a bundler resolves: the "default" condition, not "node". Node loads a .wasm ES module
  // behind --experimental-wasm-modules, which is enough to run that entry as a bundler would.
  const entry = path.join(project.dir, "node_modules/cip-wasm/bundler.mjs");
  project.write("bundler.mjs", `import cip from ${JSON.stringify(entry)};\nimport * as named from ${JSON.stringify(entry)};\n${CHECKS}\nconsole.log(check(cip, named));\n`);
  const r = ok(process.execPath, ["--experimental-wasm-modules", "--no-warnings", "bundler.mjs"], { cwd: project.dir });
  assert.equal(r.stdout.trim(), EXPECTED);
});

test("browser entry: cip-wasm/web initialises from the module's bytes", () => {
  project.write(
    "web.mjs",
    `import { readFileSync } from "node:fs";\nimport { createRequire } from "node:module";\nimport init, { initSync, lint } from "cip-wasm/web";\n` +
      `const wasm = readFileSync(new URL("node_modules/cip-wasm/pkg/cip_wasm_bg.wasm", import.meta.url));\n` +
      `initSync({ module: wasm });\nconsole.log(typeof init, lint(${JSON.stringify(MANIFEST)}).summary.digests);\n`,
  );
  assert.equal(ok(process.execPath, ["web.mjs"], { cwd: project.dir }).stdout.trim(), "function 1");
});

test("@arethetypeswrong/cli finds no problem in the tarball", () => {
  // node10 (TypeScript's legacy `moduleResolution: node`) cannot see subpath exports at all, so
  // `cip-wasm/web` is checked under node16 and bundler only. That entry is ESM by design (it is
  // for browsers, which have no require), so a CommonJS require of it resolving to ESM is expected.
  const r = run(bin("attw"), [tarball, "--profile", "node16", "--ignore-rules", "cjs-resolves-to-esm", "--format", "table-flipped"], { cwd: wasmDir });
  assert.equal(r.status, 0, r.text); // attw exits non-zero on any problem not ignored above
  // The main entry is right under every resolution, node10 included.
  assert.match(r.stdout, /"cip-wasm" .*🟢 \(CJS\).*🟢 \(ESM\).*🟢 .*🟢/, r.text);
});

test("publint finds nothing to report in the installed package", () => {
  const r = run(bin("publint"), ["--strict", path.join(project.dir, "node_modules/cip-wasm")], { cwd: wasmDir });
  assert.equal(r.status, 0, r.text);
  assert.doesNotMatch(r.stdout + r.stderr, /warn|error|suggest/i, r.text);
});

test("npm publish --dry-run is clean", () => {
  const r = run("npm", ["publish", "--dry-run", "--offline", "--ignore-scripts", tarball], { cwd: wasmDir });
  assert.equal(r.status, 0, r.text);
  // The one warning a dry run gives without a registry login is about that login.
  const complaints = r.stderr.split("\n").filter((l) => /npm (warn|error)/i.test(l) && !/requires you to be logged in/.test(l));
  assert.deepEqual(complaints, [], r.text);
  assert.match(r.stdout, new RegExp(`^\\+ cip-wasm@${version.replaceAll(".", "\\.")}$`, "m"), r.text);
});
