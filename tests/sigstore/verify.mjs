// The independent verifier of cip's keyless signatures: sigstore-js (@sigstore/verify), offline,
// against a trusted root given as a file (no TUF, no network).
//
//   node verify.mjs --bundle B.json [--artifact FILE] --trusted-root R --identity I --issuer ISS [--digest sha256:HEX]
//   node verify.mjs --payload FILE --annotations FILE --trusted-root R --identity I --issuer ISS [--digest sha256:HEX]
//
// Exits 0 only when the signature verifies, 1 when it does not (the reason on stderr), 2 on bad usage.
// On success it prints one JSON line {ok, format, identity, issuer}.
//
// The first form takes a Sigstore bundle (v0.1, v0.2 or v0.3; a message signature needs --artifact,
// the signed bytes). The second takes one layer of a cosign tag-scheme `.sig` manifest (keyless): the
// payload file is the layer's content, the annotations file is the layer's annotations object (or the
// whole layer descriptor holding it): `dev.cosignproject.cosign/signature`,
// `dev.sigstore.cosign/certificate`, `dev.sigstore.cosign/bundle` (the Rekor SET: `SignedEntryTimestamp`
// + `Payload{body, integratedTime, logIndex, logID}`). It is converted to a v0.1-shaped bundle
// (leaf certificate; one tlog entry whose canonicalized body is the SET payload's body, with the SET
// as its inclusion promise; a message signature over the payload) and verified the same way. The
// `dev.sigstore.cosign/chain` annotation is not trusted: paths are built to the trusted root's CAs.
//
// What is checked (sigstore-js Verifier.verify, then the checks marked "here"):
// - the leaf certificate chains to a certificate authority of the trusted root, every certificate of
//   the path valid at the log's integrated time, and the CA's validity window covers that time;
// - the certificate carries at least one SCT signed by a CT log of the trusted root;
// - at least one transparency-log entry: its inclusion promise (SET) verifies with the log key the
//   trusted root lists under that log id (valid at the integrated time) over the canonical
//   {body, integratedTime, logIndex, logID}; an inclusion proof, when present, against a checkpoint
//   signed by that log; the entry's body matches the content (hashedrekord: same signature and
//   digest; dsse/intoto: same signature and payload hash);
// - the signature verifies with the certificate's key: over the artifact (message signature) or over
//   DSSE's PAE(payloadType, payload) (DSSE envelope);
// - the certificate's SAN equals --identity exactly (the argument is escaped and anchored: sigstore-js
//   takes a regular expression) and its OIDC issuer extension equals --issuer;
// - here: a message signature's digest equals SHA-256 of the artifact; a hashedrekord body's public
//   key is the leaf certificate; with --digest, the simple-signing payload's
//   critical.image.docker-manifest-digest (message signature / legacy layer), or an in-toto
//   statement's subject digest (DSSE), equals it, and a simple-signing payload's critical.type is
//   "cosign container image signature".

import crypto from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

const SIGNATURE = 'dev.cosignproject.cosign/signature';
const CERTIFICATE = 'dev.sigstore.cosign/certificate';
const REKOR_BUNDLE = 'dev.sigstore.cosign/bundle';
const V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

class Refused extends Error {}

const pemToDer = (pem) => {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Refused('no PEM certificate');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
};
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest();
const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A v0.1-shaped bundle (JSON) from one keyless cosign `.sig` layer: its payload bytes and its
 * annotations object.
 */
export function legacyLayerToBundle(payload, annotations) {
  for (const key of [SIGNATURE, CERTIFICATE, REKOR_BUNDLE]) {
    if (typeof annotations[key] !== 'string') throw new Refused(`layer annotation ${key} missing`);
  }
  const set = JSON.parse(annotations[REKOR_BUNDLE]);
  const p = set.Payload || {};
  const body = JSON.parse(Buffer.from(p.body || '', 'base64').toString('utf8'));
  return {
    mediaType: V01,
    verificationMaterial: {
      x509CertificateChain: {
        certificates: [{ rawBytes: pemToDer(annotations[CERTIFICATE]).toString('base64') }],
      },
      tlogEntries: [
        {
          logIndex: String(p.logIndex),
          logId: { keyId: Buffer.from(String(p.logID), 'hex').toString('base64') },
          kindVersion: { kind: body.kind, version: body.apiVersion },
          integratedTime: String(p.integratedTime),
          inclusionPromise: { signedEntryTimestamp: set.SignedEntryTimestamp },
          canonicalizedBody: p.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(payload).toString('base64') },
      signature: annotations[SIGNATURE],
    },
  };
}

// The simple-signing payload's claims checked against --digest.
function checkSimpleSigning(artifact, digest) {
  let doc;
  try {
    doc = JSON.parse(artifact.toString('utf8'));
  } catch {
    throw new Refused('the signed payload is not JSON (a simple-signing payload was expected)');
  }
  const critical = doc.critical || {};
  if (critical.type !== SIMPLE_SIGNING_TYPE) {
    throw new Refused(`payload critical.type is ${JSON.stringify(critical.type)}`);
  }
  const got = critical.image && critical.image['docker-manifest-digest'];
  if (got !== digest) throw new Refused(`payload docker-manifest-digest is ${got}, expected ${digest}`);
}

// An in-toto statement's subjects checked against --digest.
function checkStatement(envelope, digest) {
  const statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  const hex = digest.replace(/^sha256:/, '');
  const subjects = statement.subject || [];
  if (!subjects.some((s) => s.digest && s.digest.sha256 === hex)) {
    throw new Refused(`no in-toto subject has digest ${digest}`);
  }
}

/**
 * Verifies a bundle (JSON object) and returns the signer; throws on any failure.
 * `artifact` is needed for a message signature.
 */
export function verifyBundle({ bundle: json, artifact, trustedRoot, identity, issuer, digest }) {
  const bundle = bundleFromJSON(json);
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot));
  const isMessage = bundle.content.$case === 'messageSignature';
  if (isMessage && !artifact) throw new Refused('a message-signature bundle needs --artifact');
  const signer = new Verifier(trust).verify(toSignedEntity(bundle, artifact), {
    subjectAlternativeName: `^${escapeRegExp(identity)}$`,
    extensions: { issuer },
  });
  if (isMessage) {
    const ms = bundle.content.messageSignature;
    if (!sha256(artifact).equals(Buffer.from(ms.messageDigest.digest))) {
      throw new Refused('the bundle message digest is not the SHA-256 of the artifact');
    }
    if (digest) checkSimpleSigning(artifact, digest);
  } else if (digest) {
    checkStatement(bundle.content.dsseEnvelope, digest);
  }
  const vm = bundle.verificationMaterial.content;
  const leaf = vm.$case === 'certificate' ? vm.certificate : vm.x509CertificateChain.certificates[0];
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody).toString('utf8'));
    if (body.kind === 'hashedrekord') {
      const pem = Buffer.from(body.spec.signature.publicKey.content, 'base64').toString('utf8');
      if (!pemToDer(pem).equals(Buffer.from(leaf.rawBytes))) {
        throw new Refused('the log entry names another public key than the leaf certificate');
      }
    }
  }
  return { format: isMessage ? 'message-signature' : 'dsse', signer };
}

function parseArgs(argv) {
  const opts = {};
  const names = {
    '--bundle': 'bundle',
    '--artifact': 'artifact',
    '--payload': 'payload',
    '--annotations': 'annotations',
    '--trusted-root': 'trustedRoot',
    '--identity': 'identity',
    '--issuer': 'issuer',
    '--digest': 'digest',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]];
    if (!name) throw new Error(`unknown argument ${argv[i]}`);
    if (i + 1 >= argv.length) throw new Error(`${argv[i]} needs a value`);
    opts[name] = argv[i + 1];
  }
  for (const need of ['trustedRoot', 'identity', 'issuer']) {
    if (!opts[need]) throw new Error(`--${need.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`);
  }
  if (!opts.bundle === !opts.payload) throw new Error('give either --bundle or --payload with --annotations');
  if (opts.payload && !opts.annotations) throw new Error('--payload needs --annotations');
  return opts;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(
      `verify.mjs: ${e.message}\nusage: node verify.mjs (--bundle B.json [--artifact FILE] | --payload FILE --annotations FILE) --trusted-root R --identity I --issuer ISS [--digest sha256:HEX]\n`,
    );
    process.exit(2);
  }
  try {
    const trustedRoot = JSON.parse(fs.readFileSync(opts.trustedRoot, 'utf8'));
    let bundle;
    let artifact;
    let format;
    if (opts.payload) {
      artifact = fs.readFileSync(opts.payload);
      const raw = JSON.parse(fs.readFileSync(opts.annotations, 'utf8'));
      bundle = legacyLayerToBundle(artifact, raw.annotations || raw);
      format = 'legacy';
    } else {
      bundle = JSON.parse(fs.readFileSync(opts.bundle, 'utf8'));
      artifact = opts.artifact ? fs.readFileSync(opts.artifact) : undefined;
    }
    const result = verifyBundle({ ...opts, bundle, artifact, trustedRoot });
    const id = result.signer.identity || {};
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        format: format || result.format,
        identity: id.subjectAlternativeName,
        issuer: id.extensions && id.extensions.issuer,
      })}\n`,
    );
  } catch (e) {
    process.stderr.write(`verify.mjs: refused: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
