// Reads files the user opens or drops into {path: text}, the shape the engine takes.
// Like `cip lint DIR`, a folder contributes only its thin-manifest files (promoter-manifest.yaml
// and images.yaml) under paths that start with the folder's name; single files are plain manifests.

const THIN_FILES = new Set(["promoter-manifest.yaml", "images.yaml"]);

/** Files from an <input type=file>, with or without `webkitdirectory`. */
export async function fromFileList(fileList) {
  const out = {};
  for (const file of Array.from(fileList)) {
    const rel = file.webkitRelativePath || "";
    if (rel.includes("/")) {
      if (THIN_FILES.has(file.name)) out[rel] = await file.text();
    } else {
      out[file.name] = await file.text();
    }
  }
  return sorted(out);
}

/** Files from a drop: folders are walked (thin files only), loose files are plain manifests. */
export async function fromDataTransfer(dataTransfer) {
  const entries = Array.from(dataTransfer.items ?? [])
    .map((item) => item.webkitGetAsEntry?.())
    .filter(Boolean);
  if (entries.length === 0) return fromFileList(dataTransfer.files);
  const out = {};
  for (const entry of entries) {
    if (entry.isDirectory) await walk(entry, entry.name, out);
    else out[entry.name] = await (await fileOf(entry)).text();
  }
  return sorted(out);
}

async function walk(dir, prefix, out) {
  for (const entry of await readAll(dir.createReader())) {
    const path = `${prefix}/${entry.name}`;
    if (entry.isDirectory) await walk(entry, path, out);
    else if (THIN_FILES.has(entry.name)) out[path] = await (await fileOf(entry)).text();
  }
}

// readEntries returns at most ~100 entries per call; keep calling until it returns none.
async function readAll(reader) {
  const all = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

function fileOf(entry) {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

function sorted(files) {
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
