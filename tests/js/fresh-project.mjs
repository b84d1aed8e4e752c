// A user's project, made from nothing: a temp directory with an empty package.json into which npm
// installs packed tarballs (dist/*.tgz), as `npm install ./dist/x.tgz` would, then consumer files
// run or type-checked there. Shared by node/test/install.test.mjs and wasm/test/install.test.mjs.
//
// npm runs with --offline: a tarball needs nothing else, and the optional dependencies that are
// not given as tarballs (other platforms' addons, unpublished here) are skipped as npm skips any
// optional dependency it cannot fetch. No request leaves the machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Runs a command; returns {status, stdout, stderr}. `input`, `env` as for spawnSync. */
export function run(command, args, { cwd, env, timeout = 300_000 } = {}) {
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, text: `$ ${command} ${args.join(" ")}\n${r.stdout}${r.stderr}` };
}

/** Like `run`, but throws with the output when the command fails. */
export function ok(command, args, options) {
  const r = run(command, args, options);
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.text}`);
  return r;
}

/**
 * A fresh project with `tarballs` installed (absolute paths). `npmArgs` are extra flags for
 * `npm install` (`--cpu=arm64`, `--save-optional`, ...). Returns the project directory; call
 * `dispose()` on the result's `dispose` when done.
 */
export function freshProject(tarballs, { npmArgs = [], files = {} } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "cip-fresh-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "fresh", version: "1.0.0", private: true }, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const install = run("npm", ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", ...npmArgs, ...tarballs], { cwd: dir });
  return {
    dir,
    install,
    /** Package names under node_modules (scoped ones as `@scope/name`). */
    installed() {
      const top = path.join(dir, "node_modules");
      return readdirSync(top)
        .filter((n) => !n.startsWith("."))
        .flatMap((n) => (n.startsWith("@") ? readdirSync(path.join(top, n)).map((m) => `${n}/${m}`) : [n]))
        .sort();
    },
    write(name, text) {
      writeFileSync(path.join(dir, name), text);
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The tarballs in `distDir` (absolute paths), failing clearly when `npm run pack` has not run. */
export function tarballs(distDir) {
  let names = [];
  try {
    names = readdirSync(distDir).filter((f) => f.endsWith(".tgz"));
  } catch {
    // reported below
  }
  if (names.length === 0) throw new Error(`${distDir} has no tarballs: run \`npm run pack\` first`);
  return names.map((f) => path.join(distDir, f)).sort();
}

/** tsconfig for a consumer checked the way Node runs it (`module`/`moduleResolution` nodenext). */
export function nodenextTsconfig(files, extra = {}) {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      module: "nodenext",
      moduleResolution: "nodenext",
      target: "es2022",
      types: [],
      skipLibCheck: false,
      exactOptionalPropertyTypes: true,
      ...extra,
    },
    files,
  });
}
