// Writes tests/sigstore/fixtures/: keyless signatures made by sigstore-js (an independent producer:
// its own Fulcio and Rekor clients, key generation and bundle builder) against the lab's mock Fulcio
// and Rekor (server.mjs, started in-process), and the trusted root that verifies them. Core's
// verifier tests read these files; each run makes new keys, so the outputs are committed once and
// regenerated only on purpose:
//
//   node tests/sigstore/make-fixtures.mjs        (after `npm ci` in tests/sigstore)
//
// fixtures/
//   trusted_root.json        the lab's CA (P-384 root, the whole chain), Rekor key + log id, CT log
//   identity.json            {identity, issuer, digest, dockerReference, predicateType, producer}
//   message/artifact.bin     bytes signed as a message signature
//   message/bundle.json      sigstore-js's bundle for it, as produced (v0.2: certificate chain,
//                            hashedrekord entry with inclusion promise and inclusion proof)
//   message/bundle-v0.3.json the same signature in the v0.3 shape (single `certificate`)
//   dsse/statement.json      an in-toto v1 statement whose subject is `digest`
//   dsse/bundle.json         sigstore-js's DSSE bundle over it, as produced (v0.3, dsse entry)
//   legacy/payload.json      cosign's simple-signing payload for `digest` (the `.sig` layer content)
//   legacy/layer.json        the `.sig` layer descriptor: media type, digest, size, and cosign's keyless
//                            annotations built from the bundle below (signature, certificate PEM,
//                            chain PEM, `dev.sigstore.cosign/bundle` = the Rekor SET + payload)
//   legacy/bundle.json       sigstore-js's bundle of that same signing (v0.2)
//
// Before writing, every fixture is verified with verify.mjs's sigstore-js checks, and a wrong
// identity and a wrong issuer must be refused.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { attest, sign } from 'sigstore';
import { startLab } from './server.mjs';
import { legacyLayerToBundle, verifyBundle } from './verify.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'fixtures');
const sha256hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

const DIGEST = `sha256:${sha256hex(Buffer.from('cip keyless fixture image\n'))}`;
const DOCKER_REFERENCE = 'registry.cip.lab.test/fixtures/app';
const PREDICATE_TYPE = 'https://cip.lab.test/attestation/v1';
const version = (pkg) =>
  JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version;

// PEM as Go's encoding/pem writes it (64-character lines), the form cosign puts in annotations.
function pem(derB64) {
  const lines = derB64.match(/.{1,64}/g).join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

// cosign's keyless `.sig` layer from one message-signature bundle over `payload`.
function legacyLayer(payload, bundle, trustedRoot) {
  const material = bundle.verificationMaterial;
  const leaf = (material.certificate || material.x509CertificateChain.certificates[0]).rawBytes;
  const chain = trustedRoot.certificateAuthorities[0].certChain.certificates
    .map((c) => pem(c.rawBytes))
    .join('');
  const entry = material.tlogEntries[0];
  const set = {
    SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    },
  };
  return {
    mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
    size: payload.length,
    digest: `sha256:${sha256hex(payload)}`,
    annotations: {
      'dev.cosignproject.cosign/signature': bundle.messageSignature.signature,
      'dev.sigstore.cosign/bundle': JSON.stringify(set),
      'dev.sigstore.cosign/certificate': pem(leaf),
      'dev.sigstore.cosign/chain': chain,
    },
  };
}

function toV03(bundle) {
  const { x509CertificateChain, ...rest } = bundle.verificationMaterial;
  return {
    ...bundle,
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: x509CertificateChain.certificates[0], ...rest },
  };
}

function mustRefuse(what, f) {
  let refused = false;
  try {
    f();
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`self-check: ${what} was accepted`);
}

async function main() {
  const lab = await startLab();
  const { identity, issuer, trustedRoot } = lab;
  const opts = { fulcioURL: lab.url, rekorURL: lab.url, identityToken: lab.token() };
  try {
    const artifact = Buffer.from('cip keyless fixture artifact\n');
    const message = await sign(artifact, opts);

    const statement = Buffer.from(
      `${JSON.stringify({
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: DOCKER_REFERENCE, digest: { sha256: DIGEST.slice('sha256:'.length) } }],
        predicateType: PREDICATE_TYPE,
        predicate: { note: 'a fixture for cip (issue 14)' },
      })}\n`,
    );
    const dsse = await attest(statement, 'application/vnd.in-toto+json', opts);

    // cosign's simple-signing payload, byte for byte as cosign (Go json.Marshal) writes it.
    const payload = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': DOCKER_REFERENCE },
          image: { 'docker-manifest-digest': DIGEST },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const legacyBundle = await sign(payload, opts);
    const layer = legacyLayer(payload, legacyBundle, trustedRoot);

    // Self-check with the independent verifier before anything is written.
    const good = { trustedRoot, identity, issuer };
    verifyBundle({ ...good, bundle: message, artifact });
    verifyBundle({ ...good, bundle: toV03(message), artifact });
    verifyBundle({ ...good, bundle: dsse, digest: DIGEST });
    verifyBundle({ ...good, bundle: legacyBundle, artifact: payload, digest: DIGEST });
    const legacy = legacyLayerToBundle(payload, layer.annotations);
    verifyBundle({ ...good, bundle: legacy, artifact: payload, digest: DIGEST });
    mustRefuse('a wrong identity', () =>
      verifyBundle({ ...good, identity: `${identity}x`, bundle: legacy, artifact: payload }),
    );
    mustRefuse('a wrong issuer', () =>
      verifyBundle({ ...good, issuer: 'https://other.issuer.test', bundle: dsse }),
    );
    mustRefuse('a tampered payload', () =>
      verifyBundle({ ...good, bundle: legacy, artifact: Buffer.from(payload.toString().replace('fixtures', 'fixturez')) }),
    );

    const write = (rel, data) => {
      const file = path.join(OUT, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, typeof data === 'string' || Buffer.isBuffer(data) ? data : `${JSON.stringify(data, null, 2)}\n`);
    };
    fs.rmSync(OUT, { recursive: true, force: true });
    write('trusted_root.json', trustedRoot);
    write('identity.json', {
      identity,
      issuer,
      digest: DIGEST,
      dockerReference: DOCKER_REFERENCE,
      predicateType: PREDICATE_TYPE,
      producer: `sigstore ${version('sigstore')} against @sigstore/mock ${version('@sigstore/mock')}`,
    });
    write('message/artifact.bin', artifact);
    write('message/bundle.json', message);
    write('message/bundle-v0.3.json', toV03(message));
    write('dsse/statement.json', statement);
    write('dsse/bundle.json', dsse);
    write('legacy/payload.json', payload);
    write('legacy/layer.json', layer);
    write('legacy/bundle.json', legacyBundle);
    process.stdout.write(`fixtures written to ${path.relative(process.cwd(), OUT) || OUT}\n`);
  } finally {
    await lab.close();
  }
}

main().catch((e) => {
  process.stderr.write(`make-fixtures.mjs: ${e.stack || e}\n`);
  process.exit(1);
});
