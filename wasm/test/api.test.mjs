// The cip-wasm package API as Node sees it: both module systems, the argument shapes, and the
// rule that bad manifests are data while unusable arguments throw with a clear message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import * as esm from "cip-wasm";

const require = createRequire(import.meta.url);
const cjs = require("cip-wasm");
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

const BAD = `registries:
  - name: gcr.io/example-staging
    src: true
  - name: gcr.io/example-prod
images:
  - name: app
    dmap:
      "sha256:not-a-digest": ["v1"]
`;

test("require and import give the same functions and version; import also has a default export", async () => {
  const { default: cip } = await import("cip-wasm");
  assert.equal(cip, cjs, "the default export is the CommonJS module's exports");
  assert.equal(cip.lint, esm.lint);
  assert.equal(cjs.version(), esm.version());
  assert.equal(esm.version(), pkg.version);
  for (const name of ["defaultFileName", "lint", "lintJson", "plan", "planJson", "sarif", "snapshot", "snapshotText", "version"]) {
    assert.equal(typeof esm[name], "function", `import is missing ${name}`);
    assert.equal(typeof cjs[name], "function", `require is missing ${name}`);
  }
});

test("a single string is linted as defaultFileName() (manifest.yaml) and findings are data", () => {
  assert.equal(esm.defaultFileName(), "manifest.yaml");
  assert.equal(cjs.defaultFileName(), "manifest.yaml");
  const report = esm.lint(BAD);
  assert.ok(report.summary.errors >= 1, JSON.stringify(report));
  const d = report.diagnostics.find((x) => x.severity === "error");
  assert.equal(d.file, esm.defaultFileName());
  assert.equal(esm.lintJson(BAD), esm.lintJson({ [esm.defaultFileName()]: BAD }));
  assert.equal(d.line, 8);
  assert.equal(typeof d.columnUtf16, "number");
  assert.deepEqual(Object.keys(report), ["diagnostics", "summary"]);
});

test("lint and lintJson agree byte for byte", () => {
  const files = { "a.yaml": BAD, "b.yaml": "" };
  assert.equal(esm.lintJson(files), `${JSON.stringify(esm.lint(files), null, 2)}\n`);
});

test("a Map and an object give the same report, whatever the insertion order", () => {
  const object = { "b.yaml": BAD, "a.yaml": BAD };
  const map = new Map([["a.yaml", BAD], ["b.yaml", BAD]]);
  assert.equal(esm.lintJson(object), esm.lintJson(map));
});

test("UTF-16 columns count astral characters as two units", () => {
  const text = `images:\n  - name: "😀😀bad name"\n    dmap: {}\n`;
  const report = esm.lint({ "u.yaml": text });
  for (const d of report.diagnostics.filter((x) => x.line === 2 && x.column > 12)) {
    assert.ok(d.columnUtf16 > d.column, JSON.stringify(d));
  }
});

test("garbage YAML is a finding, not an exception", () => {
  const report = esm.lint("images: [\n  {name: x\n");
  assert.ok(report.summary.errors >= 1);
});

test("unusable arguments throw Errors with cip-node's codes, the function and the accepted shapes", () => {
  const type = (re) => ({ name: "Error", code: "ERR_INVALID_ARG_TYPE", message: re });
  const value = (re) => ({ name: "Error", code: "ERR_INVALID_ARG_VALUE", message: re });
  assert.throws(() => esm.lint(42), type(/^lint\(files\): expected a manifest text .* got number$/));
  assert.throws(() => esm.lint(null), type(/got null$/));
  assert.throws(() => esm.lint(undefined), type(/got undefined$/));
  assert.throws(() => esm.lintJson({ "a.yaml": 1 }), type(/^lintJson\(files\)\["a.yaml"\]: .*expected the text of a manifest file/));
  assert.throws(() => esm.lint(new Map([["a.yaml", 1]])), type(/^lint\(files\)\["a.yaml"\]/));
  assert.throws(() => esm.plan("", "{not json", {}), value(/^plan\(files, inventory\): invalid inventory JSON at line 1/));
  assert.throws(() => esm.plan("", 7, {}), type(/expected the inventory JSON text or object .*; got number$/));
  assert.throws(() => esm.plan("", "{\"repositories\": {}}", { sttrict: true }), value(/^plan\(files, inventory, options\): unknown field `sttrict`/));
  assert.throws(() => esm.plan("", "{\"repositories\": {}}", 3), type(/^plan\(files, inventory, options\): expected an options object; got number$/));
  assert.throws(() => esm.plan("", "{\"repositories\": {}}", { base: 3 }), value(/expected a manifest text \(string\) or an object/));
  assert.throws(() => esm.snapshot("{\"repositories\": {}}", "gcr.io/x", { snapshot_tag: "v1" }), value(/unknown field `snapshot_tag`/));
  assert.throws(() => esm.snapshot("{\"repositories\": {}}", ""), value(/^snapshot\(inventory, registry\): expected a registry name/));
  assert.throws(() => esm.sarif(7), value(/^sarif\(diagnostics\): expected the diagnostics lint\(\) returns/));
  // Trust options the policy cannot use are the caller's error, named in JavaScript's words.
  const empty = "{\"repositories\": {}}";
  assert.throws(() => esm.plan("", empty, { requireSignature: true, verifyKey: "not a key" }), value(/^plan\(files, inventory, options\): options\.verifyKey: /));
  assert.throws(() => esm.plan("", empty, { certificateIdentity: "a@example.com" }), value(/^plan\(files, inventory, options\): options\./));
  assert.throws(() => esm.plan("", empty, { requireAttestation: 3 }), value(/a string or an array of strings/));
});

test("a wrongly shaped inventory object is a serde message, not a JS engine error", () => {
  for (const inventory of [{ repositories: { "gcr.io/x/app": 5 } }, { repositories: 5 }, { repositories: { "gcr.io/x/app": { [`sha256:${"a".repeat(64)}`]: "v1" } } }]) {
    assert.throws(
      () => esm.plan("", inventory),
      (e) => {
        assert.equal(e.code, "ERR_INVALID_ARG_VALUE");
        assert.match(e.message, /^plan\(files, inventory\): invalid inventory: invalid type: /);
        assert.doesNotMatch(e.message, /Reflect|TypeError|Error:/);
        assert.equal(String(e), `Error: ${e.message}`);
        return true;
      },
      JSON.stringify(inventory),
    );
  }
});

test("plan takes the inventory as text or object and returns the CLI JSON", () => {
  const inventory = { repositories: {} };
  const fromText = esm.planJson(BAD, JSON.stringify(inventory), {});
  const fromObject = esm.planJson(BAD, inventory, undefined);
  assert.equal(fromText, fromObject);
  const plan = esm.plan(BAD, inventory, { strict: true });
  assert.deepEqual(Object.keys(plan), ["actions", "blocked", "diagnostics", "summary"]);
  assert.equal(esm.planJson(BAD, inventory, { strict: true }), `${JSON.stringify(plan, null, 2)}\n`);
});

test("plan's base may be a text, an object or a Map, like files", () => {
  const inventory = { repositories: {} };
  const asObject = esm.planJson({ "a.yaml": BAD }, inventory, { base: { "a.yaml": BAD } });
  assert.equal(esm.planJson({ "a.yaml": BAD }, inventory, { base: new Map([["a.yaml", BAD]]) }), asObject);
  assert.equal(esm.planJson(BAD, inventory, { base: BAD }), esm.planJson(BAD, inventory, { base: { "manifest.yaml": BAD } }));
  assert.equal(esm.planJson(BAD, inventory, { base: null }), esm.planJson(BAD, inventory));
});

test("snapshot lists a registry's images as object, YAML, CSV and JSON", () => {
  const digest = `sha256:${"a".repeat(64)}`;
  const inventory = { repositories: { "gcr.io/prod/app": { [digest]: { tags: ["v1", "latest"] } }, "gcr.io/other/x": {} } };
  const snap = esm.snapshot(inventory, "gcr.io/prod");
  assert.deepEqual(snap, { images: [{ name: "app", dmap: { [digest]: ["latest", "v1"] } }] });
  assert.equal(esm.snapshotText(inventory, "gcr.io/prod"), `- name: app\n  dmap:\n    "${digest}": ["latest", "v1"]\n`);
  assert.equal(esm.snapshotText(inventory, "gcr.io/prod", { output: "csv" }), `app@${digest},app:latest\napp@${digest},app:v1\n`);
  assert.equal(esm.snapshotText(JSON.stringify(inventory), "gcr.io/prod", { output: "json" }), `${JSON.stringify(snap, null, 2)}\n`);
  assert.throws(() => esm.snapshotText(inventory, "gcr.io/prod", { output: "xml" }), /output must be "yaml", "csv" or "json"/);
  assert.throws(() => esm.snapshot(inventory, 3), { code: "ERR_INVALID_ARG_TYPE", message: /snapshot\(inventory, registry\): expected the registry/ });
});
