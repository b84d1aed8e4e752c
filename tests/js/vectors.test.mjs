// Runs every tests/vectors case through a JS front end (FRONTEND=wasm, the default, or
// FRONTEND=node for the napi addon) and requires the exact bytes the Rust runner and the CLI
// print, both from the exact-text functions and from JSON.stringify of the returned objects.
//   node --test tests/js/*.test.mjs                 # wasm package (wasm/pkg, built by wasm/build.sh)
//   FRONTEND=node node --test tests/js/*.test.mjs   # napi addon
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadFrontend } from "./frontends.mjs";
import { cases, planOptions } from "./vectors.mjs";

const frontend = loadFrontend();
const lintCases = cases("lint");
const planCases = cases("plan");

/** The CLI's JSON text for a value: 2-space pretty JSON plus a trailing newline. */
const cliText = (value) => `${JSON.stringify(value, null, 2)}\n`;

const EMPTY_INVENTORY = '{"repositories": {}}';

describe(`lint vectors through ${frontend.name}`, () => {
  test("the lint vectors are there", () => assert.ok(lintCases.length >= 45, `${lintCases.length} lint cases`));
  for (const c of lintCases) {
    test(c.name, () => {
      assert.equal(frontend.lintJson(c.input), c.expectedJson, "lintJson bytes differ from expected.json");
      assert.equal(cliText(frontend.lint(c.input)), c.expectedJson, "lint() object differs from expected.json");
    });
  }
});

/** One runner per `options.mode` of the planning vectors (see core/tests/plan_vectors.rs). */
const MODES = {
  plan(c) {
    // The CLI's option words in camelCase (`--attachments`, `--require-signature`, ...).
    const options = planOptions(c);
    const inventory = c.inventory ?? EMPTY_INVENTORY;
    assert.equal(frontend.planJson(c.input, inventory, options), c.expectedJson, "planJson bytes differ");
    assert.equal(cliText(frontend.plan(c.input, inventory, options)), c.expectedJson, "plan() object differs");
  },
  snapshot(c) {
    const { registry, minimal, snapshotTag, output } = c.options;
    const options = { minimal: Boolean(minimal), snapshotTag: snapshotTag ?? null };
    const inventory = c.inventory ?? EMPTY_INVENTORY;
    assert.equal(cliText(frontend.snapshot(inventory, registry, options)), c.expectedJson, "snapshot() differs");
    assert.equal(frontend.snapshotText(inventory, registry, { ...options, output: "json" }), c.expectedJson);
    assert.equal(frontend.snapshotText(inventory, registry, { ...options, output: output ?? "yaml" }), c.expectedText);
  },
};

describe(`plan vectors through ${frontend.name}`, () => {
  test("the plan vectors are there", () => assert.ok(planCases.length >= 25, `${planCases.length} plan cases`));
  for (const c of planCases) {
    const mode = c.options.mode ?? "plan";
    const run = MODES[mode];
    // snapshot-manifests and audit are CLI/core features the JS front ends do not expose.
    test(c.name, { skip: run ? false : `mode ${mode} is not part of the JS API` }, () => run(c));
  }
});
