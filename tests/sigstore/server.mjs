// cip's keyless lab: one HTTP server on 127.0.0.1 serving a Sigstore Fulcio and Rekor built from
// the @sigstore/mock handlers (the same code sigstore-js tests itself against), plus an OIDC token
// minter, and the Sigstore trusted root that matches them.
//
//   node server.mjs --trusted-root PATH [--identity I] [--issuer ISS] [--idle-timeout SECONDS]
//
// Routes (all on one base URL, which is both the Fulcio and the Rekor URL: their paths differ):
//   POST /api/v2/signingCert   mock Fulcio: a certificate for the token's `sub` (a URI SAN) with the
//                              token's `iss` in the issuer extensions (1.3.6.1.4.1.57264.1.1 and .8),
//                              chained to the lab's root CA, with an embedded SCT from the lab's CT log
//   POST /api/v1/log/entries   mock Rekor (v1 API): logs the proposed entry (canonical JSON) and answers
//                              with a signed entry timestamp and a one-entry inclusion proof + checkpoint.
//                              The mock logs every entry as proposed; Rekor itself stores a `dsse`
//                              entry in another shape (hashes + signatures, not the envelope), which
//                              verifiers expect, so `dsseStoredForm` below does that step first
//   GET  /token?sub=..&iss=..  an OIDC identity token for that subject and issuer (default: the lab's)
//   GET  /trusted_root.json    the trusted root (also written to --trusted-root)
//   GET  /stats                requests served per route, as JSON (tests count Fulcio/Rekor calls)
//
// What the mock Fulcio checks about a token: only that it is a well-formed JWT (it decodes it with
// jose.decodeJwt and never verifies the signature, the audience or the expiry). Tokens minted here
// are nevertheless real ES256 JWTs (aud "sigstore", one hour) so that a client parsing them sees the
// shape a real issuer gives.
//
// When ready it prints one JSON line on stdout:
//   {"fulcioUrl","rekorUrl","trustedRoot","token","identity","issuer"}
// It stops by itself when stdin closes (its parent died or closed the pipe) and after an idle time
// without requests (default 600 s). It listens on loopback only.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import {
  fulcioHandler,
  initializeCA,
  initializeCTLog,
  initializeTLog,
  rekorHandler,
} from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';

export const DEFAULT_IDENTITY = 'https://cip.lab.test/signer/promoter@refs/heads/main';
export const DEFAULT_ISSUER = 'https://issuer.cip.lab.test';
const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// An ES256 JWT signed by a key of this lab run. Nobody verifies its signature (see the header), but
// it is a real one so the token is indistinguishable in shape from an issuer's.
function mintToken(oidcKey, sub, iss) {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'ES256', typ: 'JWT', kid: 'cip-lab' };
  const claims = { iss, sub, aud: 'sigstore', iat: now, nbf: now, exp: now + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), {
    key: oidcKey,
    dsaEncoding: 'ieee-p1363',
  });
  return `${input}.${b64url(sig)}`;
}

// The trusted root for this lab (`url` serves both Fulcio and Rekor): the CA (its self-signed root is the whole chain: the mock issues
// leaves directly from it), the Rekor key and log id, the CT log key and log id. Validity starts a
// minute before the keys were made (certificates and timestamps have one-second resolution) and
// has no end.
function trustedRootJSON({ ca, url, tlogKey, ctlogKey, start }) {
  const spki = (keyPair) => keyPair.publicKey.export({ format: 'der', type: 'spki' });
  const logId = (keyPair) => crypto.createHash('sha256').update(spki(keyPair)).digest();
  const log = (baseUrl, keyPair) => ({
    baseUrl,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    publicKey: {
      rawBytes: spki(keyPair),
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      validFor: { start },
    },
    logId: { keyId: logId(keyPair) },
    checkpointKeyId: undefined,
    operator: 'cip.lab.test',
  });
  return TrustedRoot.toJSON({
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    // The checkpoint signer's name is the Rekor host:port, which sigstore-js matches against this
    // base URL: it must be the URL the lab really serves Rekor on.
    tlogs: [log(url, tlogKey)],
    certificateAuthorities: [
      {
        subject: { commonName: 'sigstore', organization: 'sigstore.mock' },
        uri: url,
        certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate) }] },
        validFor: { start },
        operator: 'cip.lab.test',
      },
    ],
    ctlogs: [log(url, ctlogKey)],
    timestampAuthorities: [],
  });
}

// Rekor's dsse v0.0.1 canonicalization (rekor pkg/types/dsse/v0.0.1: the proposed envelope and
// verifiers become the envelope's and payload's SHA-256 and one {signature, verifier} per
// signature). Other kinds (hashedrekord, intoto) are logged as proposed, as the mock does.
export function dsseStoredForm(entry) {
  if (entry?.kind !== 'dsse' || entry.apiVersion !== '0.0.1' || !entry.spec?.proposedContent) {
    return entry;
  }
  const { envelope, verifiers } = entry.spec.proposedContent;
  const env = JSON.parse(envelope);
  const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope)) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')) },
      signatures: env.signatures.map((sig) => ({ signature: sig.sig, verifier: verifiers[0] })),
    },
  };
}

// The body handed to the mock Rekor: the stored form of a parsable entry, else the body as sent
// (the mock then answers 400 as Rekor would).
function rekorInput(body) {
  try {
    return JSON.stringify(dsseStoredForm(JSON.parse(body)));
  } catch {
    return body;
  }
}

/**
 * Starts the lab and resolves once it listens. Used by `main` below and by make-fixtures.mjs.
 * Returns { url, trustedRoot (JSON object), token(sub, iss), stats, close() }.
 */
export async function startLab({ identity = DEFAULT_IDENTITY, issuer = DEFAULT_ISSUER } = {}) {
  const start = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  // P-384 for the CA as the public Fulcio has it (ecdsa-with-SHA384 over P-384); P-256 for the logs.
  const caKey = crypto.generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  const ctlogKey = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tlogKey = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const oidcKey = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

  const ctlog = await initializeCTLog(ctlogKey);
  const ca = await initializeCA(caKey, ctlog);

  const stats = { signingCert: 0, logEntries: 0, token: 0, other: 0 };
  const routes = new Map();
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  // Rekor's checkpoint origin is the host of this URL, hence created after listen.
  const tlog = await initializeTLog(url, tlogKey);
  for (const h of [fulcioHandler(ca), rekorHandler(tlog)]) routes.set(h.path, h.fn);
  const trustedRoot = trustedRootJSON({ ca, url, tlogKey, ctlogKey, start });

  const listeners = [];
  server.on('request', (req, res) => {
    listeners.forEach((f) => f());
    const u = new URL(req.url, url);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status, text, type = 'application/json') => {
        res.writeHead(status, { 'Content-Type': type });
        res.end(text);
      };
      try {
        if (req.method === 'POST' && routes.has(u.pathname)) {
          stats[u.pathname.endsWith('signingCert') ? 'signingCert' : 'logEntries'] += 1;
          const input = u.pathname.endsWith('entries') ? rekorInput(body) : body;
          const r = await routes.get(u.pathname)(input);
          send(r.statusCode, r.response, r.contentType || 'text/plain');
        } else if (req.method === 'GET' && u.pathname === '/token') {
          stats.token += 1;
          const sub = u.searchParams.get('sub') || identity;
          const iss = u.searchParams.get('iss') || issuer;
          send(200, mintToken(oidcKey, sub, iss), 'text/plain');
        } else if (req.method === 'GET' && u.pathname === '/trusted_root.json') {
          send(200, JSON.stringify(trustedRoot));
        } else if (req.method === 'GET' && u.pathname === '/stats') {
          send(200, JSON.stringify(stats));
        } else {
          stats.other += 1;
          send(404, `no route ${req.method} ${u.pathname}`, 'text/plain');
        }
      } catch (e) {
        send(500, String(e && e.message ? e.message : e), 'text/plain');
      }
    });
  });

  return {
    url,
    trustedRoot,
    identity,
    issuer,
    stats,
    token: (sub = identity, iss = issuer) => mintToken(oidcKey, sub, iss),
    onRequest: (f) => listeners.push(f),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

function parseArgs(argv) {
  const opts = { idleTimeout: 600 };
  for (let i = 0; i < argv.length; i += 1) {
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
      i += 1;
      return argv[i];
    };
    switch (argv[i]) {
      case '--trusted-root':
        opts.trustedRoot = next();
        break;
      case '--identity':
        opts.identity = next();
        break;
      case '--issuer':
        opts.issuer = next();
        break;
      case '--idle-timeout':
        opts.idleTimeout = Number(next());
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!opts.trustedRoot) throw new Error('--trusted-root PATH is required (where to write trusted_root.json)');
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(
      `server.mjs: ${e.message}\nusage: node server.mjs --trusted-root PATH [--identity I] [--issuer ISS] [--idle-timeout SECONDS]\n`,
    );
    process.exit(2);
  }
  const lab = await startLab(opts);
  fs.writeFileSync(opts.trustedRoot, `${JSON.stringify(lab.trustedRoot, null, 2)}\n`);

  const stop = (why) => {
    process.stderr.write(`server.mjs: stopping (${why})\n`);
    lab.close();
    process.exit(0);
  };
  let idle;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => stop(`idle for ${opts.idleTimeout} s`), opts.idleTimeout * 1000);
  };
  arm();
  lab.onRequest(arm);
  // The parent holds our stdin: when it exits (or closes the pipe), stdin ends and so do we.
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => stop(sig));

  process.stdout.write(
    `${JSON.stringify({
      fulcioUrl: lab.url,
      rekorUrl: lab.url,
      trustedRoot: opts.trustedRoot,
      token: lab.token(),
      identity: lab.identity,
      issuer: lab.issuer,
    })}\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`server.mjs: ${e.stack || e}\n`);
    process.exit(1);
  });
}
