// The page's own packing of its state (open files, inventory) into URL-safe text, for share links
// (the URL fragment, which browsers never send to a server) and the copy kept in localStorage:
// JSON, deflated with the browser's CompressionStream, in base64url. Runs in the worker.

/** Prefix of a packed text: names the format, so a later format can still read old links. */
export const FORMAT = "c1.";

export async function pack(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const deflated = await pipe(bytes, new CompressionStream("deflate"));
  return FORMAT + toBase64Url(deflated);
}

export async function unpack(text) {
  if (!text.startsWith(FORMAT)) throw new Error("not a cip linter link (it does not start with c1.)");
  let bytes;
  try {
    bytes = await pipe(fromBase64Url(text.slice(FORMAT.length)), new DecompressionStream("deflate"));
  } catch {
    throw new Error("the link is damaged (its data does not inflate); ask for the link again");
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function pipe(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// Uint8Array's own base64 (ES2026; Chromium 140, Firefox 133, Safari 18.2).
function toBase64Url(bytes) {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

function fromBase64Url(text) {
  return Uint8Array.fromBase64(text, { alphabet: "base64url" });
}
