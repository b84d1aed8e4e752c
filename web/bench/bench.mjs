// Benchmark: lint the generated Kubernetes-scale thin manifest set (100 manifests, 45,000 digest
// entries) in headless Chromium through the page's engine (worker + wasm) and natively with
// `cip lint`, and print both. Target: the browser at most 3x the native time.
//
//   (cd web && npm run bench)            # CIP_BIN=path/to/cip to skip building the CLI
//
// Needs web/dist (npm run build) and cargo. Runs on loopback only; stops by itself.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "../test/serve.mjs";
import { launch } from "../test/browser.mjs";

const webDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = path.resolve(webDir, "..");
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

function nativeTimes(bin, dir) {
  const times = [];
  let summary;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(bin, ["lint", "--format", "json", path.basename(dir)], {
      cwd: path.dirname(dir),
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (run.status !== 0 && run.status !== 1) throw new Error(`cip lint failed: ${run.stderr}`);
    summary = JSON.parse(run.stdout).summary;
  }
  return { times, summary };
}

async function browserTimes(files) {
  const server = await serve(path.join(webDir, "dist"));
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => /linted in/.test(document.getElementById("status").textContent), null, {
      timeout: 30000,
    });
    return await page.evaluate(
      async ({ files, runs }) => {
        const { engine } = window.cipApp;
        const roundTrip = [];
        const inWasm = [];
        let summary;
        for (let i = 0; i < runs; i++) {
          const start = performance.now();
          const { result, ms } = await engine.call("lint", files);
          roundTrip.push(performance.now() - start);
          inWasm.push(ms);
          summary = result.summary;
        }
        return { roundTrip, inWasm, summary };
      },
      { files, runs: RUNS },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

async function main() {
  if (!existsSync(path.join(webDir, "dist/index.html"))) {
    throw new Error("web/dist is missing: run `npm run build` in web/ first");
  }
  const work = mkdtempSync(path.join(os.tmpdir(), "cip-bench-"));
  try {
    const dir = path.join(work, "k8s-scale");
    generate(dir);
    const files = readSet(dir);
    const bytes = Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0);
    const bin = cliBinary();
    const native = nativeTimes(bin, dir);
    const web = await browserTimes(files);
    if (JSON.stringify(native.summary) !== JSON.stringify(web.summary)) {
      throw new Error(`summaries differ: native ${JSON.stringify(native.summary)} vs browser ${JSON.stringify(web.summary)}`);
    }
    const n = median(native.times);
    const rt = median(web.roundTrip);
    const w = median(web.inWasm);
    const s = web.summary;
    console.log(`\nlint of ${Object.keys(files).length} files, ${(bytes / 1e6).toFixed(2)} MB, ${s.manifests} manifests, ${s.digests} digests, ${s.tags} tags (median of ${RUNS})`);
    console.log("| engine | median ms | vs native |");
    console.log("|---|---:|---:|");
    console.log(`| native \`cip lint --format json\` (process, read, lint, print) | ${n.toFixed(1)} | 1.00x |`);
    console.log(`| Chromium page engine, worker round trip | ${rt.toFixed(1)} | ${(rt / n).toFixed(2)}x |`);
    console.log(`| Chromium page engine, inside wasm only | ${w.toFixed(1)} | ${(w / n).toFixed(2)}x |`);
    console.log(`target: browser round trip <= 3x native: ${rt <= 3 * n ? "met" : "NOT met"}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
