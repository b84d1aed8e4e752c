// Renders a plan (the JSON `cip plan` prints) as one table per destination repository: copy and
// tag actions in execution order, then blocked edges with their reasons. Digests show their first
// 12 hex digits; the full digest is in the hover title and one click of its copy button away.
// Long names wrap only after a `/`, `@`, `:` or `,`, never inside a word.

/** Replaces the contents of `container` with the plan's tables and counts. */
export function renderPlan(container, plan) {
  const byDestination = new Map();
  const rowsOf = (dst) => {
    if (!byDestination.has(dst)) byDestination.set(dst, []);
    return byDestination.get(dst);
  };
  for (const a of plan.actions) rowsOf(a.dst).push({ kind: a.action, digest: a.digest, tags: a.tags, detail: a.src });
  for (const b of plan.blocked) {
    rowsOf(b.dst).push({ kind: "blocked", digest: b.digest, tags: b.tags, detail: b.reasons.join(", ") });
  }
  const s = plan.summary;
  const counts = document.createElement("p");
  counts.className = "plan-summary";
  counts.textContent = `Edges: ${s.copy} to copy, ${s.tag} to tag, ${s.present} present, ${s.blocked} blocked.`;
  const tables = [...byDestination.keys()].sort().map((dst) => table(dst, byDestination.get(dst)));
  if (tables.length === 0) {
    const done = document.createElement("p");
    done.textContent = "Nothing to do: every image is already in place.";
    tables.push(done);
  }
  container.replaceChildren(counts, ...tables);
}

function table(dst, rows) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const t = document.createElement("table");
  t.dataset.dst = dst;
  breakable(t.createCaption(), dst);
  const head = t.createTHead().insertRow();
  for (const h of ["Action", "Digest", "Tags", "Source / reasons"]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = t.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.action = r.kind;
    tr.insertCell().append(span(`action ${r.kind}`, r.kind));
    digestCell(tr.insertCell(), r.digest);
    breakable(tr.insertCell(), r.tags.length ? r.tags.join(", ") : "(by digest)");
    breakable(tr.insertCell(), r.detail ?? "").classList.add("mono");
  }
  wrap.append(t);
  return wrap;
}

// The short digest, its full text as a title, and a button that copies the full digest.
function digestCell(td, digest) {
  td.className = "mono digest";
  const code = span("digest-text", shortDigest(digest));
  code.title = digest;
  code.dataset.digest = digest;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.className = "copy";
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", `Copy ${digest}`);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(digest);
      copy.textContent = "Copied";
    } catch {
      // No clipboard permission: select the full digest so the user can copy it themselves.
      code.textContent = digest;
      getSelection().selectAllChildren(code);
    }
  });
  td.append(code, " ", copy);
}

/** Sets `text` into `node` with a line-break opportunity after each `/`, `@`, `:` and `,`. */
function breakable(node, text) {
  const parts = text.split(/(?<=[/@:,])/);
  parts.forEach((part, i) => {
    if (i > 0) node.append(document.createElement("wbr"));
    node.append(part);
  });
  return node;
}

function span(className, text) {
  const node = document.createElement("span");
  node.className = className;
  node.textContent = text;
  return node;
}

// sha256:0123456789ab… keeps tables readable; the full digest is in the title and the copy button.
function shortDigest(digest) {
  const [algo, hex] = digest.split(":");
  return hex && hex.length > 12 ? `${algo}:${hex.slice(0, 12)}…` : digest;
}
