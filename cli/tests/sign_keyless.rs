//! Keyless signing after promoting (issue 14), end to end on loopback: the keyless lab
//! (`tests/sigstore/server.mjs`: `@sigstore/mock`'s Fulcio and Rekor behind one Node HTTP server,
//! with the trusted root that matches them), real CNCF distribution registries (the test kit),
//! and the `cip` binary signing with a lab OIDC token.
//!
//! Every signature cip writes is verified by an independent verifier, sigstore-js
//! (`tests/sigstore/verify.mjs`: certificate chain to the lab's root, SCT, Rekor SET, log body,
//! signature, exact identity and issuer, image digest), and a wrong identity is refused by it;
//! then cip's own gate (`cip plan --require-signature` with the keyless flags, the signed
//! destination as the source) passes them, and refuses them under another identity.
//!
//! The harness is checked first on the committed fixtures made by sigstore-js itself
//! (`tests/sigstore/fixtures`): accepted as made, refused when a claim or a byte is wrong.
//!
//! Needs `node` and `npm ci` in tests/sigstore (tests/run-all.sh does it); without them the tests
//! fail saying so.

mod promote_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cip_core::trust::{self, EvidenceKind, Policy, SignedLayer, TrustOptions};
use cip_testkit::{
    Digest, Expect, MediaKind, Pushed, Registry, Signed, SigstoreLab, cip_binary, cosign_tag, docker_config,
    random_layer, referrers_tag, run_bounded, sigstore_verify,
};
use promote_support::{Mirrored, mirrored, promotion};
use serde_json::Value;

/// The Sigstore bundle v0.3 media type: the artifactType of bundle referrers.
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const OTHER_IDENTITY: &str = "https://cip.lab.test/someone-else";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/sigstore/fixtures")
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The sigstore-js fixtures are accepted as made, and refused under a wrong identity, issuer,
/// digest, trusted root, or with a changed payload: the verifier the other tests rely on can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigstore_js_fixtures_verify_and_every_wrong_claim_is_refused() {
    let dir = fixtures();
    let id = json(&dir.join("identity.json"));
    let (identity, issuer, digest) =
        (id["identity"].as_str().unwrap(), id["issuer"].as_str().unwrap(), id["digest"].as_str().unwrap());
    let root = dir.join("trusted_root.json");
    let good = Expect { trusted_root: &root, identity, issuer, digest: Some(digest) };
    let (payload, layer) = (dir.join("legacy/payload.json"), dir.join("legacy/layer.json"));
    let legacy = Signed::Legacy { payload: &payload, annotations: &layer };
    let (artifact, message) = (dir.join("message/artifact.bin"), dir.join("message/bundle.json"));
    let message_v03 = dir.join("message/bundle-v0.3.json");
    let dsse = dir.join("dsse/bundle.json");
    let legacy_bundle = dir.join("legacy/bundle.json");

    for (what, signed, expect) in [
        ("legacy layer", legacy, good),
        ("legacy bundle", Signed::Bundle { bundle: &legacy_bundle, artifact: Some(&payload) }, good),
        ("dsse", Signed::Bundle { bundle: &dsse, artifact: None }, good),
        (
            "message v0.2",
            Signed::Bundle { bundle: &message, artifact: Some(&artifact) },
            Expect { digest: None, ..good },
        ),
        (
            "message v0.3",
            Signed::Bundle { bundle: &message_v03, artifact: Some(&artifact) },
            Expect { digest: None, ..good },
        ),
    ] {
        let verdict = sigstore_verify(signed, expect).await.unwrap();
        assert!(verdict.accepted, "{what}: {}", verdict.message);
    }

    // Another lab's trusted root (other CA, other log keys).
    let other = SigstoreLab::start().await.unwrap();
    let digest_b = format!("sha256:{}", "0".repeat(64));
    let wrong = [
        ("identity", Expect { identity: OTHER_IDENTITY, ..good }),
        ("identity prefix", Expect { identity: &identity[..identity.len() - 1], ..good }),
        ("issuer", Expect { issuer: "https://other.issuer.test", ..good }),
        ("digest", Expect { digest: Some(&digest_b), ..good }),
        ("trusted root", Expect { trusted_root: other.trusted_root(), ..good }),
    ];
    for (what, expect) in wrong {
        for signed in [legacy, Signed::Bundle { bundle: &dsse, artifact: None }] {
            let verdict = sigstore_verify(signed, expect).await.unwrap();
            assert!(!verdict.accepted, "a wrong {what} was accepted: {signed:?}");
        }
    }
    // One byte of the payload changed (the image name): signature and log digest no longer match.
    let work = tempfile::tempdir().unwrap();
    let tampered = work.path().join("payload.json");
    let text = std::fs::read_to_string(&payload).unwrap().replace("fixtures/app", "fixtures/apq");
    std::fs::write(&tampered, text).unwrap();
    let verdict = sigstore_verify(
        Signed::Legacy { payload: &tampered, annotations: &layer },
        Expect { digest: None, ..good },
    )
    .await
    .unwrap();
    assert!(!verdict.accepted, "a tampered payload was accepted");

    // cip's own verifier agrees on the sigstore-js legacy layer.
    let layer_json = json(&layer);
    let signed_layer = SignedLayer {
        media_type: layer_json["mediaType"].as_str().unwrap().to_owned(),
        digest: layer_json["digest"].as_str().unwrap().to_owned(),
        annotations: annotations_of(&layer_json),
        data: trust::encoding::b64(&std::fs::read(&payload).unwrap()),
    };
    let root_text = std::fs::read_to_string(&root).unwrap();
    assert_eq!(problems(&root_text, identity, issuer, digest, std::slice::from_ref(&signed_layer)), 0);
    assert!(problems(&root_text, OTHER_IDENTITY, issuer, digest, &[signed_layer]) > 0);
}

fn annotations_of(layer: &Value) -> std::collections::BTreeMap<String, String> {
    layer["annotations"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
        .unwrap_or_default()
}

/// Problems cip's verifier finds in `layers` (signatures of `digest`) under a keyless policy.
fn problems(trusted_root: &str, identity: &str, issuer: &str, digest: &str, layers: &[SignedLayer]) -> usize {
    let policy = Policy::new(&TrustOptions {
        require_signature: true,
        trusted_root: Some(trusted_root.to_owned()),
        certificate_identity: Some(identity.to_owned()),
        certificate_oidc_issuer: Some(issuer.to_owned()),
        ..TrustOptions::default()
    })
    .unwrap();
    let evidence = trust::Evidence { digest, attachments: vec![(EvidenceKind::Signature, layers)] };
    trust::check(Some(&policy), &evidence).len()
}

/// A source registry with `n` images (`stage/app<i>:v1`), two destination registries, the keyless
/// lab, and a promotion manifest to `<dest>/prod`.
struct World {
    lab: SigstoreLab,
    source: Registry,
    one: Registry,
    two: Registry,
    images: Vec<Pushed>,
    dir: tempfile::TempDir,
    manifest: PathBuf,
}

async fn world(n: usize) -> World {
    let lab = SigstoreLab::start().await.unwrap();
    let Mirrored { source, one, two, images, dir, manifest } = mirrored(n, 70).await;
    World { lab, source, one, two, images, dir, manifest }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn cip(dir: &Path, args: &[&str]) -> Command {
    let bin = cip_binary().expect("build the cip binary first (cargo build -p cip)");
    let mut command = Command::new(bin);
    command.args(args).current_dir(dir);
    command.env("DOCKER_CONFIG", docker_config(dir, &[]).unwrap()).env("NO_COLOR", "1");
    command.env_remove("ACTIONS_ID_TOKEN_REQUEST_URL").env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    command
}

impl World {
    /// `cip promote --confirm --format json --sign` keyless against the lab, plus `args`.
    async fn promote(&self, args: &[&str]) -> Output {
        let token = self.lab.token_file().unwrap();
        let token = token.to_str().unwrap();
        let mut all = vec!["promote", "--confirm", "--format", "json", "--sign", "--identity-token", token];
        all.extend(["--fulcio-url", &self.lab.fulcio_url, "--rekor-url", &self.lab.rekor_url]);
        all.extend(args);
        let manifest = self.manifest.to_str().unwrap();
        all.push(manifest);
        run_bounded(cip(self.dir.path(), &all), Duration::from_secs(120)).await.unwrap()
    }

    fn expect<'a>(&'a self, digest: &'a str) -> Expect<'a> {
        Expect {
            trusted_root: self.lab.trusted_root(),
            identity: &self.lab.identity,
            issuer: &self.lab.issuer,
            digest: Some(digest),
        }
    }

    /// sigstore-js accepts `signed` for image `i` (of two) in `repo` (`what` in the message), and
    /// refuses it under another identity and for the other image's digest.
    async fn assert_verifies_only_as_signed(&self, signed: Signed<'_>, i: usize, repo: &str, what: &str) {
        let digest = self.images[i].digest.as_str();
        let verdict = sigstore_verify(signed, self.expect(digest)).await.unwrap();
        assert!(verdict.accepted, "{what}: {}", verdict.message);
        let wrong = Expect { identity: OTHER_IDENTITY, ..self.expect(digest) };
        assert!(!sigstore_verify(signed, wrong).await.unwrap().accepted, "{repo}: wrong identity accepted");
        let other = self.images[1 - i].digest.as_str();
        let verdict = sigstore_verify(signed, self.expect(other)).await.unwrap();
        assert!(!verdict.accepted, "{repo}: accepted for another digest");
    }

    /// `cip plan` of the signed images from `from/prod` to a fresh registry, with the keyless gate
    /// for `identity`: (exit code, plan JSON).
    async fn gate(&self, from: &Registry, identity: &str) -> (Option<i32>, Value) {
        let mirror = format!("{}/gate", self.source.host());
        let yaml = promotion(&format!("{}/prod", from.host()), &[&mirror], &self.images);
        let manifest = self.dir.path().join("gate.yaml");
        std::fs::write(&manifest, yaml).unwrap();
        let root = self.lab.trusted_root().to_str().unwrap();
        let args = [
            "plan",
            "--format",
            "json",
            "--require-signature",
            "--trusted-root",
            root,
            "--certificate-identity",
            identity,
            "--certificate-oidc-issuer",
            &self.lab.issuer,
            manifest.to_str().unwrap(),
        ];
        let out = run_bounded(cip(self.dir.path(), &args), Duration::from_secs(60)).await.unwrap();
        let plan =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("plan JSON: {e}: {}", text(&out)));
        (out.status.code(), plan)
    }
}

/// The `report.signing` of a successful run's JSON.
fn signing(out: &Output) -> Value {
    assert!(out.status.success(), "cip promote failed: {}", text(out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    doc["report"]["signing"].clone()
}

/// The digests `plan` blocks, with their reasons.
fn blocked(plan: &Value) -> Vec<(String, Vec<String>)> {
    plan["blocked"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|e| {
                    let reasons =
                        e["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned());
                    (e["digest"].as_str().unwrap().to_owned(), reasons.collect())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The gate passes every image signed in `from`, and blocks every one under another identity.
async fn assert_gate(w: &World, from: &Registry) {
    let (code, plan) = w.gate(from, &w.lab.identity).await;
    assert_eq!(blocked(&plan), vec![], "{}: the gate passes what cip signed: {plan:#}", from.host());
    assert_eq!(code, Some(0), "{plan:#}");
    let copies = plan["actions"].as_array().unwrap().iter().filter(|a| a["action"] == "copy").count();
    assert_eq!(copies, w.images.len(), "{plan:#}");

    let (code, plan) = w.gate(from, OTHER_IDENTITY).await;
    assert_eq!(plan["summary"]["blocked"], w.images.len(), "another identity blocks every image: {plan:#}");
    assert_eq!(plan["actions"], serde_json::json!([]), "nothing is promoted: {plan:#}");
    let blocked = blocked(&plan);
    for image in &w.images {
        assert!(
            blocked.iter().any(|(d, _)| d == image.digest.as_str()),
            "{} not blocked: {plan:#}",
            image.digest
        );
    }
    for (digest, reasons) in &blocked {
        assert_eq!(reasons, &["signature-invalid"], "{digest}: a present signature of another identity");
    }
    // One finding per image, at its manifest line (the dmap entry of its digest).
    let findings = plan["diagnostics"].as_array().unwrap();
    let yaml = std::fs::read_to_string(w.dir.path().join("gate.yaml")).unwrap();
    for (i, image) in w.images.iter().enumerate() {
        let line = 1 + yaml.lines().position(|l| l.contains(image.digest.as_str())).unwrap();
        let at: Vec<_> = findings
            .iter()
            .filter(|f| {
                f["code"] == "signature-invalid"
                    && f["message"].as_str().unwrap().contains(image.digest.as_str())
            })
            .collect();
        assert_eq!(at.len(), 1, "{plan:#}");
        assert_eq!(at[0]["line"], line, "the line of app{i}'s digest: {plan:#}");
    }
    assert_ne!(code, Some(0), "{plan:#}");
}

/// The blob `digest` (a JSON string) of `repo`.
async fn blob(registry: &Registry, repo: &str, digest: &Value) -> Vec<u8> {
    let digest = Digest(digest.as_str().expect("a digest").to_owned());
    registry
        .client()
        .get_blob(repo, &digest)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{repo}@{digest} missing"))
}

/// The `.sig` layers of `repo`'s `digest` in `registry`, written to `dir` as (payload, annotations).
async fn sig_layers(registry: &Registry, repo: &str, digest: &str, dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let client = registry.client();
    let tag = cosign_tag(&Digest(digest.to_owned()), "sig");
    let sig =
        client.get_manifest(repo, &tag).await.unwrap().unwrap_or_else(|| panic!("{repo}:{tag} missing"));
    let mut out = Vec::new();
    for (n, layer) in sig.json()["layers"].as_array().unwrap().iter().enumerate() {
        let bytes = blob(registry, repo, &layer["digest"]).await;
        let stem = format!("{}-{}-{n}", registry.port(), repo.replace('/', "_"));
        let (payload, annotations) = (dir.join(format!("{stem}.payload")), dir.join(format!("{stem}.json")));
        std::fs::write(&payload, &bytes).unwrap();
        std::fs::write(&annotations, layer.to_string()).unwrap();
        out.push((payload, annotations));
    }
    out
}

/// The Sigstore bundles referring to `digest` in `registry` (referrers tag schema: distribution
/// 2.8 has no referrers API), written to `dir`, with their predicate-type annotation.
async fn bundles(
    registry: &Registry,
    repo: &str,
    digest: &str,
    dir: &Path,
) -> Vec<(PathBuf, Option<String>)> {
    let client = registry.client();
    let index = client
        .get_manifest(repo, &referrers_tag(&Digest(digest.to_owned())))
        .await
        .unwrap()
        .expect("referrers index");
    let mut out = Vec::new();
    for d in index.json()["manifests"].as_array().unwrap() {
        if d["artifactType"] != BUNDLE {
            continue;
        }
        let referrer =
            client.get_manifest(repo, d["digest"].as_str().unwrap()).await.unwrap().expect("referrer");
        let manifest = referrer.json();
        assert_eq!(manifest["subject"]["digest"], digest, "the referrer's subject");
        let layer = &manifest["layers"][0];
        let bytes = blob(registry, repo, &layer["digest"]).await;
        let path =
            dir.join(format!("{}-{}.bundle.json", registry.port(), &d["digest"].as_str().unwrap()[7..19]));
        std::fs::write(&path, &bytes).unwrap();
        let predicate = d["annotations"]["dev.sigstore.bundle.predicateType"].as_str().map(str::to_owned);
        out.push((path, predicate));
    }
    out
}

/// Legacy (`.sig`) keyless signatures to two registries: sigstore-js verifies each layer with the
/// lab's identity and issuer and refuses it under another identity; one certificate for the run,
/// one Rekor entry per signing; cip's gate passes them; a re-run signs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyless_legacy_signatures_verify_with_sigstore_js_and_pass_the_gate() {
    let w = world(2).await;
    // The most verbose logging: the token must still not appear, whole or in part.
    let out = w.promote(&["--signature-format", "legacy", "-vvv"]).await;
    let signed = signing(&out);
    assert_eq!(signed["format"], "legacy", "{signed:#}");
    assert_eq!(signed["summary"]["failed"], 0, "{signed:#}");
    assert_eq!(signed["summary"]["written"], 4, "{signed:#}");
    let all = text(&out);
    for part in w.lab.token.split('.') {
        assert!(!all.contains(part), "a part of the identity token appears in the output");
    }

    let stats = w.lab.stats().await.unwrap();
    let signings = signed["summary"]["signings"].as_u64().unwrap();
    assert_eq!(stats.log_entries, signings, "one Rekor entry per signing: {stats:?} {signed:#}");
    assert_eq!(stats.signing_certs, 1, "one Fulcio certificate for the run: {stats:?}");

    let work = tempfile::tempdir().unwrap();
    for registry in [&w.one, &w.two] {
        for (i, image) in w.images.iter().enumerate() {
            let repo = format!("prod/app{i}");
            let digest = image.digest.as_str();
            let layers = sig_layers(registry, &repo, digest, work.path()).await;
            assert_eq!(layers.len(), 1, "{}/{repo}: one signature", registry.host());
            for (payload, annotations) in &layers {
                let signed = Signed::Legacy { payload, annotations };
                w.assert_verifies_only_as_signed(signed, i, &repo, &format!("{}/{repo}", registry.host()))
                    .await;
            }
        }
    }
    assert_gate(&w, &w.one).await;
    assert_gate(&w, &w.two).await;

    let again = signing(&w.promote(&["--signature-format", "legacy"]).await);
    assert_eq!(again["summary"]["written"], 0, "{again:#}");
    assert_eq!(w.lab.stats().await.unwrap().log_entries, stats.log_entries, "a re-run logs nothing");
}

/// Bundles (OCI 1.1 referrers) and promotion attestations under one canonical name: one signing
/// per digest for both mirrors; every bundle verifies with sigstore-js (DSSE, in-toto subject =
/// the digest) and is refused under another identity; cip's gate passes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyless_bundles_and_promotion_attestations_verify_with_sigstore_js() {
    let w = world(2).await;
    let args = [
        "--signature-format",
        "bundle",
        "--attest-promotion",
        "--signing-identity",
        "registry.example.io/prod",
    ];
    let out = w.promote(&args).await;
    let signed = signing(&out);
    assert_eq!(signed["format"], "bundle", "{signed:#}");
    assert_eq!(signed["summary"]["failed"], 0, "{signed:#}");
    assert_eq!(signed["summary"]["signings"], 2, "one signing per digest, not per mirror: {signed:#}");
    assert_eq!(signed["summary"]["written"], 4, "{signed:#}");
    assert_eq!(signed["summary"]["attestationsWritten"], 4, "{signed:#}");

    let stats = w.lab.stats().await.unwrap();
    let signings = signed["summary"]["signings"].as_u64().unwrap();
    assert_eq!(
        stats.log_entries,
        2 * signings,
        "one Rekor entry for the signature and one for the attestation of each digest, whatever the mirrors: {stats:?}"
    );
    assert_eq!(stats.signing_certs, 1, "one Fulcio certificate for the run: {stats:?}");

    let work = tempfile::tempdir().unwrap();
    for registry in [&w.one, &w.two] {
        for (i, image) in w.images.iter().enumerate() {
            let repo = format!("prod/app{i}");
            let digest = image.digest.as_str();
            let found = bundles(registry, &repo, digest, work.path()).await;
            assert_eq!(
                found.len(),
                2,
                "{}/{repo}: a signature and a promotion attestation: {found:?}",
                registry.host()
            );
            let predicates: Vec<_> = found.iter().map(|(_, p)| p.clone().unwrap_or_default()).collect();
            assert!(predicates.contains(&trust::PROMOTION_PREDICATE_TYPE.to_owned()), "{predicates:?}");
            for (bundle, predicate) in &found {
                let signed = Signed::Bundle { bundle, artifact: None };
                let what = format!("{}/{repo} {predicate:?}", registry.host());
                w.assert_verifies_only_as_signed(signed, i, &repo, &what).await;
            }
        }
    }
    assert_gate(&w, &w.one).await;
    assert_gate(&w, &w.two).await;

    let again = signing(&w.promote(&args).await);
    assert_eq!(again["summary"]["written"], 0, "{again:#}");
    assert_eq!(again["summary"]["attestationsWritten"], 0, "{again:#}");
    assert_eq!(w.lab.stats().await.unwrap().log_entries, stats.log_entries, "a re-run logs nothing");
}

/// What keyless signing costs in the lab (README "Supply chain"): N digests promoted to M mirrors
/// unsigned first, then the same run with `--sign` (copies present: only signing work): legacy
/// per mirror identity, legacy and bundle under one `--signing-identity`. Prints Fulcio and Rekor calls, registry requests and wall time of the signing run. Run
/// with `cargo test -p cip --test sign_keyless -- --ignored --nocapture` (set `CIP_BIN` to a
/// release build for release figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test"]
#[allow(clippy::print_stdout)] // a measurement prints its figures
async fn measure_keyless_signing() {
    const DIGESTS: usize = 20;
    println!(
        "| format | --signing-identity | digests | mirrors | signings | Fulcio | Rekor | registry requests | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for mirrors in [1, 5] {
        for (format, canonical) in [("legacy", false), ("legacy", true), ("bundle", true)] {
            let lab = SigstoreLab::start().await.unwrap();
            let source = Registry::start().await.unwrap();
            let mut dests = Vec::new();
            for _ in 0..mirrors {
                dests.push(Registry::start().await.unwrap());
            }
            let client = source.client();
            let mut images = Vec::new();
            for i in 0..DIGESTS {
                let layers = [random_layer(500 + i as u64, 4 * 1024)];
                let repo = format!("stage/app{i}");
                images.push(client.push_image(&repo, Some("v1"), &layers, MediaKind::Oci).await.unwrap());
            }
            let names: Vec<String> = dests.iter().map(|d| format!("{}/prod", d.host())).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let dir = tempfile::tempdir().unwrap();
            let manifest = dir.path().join("promote.yaml");
            std::fs::write(&manifest, promotion(&format!("{}/stage", source.host()), &names, &images))
                .unwrap();
            let manifest = manifest.to_str().unwrap();
            let unsigned = ["promote", "--confirm", "--format", "json", manifest];
            let out = run_bounded(cip(dir.path(), &unsigned), Duration::from_secs(600)).await.unwrap();
            assert!(out.status.success(), "{}", text(&out));

            let requests = || dests.iter().map(|d| d.request_log().len()).sum::<usize>();
            let before = requests();
            let token = lab.token_file().unwrap();
            let mut args =
                vec!["promote", "--confirm", "--format", "json", "--sign", "--signature-format", format];
            args.extend(["--identity-token", token.to_str().unwrap()]);
            args.extend(["--fulcio-url", &lab.fulcio_url, "--rekor-url", &lab.rekor_url]);
            if canonical {
                args.extend(["--signing-identity", "registry.example.io/prod"]);
            }
            args.push(manifest);
            let started = std::time::Instant::now();
            let out = run_bounded(cip(dir.path(), &args), Duration::from_secs(600)).await.unwrap();
            let wall = started.elapsed().as_secs_f64();
            let signed = signing(&out);
            assert_eq!(signed["summary"]["failed"], 0, "{signed:#}");
            assert_eq!(signed["summary"]["written"], DIGESTS * mirrors, "{signed:#}");
            let stats = lab.stats().await.unwrap();
            println!(
                "| {format} | {} | {DIGESTS} | {mirrors} | {} | {} | {} | {} | {wall:.2} |",
                if canonical { "yes" } else { "no" },
                signed["summary"]["signings"],
                stats.signing_certs,
                stats.log_entries,
                requests() - before
            );
        }
    }
}
