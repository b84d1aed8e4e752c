//! The trust gate against real registries (issue 14): one manifest names four images of a
//! staging repository on a CNCF distribution registry (started by the test kit on loopback):
//! correctly signed, unsigned, signed with another key, and "wrongly signed" (a valid signature by
//! the right key over a payload naming another digest), signatures pushed as cosign writes them.
//!
//! - `cip plan --require-signature --verify-key` blocks exactly the three bad digests, each with
//!   its finding at the manifest line and column of its digest;
//! - `cip promote --confirm` with the same flags promotes only the good image, its signature
//!   follows, and that signature verifies with `tests/attachments/verify_cosign.py` (Python
//!   `cryptography`, not cip's code), which also refuses the wrongly signed one;
//! - without any flag, only the wrongly signed digest is refused (`signature-invalid`);
//! - a key that does not parse, or cannot be read, is a usage error naming the file (exit 2).
//!
//! Also counted: the requests the gate adds (one `.sig` manifest `GET` and one blob `GET` per
//! signature of a promoted digest), and none on a no-op run.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use cip_testkit::{
    Client, Digest, MediaKind, Pushed, Registry, SIGNATURE_ANNOTATION, SIMPLE_SIGNING, Signer, cip_binary,
    cosign_tag, docker_config, random_layer, run_bounded, simple_signing_payload,
};
use serde_json::{Value, json};

const REPO: &str = "team/app";

/// The four images, by what their signatures are.
struct Images {
    good: Pushed,
    unsigned: Pushed,
    other_key: Pushed,
    wrong: Pushed,
}

/// A `.sig` of `subject` whose one layer is a valid signature by `signer` over a payload naming
/// `named` (cosign's manifest shape, pushed by digest and under the tag).
async fn push_signature_naming(
    client: &Client,
    subject: &Digest,
    named: &Digest,
    signer: &Signer,
    reference: &str,
) {
    let payload = simple_signing_payload(reference, named, "names another digest");
    let layer = client.push_blob(REPO, &payload).await.expect("payload");
    let config = br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let config_digest = client.push_blob(REPO, config).await.expect("config");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest.as_str()},
        "layers": [{
            "mediaType": SIMPLE_SIGNING,
            "size": payload.len(),
            "digest": layer.as_str(),
            "annotations": {SIGNATURE_ANNOTATION: signer.sign(&payload)},
        }],
    }))
    .expect("json");
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let digest = Digest::of(&manifest);
    client.push_manifest(REPO, digest.as_str(), &manifest, media_type).await.expect("sig by digest");
    client.push_manifest(REPO, &cosign_tag(subject, "sig"), &manifest, media_type).await.expect("sig tag");
}

async fn seed(source: &Registry, signer: &Signer) -> Images {
    let client = source.client();
    let push = |seed: u64, tag: &'static str| {
        let client = &client;
        async move {
            let layers = [random_layer(seed, 16 * 1024)];
            client.push_image(REPO, Some(tag), &layers, MediaKind::Oci).await.expect("image")
        }
    };
    let good = push(1, "good").await;
    let unsigned = push(2, "unsigned").await;
    let other_key = push(3, "other-key").await;
    let wrong = push(4, "wrong").await;
    let reference = format!("{}/{REPO}", source.host());
    client.push_cosign_signature(REPO, &good.digest, signer, &reference, "good").await.expect("sig");
    let other = Signer::from_seed(99);
    client.push_cosign_signature(REPO, &other_key.digest, &other, &reference, "other").await.expect("sig");
    push_signature_naming(&client, &wrong.digest, &unsigned.digest, signer, &reference).await;
    Images { good, unsigned, other_key, wrong }
}

/// The manifest, and the 1-based (line, column) of each digest as written.
fn manifest(source: &Registry, dest: &Registry, images: &Images) -> String {
    let mut out = format!("registries:\n- name: {}\n  src: true\n- name: {}\n", source.host(), dest.host());
    out.push_str(&format!("images:\n- name: {REPO}\n  dmap:\n"));
    let mut entries = [
        (&images.good, "good"),
        (&images.unsigned, "unsigned"),
        (&images.other_key, "other-key"),
        (&images.wrong, "wrong"),
    ];
    entries.sort_by(|a, b| a.0.digest.0.cmp(&b.0.digest.0));
    for (image, tag) in entries {
        out.push_str(&format!("    \"{}\": [\"{tag}\"]\n", image.digest.0));
    }
    out
}

fn position(text: &str, digest: &Digest) -> (u64, u64) {
    let quoted = format!("\"{}\"", digest.0);
    let (i, line) = text.lines().enumerate().find(|(_, l)| l.contains(&quoted)).expect("digest line");
    (i as u64 + 1, line.find(&quoted).expect("column") as u64 + 1)
}

/// A scratch directory with the manifest, the public key and an empty Docker config.
struct Setup {
    dir: tempfile::TempDir,
    manifest_text: String,
}

impl Setup {
    fn new(manifest_text: String, signer: &Signer) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("promote.yaml"), &manifest_text).expect("manifest");
        std::fs::write(dir.path().join("cosign.pub"), signer.public_key_pem()).expect("key");
        docker_config(dir.path(), &[]).expect("docker config");
        Setup { dir, manifest_text }
    }

    async fn cip(&self, args: &[&str]) -> Output {
        let bin = cip_binary().expect("build the cip binary first (cargo build -p cip)");
        let mut command = Command::new(bin);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("DOCKER_CONFIG", self.dir.path().join("docker-config"))
            .env("NO_COLOR", "1");
        run_bounded(command, Duration::from_secs(120)).await.expect("cip runs")
    }
}

const GATE: [&str; 3] = ["--require-signature", "--verify-key", "cosign.pub"];

fn json_out(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

/// (digest, reasons) of every blocked image edge (attachments left out).
fn blocked(plan: &Value) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = plan["blocked"]
        .as_array()
        .expect("blocked")
        .iter()
        .filter(|b| {
            b["tags"].as_array().is_some_and(|t| t.iter().all(|t| !t.as_str().unwrap().ends_with(".sig")))
        })
        .map(|b| {
            let reasons =
                b["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()).collect();
            (b["digest"].as_str().unwrap().to_owned(), reasons)
        })
        .collect();
    out.sort();
    out
}

fn copied(plan: &Value) -> Vec<String> {
    plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "copy")
        .map(|a| a["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// (code, line, column) of every finding.
fn findings(plan: &Value) -> Vec<(String, u64, u64)> {
    let mut out: Vec<_> = plan["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn plan_blocks_only_the_bad_digests_at_their_lines_and_counts_its_requests() {
    let (source, dest) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let signer = Signer::from_seed(7);
    let images = seed(&source, &signer).await;
    let setup = Setup::new(manifest(&source, &dest, &images), &signer);
    let before = source.request_log().len();

    let mut args = vec!["plan", "--format", "json"];
    args.extend(GATE);
    args.push("promote.yaml");
    let out = setup.cip(&args).await;
    assert_eq!(out.status.code(), Some(1), "blocked edges: {}", String::from_utf8_lossy(&out.stderr));
    let plan = json_out(&out);
    assert_eq!(copied(&plan), [images.good.digest.0.as_str()], "only the correctly signed image moves");
    let sig_attach: Vec<&Value> =
        plan["actions"].as_array().unwrap().iter().filter(|a| a["action"] == "attach").collect();
    assert_eq!(sig_attach.len(), 1, "its signature follows: {sig_attach:?}");
    assert_eq!(sig_attach[0]["attachment"]["subject"], images.good.digest.0.as_str());
    let expected = sorted(vec![
        (images.unsigned.digest.0.clone(), strings(&["signature-missing"])),
        (images.other_key.digest.0.clone(), strings(&["signature-invalid"])),
        (images.wrong.digest.0.clone(), strings(&["signature-invalid"])),
    ]);
    assert_eq!(blocked(&plan), expected);
    // The signatures of the refused digests are held with them.
    let held: Vec<&str> = plan["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["tags"].as_array().unwrap())
        .filter_map(|t| t.as_str().filter(|t| t.ends_with(".sig")))
        .collect();
    assert_eq!(
        sorted(held),
        sorted(vec![
            cosign_tag(&images.other_key.digest, "sig").as_str(),
            cosign_tag(&images.wrong.digest, "sig").as_str()
        ])
    );
    let text = &setup.manifest_text;
    let at = |d: &Digest, code: &str| {
        let (line, column) = position(text, d);
        (code.to_owned(), line, column)
    };
    let expected = sorted(vec![
        at(&images.unsigned.digest, "signature-missing"),
        at(&images.other_key.digest, "signature-invalid"),
        at(&images.wrong.digest, "signature-invalid"),
    ]);
    assert_eq!(findings(&plan), expected, "{:#}", plan["diagnostics"]);

    // What the gate cost the source: one `.sig` manifest and one blob per signature of a
    // promoted digest (three signatures: good, other key, wrong).
    let log = source.request_log();
    let requests = &log[before..];
    let blob_gets = requests.iter().filter(|r| r.method == "GET" && r.path.contains("/blobs/")).count();
    let sig_gets = requests
        .iter()
        .filter(|r| {
            r.method == "GET" && r.path.contains("/manifests/") && !r.path.contains("/manifests/sha256-")
        })
        .count();
    assert_eq!(blob_gets, 3, "one signature layer each: {requests:#?}");
    assert_eq!(sig_gets, 3, "one `.sig` manifest each: {requests:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn promote_confirm_promotes_only_the_good_image_and_its_signature_verifies_independently() {
    let (source, dest) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let signer = Signer::from_seed(8);
    let images = seed(&source, &signer).await;
    let setup = Setup::new(manifest(&source, &dest, &images), &signer);

    let mut args = vec!["promote", "--confirm"];
    args.extend(GATE);
    args.push("promote.yaml");
    let out = setup.cip(&args).await;
    assert_eq!(out.status.code(), Some(1), "blocked edges: {}", String::from_utf8_lossy(&out.stderr));
    let client = dest.client();
    assert!(client.get_manifest(REPO, images.good.digest.as_str()).await.unwrap().is_some(), "good promoted");
    for bad in [&images.unsigned, &images.other_key, &images.wrong] {
        assert!(
            client.get_manifest(REPO, bad.digest.as_str()).await.unwrap().is_none(),
            "{} not promoted",
            bad.digest.0
        );
        let sig = client.get_manifest(REPO, &cosign_tag(&bad.digest, "sig")).await.unwrap();
        assert!(sig.is_none(), "no signature of a refused digest travels");
    }
    let key = setup.dir.path().join("cosign.pub");
    verify_cosign(&dest, &images.good.digest, &key)
        .await
        .expect("the promoted signature verifies independently");
    // The independent verifier agrees the wrongly signed image's signature is bad.
    let refused = verify_cosign(&source, &images.wrong.digest, &key).await;
    assert!(refused.is_err(), "verify_cosign.py accepted a payload naming another digest");

    // A re-run reads the signatures of the digests still to promote only.
    let before = source.request_log().len();
    let out = setup.cip(&args).await;
    assert_eq!(out.status.code(), Some(1), "the bad ones are still blocked");
    let log = source.request_log();
    let blobs = log[before..].iter().filter(|r| r.path.contains("/blobs/")).count();
    // The good image is in place now: only the signatures of the two signed, still-refused
    // digests are read again.
    assert_eq!(blobs, 2, "only the still-blocked digests' signatures are read again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_flags_a_signature_naming_another_digest_is_signature_invalid() {
    let (source, dest) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let signer = Signer::from_seed(9);
    let images = seed(&source, &signer).await;
    let setup = Setup::new(manifest(&source, &dest, &images), &signer);
    let out = setup.cip(&["plan", "--format", "json", "promote.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    let plan = json_out(&out);
    assert_eq!(blocked(&plan), [(images.wrong.digest.0.clone(), strings(&["signature-invalid"]))]);
    let (line, column) = position(&setup.manifest_text, &images.wrong.digest);
    assert_eq!(findings(&plan), [("signature-invalid".to_owned(), line, column)]);
    let message = plan["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains(&images.unsigned.digest.0), "names the digest the payload signs: {message}");
    // Without a key, a signature by another key cannot be judged: it passes, as unsigned ones do.
    assert_eq!(
        sorted(copied(&plan)),
        sorted(vec![
            images.good.digest.0.clone(),
            images.unsigned.digest.0.clone(),
            images.other_key.digest.0.clone()
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_file_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "registries:\n- name: 127.0.0.1:9\n  src: true\n- name: 127.0.0.1:10\nimages: []\n";
    std::fs::write(dir.path().join("promote.yaml"), manifest).unwrap();
    std::fs::write(
        dir.path().join("bad.pub"),
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let setup = Setup { dir, manifest_text: manifest.to_owned() };
    for command in ["plan", "promote"] {
        let out =
            setup.cip(&[command, "--require-signature", "--verify-key", "bad.pub", "promote.yaml"]).await;
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--verify-key bad.pub: "), "{command}: {stderr}");
        let out = setup.cip(&[command, "--verify-key", "missing.pub", "promote.yaml"]).await;
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--verify-key missing.pub: cannot read the file"), "{command}: {stderr}");
    }
    let out = setup.cip(&["plan", "--certificate-identity", "a@example.com", "promote.yaml"]).await;
    assert_eq!(out.status.code(), Some(2), "identity without a trusted root");
}

/// A signature layer over the reader's 1 MiB bound is not fetched (no blob `GET`): it is
/// recorded without its bytes, a note says so, and the gate refuses the digest rather than trust
/// what it did not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_oversized_signature_layer_is_not_read_and_does_not_verify() {
    let (source, dest) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let signer = Signer::from_seed(10);
    let client = source.client();
    let image =
        client.push_image(REPO, Some("big"), &[random_layer(11, 4096)], MediaKind::Oci).await.unwrap();
    // A valid simple-signing payload padded past 1 MiB (cosign's `optional` may hold anything).
    let reference = format!("{}/{REPO}", source.host());
    let padding = "x".repeat((1 << 20) + 1);
    let payload = simple_signing_payload(&reference, &image.digest, &padding);
    let layer = client.push_blob(REPO, &payload).await.unwrap();
    let config = br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let config_digest = client.push_blob(REPO, config).await.unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": config_digest.as_str()},
        "layers": [{"mediaType": SIMPLE_SIGNING, "size": payload.len(), "digest": layer.as_str(),
                    "annotations": {SIGNATURE_ANNOTATION: signer.sign(&payload)}}],
    }))
    .unwrap();
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    client.push_manifest(REPO, &cosign_tag(&image.digest, "sig"), &manifest, media_type).await.unwrap();
    let text = format!(
        "registries:\n- name: {}\n  src: true\n- name: {}\nimages:\n- name: {REPO}\n  dmap:\n    \"{}\": [\"big\"]\n",
        source.host(),
        dest.host(),
        image.digest.0
    );
    let setup = Setup::new(text, &signer);
    let before = source.request_log().len();
    let mut args = vec!["plan", "--format", "json"];
    args.extend(GATE);
    args.push("promote.yaml");
    let out = setup.cip(&args).await;
    assert_eq!(out.status.code(), Some(1));
    let plan = json_out(&out);
    assert_eq!(blocked(&plan), [(image.digest.0.clone(), strings(&["signature-invalid"]))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("over the 1048576-byte limit"), "a note says why: {stderr}");
    let log = source.request_log();
    let blobs = log[before..].iter().filter(|r| r.path.contains("/blobs/")).count();
    assert_eq!(blobs, 0, "the oversized layer is not fetched");
}

/// Runs `tests/attachments/verify_cosign.py` over `digest`'s `.sig` in `registry`.
async fn verify_cosign(registry: &Registry, digest: &Digest, key: &Path) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/attachments/verify_cosign.py");
    let mut command = Command::new("python3");
    command.arg(script).args(["--registry", &registry.url(), "--repo", REPO, "--digest", digest.as_str()]);
    command.arg("--key").arg(key).args(["--min", "1"]);
    let out = run_bounded(command, Duration::from_secs(60)).await.map_err(|e| e.to_string())?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(text) } else { Err(text) }
}
