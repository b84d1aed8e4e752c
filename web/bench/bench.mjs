// Benchmark: lint the generated Kubernetes-scale thin manifest set (100 manifests, 45,000 digest
// entries) in headless Chromium through the page's engine (worker + wasm) and natively (the same
// core call in-process, and the `cip lint` process), interleaved, and print all. Target: the page
// at most 3x the native time. Also drives the page like a user (open the folder, type) and
// reports the longest main-thread task.
//
//   (cd web && npm run bench)            # CIP_BIN=path/to/cip to skip building the CLI
//
// Needs web/dist (npm run build) and cargo. Runs on loopback only; stops by itself.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../test/serve.mjs";
import { launch } from "../test/browser.mjs";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(webDir, "..");
const artifacts = path.join(repoRoot, "tests/artifacts");
const RUNS = Number(process.env.BENCH_RUNS || 7);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function generate(dir) {
  execFileSync(
    "cargo",
    ["run", "-q", "-p", "cip-core", "--release", "--example", "gen-manifests", "--", dir],
    { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] },
  );
}

/** {path: text} with paths as `cip lint DIR` shows them (`<dir name>/manifests/...`). */
function readSet(dir) {
  const name = path.basename(dir);
  const files = {};
  const walk = (abs, rel) => {
    for (const entry of readdirSync(abs).sort()) {
      const a = path.join(abs, entry);
      const r = `${rel}/${entry}`;
      if (statSync(a).isDirectory()) walk(a, r);
      else files[r] = readFileSync(a, "utf8");
    }
  };
  walk(dir, name);
  return files;
}

function cliBinary() {
  if (process.env.CIP_BIN) return process.env.CIP_BIN;
  execFileSync("cargo", ["build", "-q", "-p", "cip", "--release"], { cwd: repoRoot, stdio: "inherit" });
  return path.join(repoRoot, "target/release/cip");
}

/** One `cip lint --format json DIR` process: wall time in ms and the summary it printed. */
function cliOnce(bin, dir) {
  const start = process.hrtime.bigint();
  const run = spawnSync(bin, ["lint", "--format", "json", path.basename(dir)], {
    cwd: path.dirname(dir),
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0 && run.status !== 1) throw new Error(`cip lint failed: ${run.stderr}`);
  return { ms, summary: JSON.parse(run.stdout).summary };
}

/** The in-process native lint (wasm/examples/native-lint.rs): the same core call as the page. */
function nativeInProcess(dir) {
  execFileSync("cargo", ["build", "-q", "-p", "cip-wasm", "--release", "--example", "native-lint"], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  const exe = path.join(repoRoot, "target/release/examples/native-lint");
  return () => JSON.parse(execFileSync(exe, [dir, "1"], { encoding: "utf8" }));
}

/**
 * The page as a user drives it: open the generated folder through the folder input, then type
 * into the editor. Reports the time until the page shows the result and the longest main-thread
 * task meanwhile (what decides whether the page stays responsive).
 */
async function pageResponsiveness(page, dir) {
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: "longtask", buffered: false });
  });
  const generation = () => page.evaluate(() => Number(document.body.dataset.results));
  const linted = (n) =>
    page.waitForFunction((n) => Number(document.body.dataset.results) > n, n, { timeout: 60000 });
  let before = await generation();
  const start = Date.now();
  await page.setInputFiles("#open-folder", dir);
  await linted(before);
  const openMs = Date.now() - start;
  before = await generation();
  const typeStart = Date.now();
  await page.locator(".cm-content").focus();
  await page.keyboard.type("# x\n");
  await linted(before);
  const typeMs = Date.now() - typeStart;
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, "web-linter-k8s-scale.png") });
  return { openMs, typeMs, longest: await page.evaluate(() => window.__longest) };
}

/** One lint through the page's engine (worker + wasm): round trip and in-wasm ms, summary. */
function pageOnce(page, files) {
  return page.evaluate(async (files) => {
    const start = performance.now();
    await window.cipApp.engine.call("setFiles", files);
    const { result, ms } = await window.cipApp.engine.call("check");
    return { roundTrip: performance.now() - start, inWasm: ms, summary: result.report.summary };
  }, files);
}

async function main() {
  if (!existsSync(path.join(webDir, "dist/index.html"))) {
    throw new Error("web/dist is missing: run `npm run build` in web/ first");
  }
  const work = mkdtempSync(path.join(os.tmpdir(), "cip-bench-"));
  const server = await serve(path.join(webDir, "dist"));
  const browser = await launch();
  try {
    const dir = path.join(work, "k8s-scale");
    generate(dir);
    const files = readSet(dir);
    const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
    const bin = cliBinary();
    const inProcess = nativeInProcess(dir);
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => Number(document.body.dataset.results) > 0, null, {
      timeout: 30000,
    });
    await pageOnce(page, files); // warm-up: compile tiers, worker start
    // Interleaved, so that load from other processes on the machine hits every engine alike.
    const t = { cli: [], native: [], roundTrip: [], inWasm: [] };
    let summaries;
    for (let i = 0; i < RUNS; i++) {
      const cli = cliOnce(bin, dir);
      const native = inProcess();
      const web = await pageOnce(page, files);
      t.cli.push(cli.ms);
      t.native.push(native.ms[0]);
      t.roundTrip.push(web.roundTrip);
      t.inWasm.push(web.inWasm);
      summaries = [cli.summary, native.summary, web.summary].map((x) => JSON.stringify(x));
      if (new Set(summaries).size !== 1) throw new Error(`summaries differ: ${summaries.join(" vs ")}`);
    }
    const ui = await pageResponsiveness(page, dir);
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
    const s = JSON.parse(summaries[0]);
    const row = (label, ms, base) => `| ${label} | ${ms.toFixed(1)} | ${(ms / base).toFixed(2)}x |`;
    console.log(
      `\nlint of ${Object.keys(files).length} files, ${(bytes / 1e6).toFixed(2)} MB: ${s.manifests} manifests, ` +
        `${s.digests} digests, ${s.tags} tags (median of ${RUNS}, interleaved)`,
    );
    console.log("| engine | median ms | vs native in-process |");
    console.log("|---|---:|---:|");
    console.log(row("native, in-process core lint (wasm/examples/native-lint)", m.native, m.native));
    console.log(row("native `cip lint --format json` process (start, read, lint, print)", m.cli, m.native));
    console.log(row("Chromium page engine, inside wasm", m.inWasm, m.native));
    console.log(row("Chromium page engine, worker round trip", m.roundTrip, m.native));
    // Judge against the faster native figure, so a slow native run cannot flatter the page.
    const ratio = m.roundTrip / Math.min(m.native, m.cli);
    console.log(`target: page round trip <= 3x the faster native figure: ${ratio <= 3 ? "met" : "NOT met"} (${ratio.toFixed(2)}x)`);
    console.log(
      `\npage, as a user drives it: open the folder -> results ${ui.openMs} ms; type one line -> ` +
        `results ${ui.typeMs} ms (incl. 100 ms debounce); longest main-thread task ${ui.longest.toFixed(0)} ms`,
    );
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
