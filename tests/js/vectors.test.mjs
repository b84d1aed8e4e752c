// Runs every tests/vectors case through a JS front end (FRONTEND=wasm, the default, or
// FRONTEND=node for the napi addon) and requires the exact bytes the CLI prints.
//   node --test tests/js/                 # wasm package (wasm/pkg, built by wasm/build.sh)
//   FRONTEND=node node --test tests/js/   # napi addon
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { loadFrontend } from "./frontends.mjs";
import { cases } from "./vectors.mjs";

const frontend = loadFrontend();
const lintCases = cases("lint");
const planCases = cases("plan");

/** The CLI's JSON text for a value: 2-space pretty JSON plus a trailing newline. */
const cliText = (value) => `${JSON.stringify(value, null, 2)}\n`;

describe(`lint vectors through ${frontend.name}`, () => {
  test("there are lint vectors to run", () => {
    assert.ok(lintCases.length > 0, "tests/vectors/lint has no cases");
  });
  for (const c of lintCases) {
    test(c.name, () => {
      assert.equal(frontend.lintJson(c.files), c.expected, "lintJson bytes differ from expected.json");
      assert.equal(cliText(frontend.lint(c.files)), c.expected, "lint() object differs from expected.json");
    });
  }
});

describe(`plan vectors through ${frontend.name}`, () => {
  for (const c of planCases) {
    test(c.name, (t) => {
      if (typeof frontend.planJson !== "function") {
        t.skip(`${frontend.name} has no planJson yet`);
        return;
      }
      const options = c.options ? JSON.parse(c.options) : {};
      const inventory = c.inventory ?? "{\"repositories\": {}}";
      assert.equal(frontend.planJson(c.files, inventory, options), c.expected);
      assert.equal(cliText(frontend.plan(c.files, inventory, options)), c.expected);
    });
  }
});
