//! Key-based signing after promoting (issue 14), against real CNCF distribution registries (the
//! test kit starts them on loopback) and the `cip` binary:
//!
//! - legacy format to two registries: every signature verifies with
//!   `tests/attachments/verify_cosign.py` (Python `cryptography`, not cip's code); a signature a
//!   destination already had is kept (union); cip's own verifier refuses a tampered payload, a
//!   wrong key and a wrong digest; a re-run writes nothing;
//! - bundle format with promotion attestations and one canonical identity for both mirrors: one
//!   signing per digest, every bundle verified by `tests/trust/verify_bundle.py` (Python, DSSE PAE
//!   over the exact payload bytes, subject digest, identity); a re-run writes nothing;
//! - cosign's encrypted key with its password from the environment; a wrong password is a clear
//!   usage error; neither the password nor the key appears in any output at `-vvv`;
//! - keyless with the keyless lab (`tests/sigstore`): `cip run` signs by default with GitHub
//!   Actions' ambient token, `cip promote --signer-account` through Google IAM `generateIdToken`
//!   (loopback OAuth and IAM endpoints); no token or key in any output at `-vvv`.
//!
//! Keys come from an independent producer: Python `cryptography` (PKCS#8) and the committed
//! cosign-format fixture under `tests/trust/keys/`.

mod promote_support;
mod registry_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use cip_core::trust::{self, EvidenceKind, Policy, SignedLayer, TrustOptions};
use cip_testkit::{
    Digest, MediaKind, Pushed, Registry, Signer, SigstoreLab, cip_binary, cosign_tag, docker_config,
    random_layer, run_bounded,
};
use promote_support::{Mirrored, mirrored};
use registry_support::service_account_key;
use serde_json::Value;

/// The promotion attestation's and cosign's bundle predicate types, as the annotations say.
const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";

struct Lab {
    source: Registry,
    one: Registry,
    two: Registry,
    images: Vec<Pushed>,
    dir: tempfile::TempDir,
    manifest: PathBuf,
}

async fn lab(n: usize) -> Lab {
    let Mirrored { source, one, two, images, dir, manifest } = mirrored(n, 40).await;
    Lab { source, one, two, images, dir, manifest }
}

/// An ECDSA P-256 key pair written by Python `cryptography`: (PKCS#8 PEM, SPKI PEM).
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (private, public) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")));
    let script = "import sys\nfrom cryptography.hazmat.primitives.asymmetric import ec\n\
        from cryptography.hazmat.primitives import serialization as s\n\
        k = ec.generate_private_key(ec.SECP256R1())\n\
        open(sys.argv[1], 'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))\n\
        open(sys.argv[2], 'wb').write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))\n";
    let status = Command::new("python3").arg("-c").arg(script).arg(&private).arg(&public).status().unwrap();
    assert!(status.success(), "python3 cryptography makes the key pair");
    (private, public)
}

impl Lab {
    /// Runs `cip promote --confirm --format json ARGS... promote.yaml` with `env`.
    async fn promote(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let bin = cip_binary().expect("build the cip binary first (cargo build -p cip)");
        let config = docker_config(self.dir.path(), &[]).unwrap();
        let mut command = Command::new(bin);
        command.args(["promote", "--confirm", "--format", "json"]).args(args).arg(&self.manifest);
        command.env("DOCKER_CONFIG", &config).env("NO_COLOR", "1");
        command.env_remove("CIP_SIGN_PASSWORD").env_remove("COSIGN_PASSWORD");
        command.env_remove("ACTIONS_ID_TOKEN_REQUEST_URL").env_remove("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
        for (k, v) in env {
            command.env(k, v);
        }
        run_bounded(command, Duration::from_secs(120)).await.unwrap()
    }

    fn writes(&self) -> usize {
        [&self.one, &self.two]
            .iter()
            .flat_map(|r| r.request_log())
            .filter(|r| matches!(r.method.as_str(), "PUT" | "POST" | "PATCH"))
            .count()
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The `report.signing` of a successful run's JSON.
fn signing(out: &Output) -> Value {
    assert!(out.status.success(), "cip promote failed: {}", text(out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    doc["report"]["signing"].clone()
}

async fn python(script: &str, args: &[String]) -> Result<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(script);
    let mut command = Command::new("python3");
    command.arg(path).args(args);
    let out = run_bounded(command, Duration::from_secs(60)).await.map_err(|e| e.to_string())?;
    if out.status.success() { Ok(text(&out)) } else { Err(text(&out)) }
}

async fn verify_cosign(
    registry: &Registry,
    repo: &str,
    digest: &str,
    key: &Path,
    min: usize,
) -> Result<String, String> {
    let args = [
        "--registry".into(),
        registry.url(),
        "--repo".into(),
        repo.into(),
        "--digest".into(),
        digest.into(),
        "--key".into(),
        key.display().to_string(),
        "--min".into(),
        min.to_string(),
    ];
    python("tests/attachments/verify_cosign.py", &args).await
}

/// The layers of `repo`'s `.sig` of `digest`, with their bytes, as the inventory records them.
async fn sig_layers(registry: &Registry, repo: &str, digest: &str) -> Vec<SignedLayer> {
    let client = registry.client();
    let sig = client
        .get_manifest(repo, &cosign_tag(&Digest(digest.to_owned()), "sig"))
        .await
        .unwrap()
        .expect(".sig");
    let mut out = Vec::new();
    for layer in sig.json()["layers"].as_array().unwrap() {
        let d = layer["digest"].as_str().unwrap();
        let bytes = client.get_blob(repo, &Digest(d.to_owned())).await.unwrap().expect("layer blob");
        let annotations = layer["annotations"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect())
            .unwrap_or_default();
        out.push(SignedLayer {
            media_type: layer["mediaType"].as_str().unwrap().to_owned(),
            digest: d.to_owned(),
            annotations,
            data: trust::encoding::b64(&bytes),
        });
    }
    out
}

fn problems(policy: &Policy, digest: &str, layers: &[SignedLayer]) -> usize {
    let evidence = trust::Evidence { digest, attachments: vec![(EvidenceKind::Signature, layers)] };
    trust::check(Some(policy), &evidence).len()
}

fn key_policy(public: &Path) -> Policy {
    let pem = std::fs::read_to_string(public).unwrap();
    Policy::new(&TrustOptions { require_signature: true, verify_key: Some(pem), ..TrustOptions::default() })
        .unwrap()
}

/// Legacy signatures to two registries: independent verification, the union rule, cip's own
/// verifier's refusals, and an idempotent re-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn legacy_signatures_to_two_registries_verify_independently_and_rerun_writes_nothing() {
    let lab = lab(2).await;
    let (private, public) = keypair(lab.dir.path(), "cip");
    // The second mirror already has image 0 with a signature of its own (another signer).
    let two = lab.two.client();
    let copy =
        two.push_image("prod/app0", None, &[random_layer(40, 16 * 1024)], MediaKind::Oci).await.unwrap();
    assert_eq!(copy.digest, lab.images[0].digest);
    let other = Signer::from_seed(9);
    let theirs = two
        .push_cosign_signature(
            "prod/app0",
            &copy.digest,
            &other,
            &format!("{}/prod/app0", lab.two.host()),
            "theirs",
        )
        .await
        .unwrap();

    let key = private.display().to_string();
    let out = lab.promote(&["--sign", "--sign-key", &key, "--signature-format", "legacy"], &[]).await;
    let signed = signing(&out);
    assert_eq!(signed["format"], "legacy");
    assert_eq!(signed["summary"]["written"], 4, "{signed:#}");
    assert_eq!(signed["summary"]["failed"], 0, "{signed:#}");
    assert_eq!(signed["summary"]["signings"], 4, "each mirror is its own identity: {signed:#}");

    for (registry, i) in [(&lab.one, 0), (&lab.one, 1), (&lab.two, 1)] {
        let repo = format!("prod/app{i}");
        let digest = lab.images[i].digest.as_str();
        let verified = verify_cosign(registry, &repo, digest, &public, 1).await;
        assert!(verified.is_ok(), "{}/{repo}: {verified:?}", registry.host());
        // The payload names the destination repository.
        let layers = sig_layers(registry, &repo, digest).await;
        let payload = trust::encoding::unb64(&layers[0].data).unwrap();
        let parsed = trust::parse_simple_signing(&payload).unwrap();
        assert_eq!(parsed.docker_reference, format!("{}/{repo}", registry.host()));
    }
    // Union: the mirror's own signature is kept beside ours.
    let layers = sig_layers(&lab.two, "prod/app0", lab.images[0].digest.as_str()).await;
    let held: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let theirs_json: Value = serde_json::from_slice(&theirs.bytes).unwrap();
    let theirs_layers: Vec<String> = theirs_json["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert!(held.contains(&theirs_layers[0].as_str()), "the existing signature is kept: {held:?}");
    verify_cosign(&lab.two, "prod/app0", lab.images[0].digest.as_str(), &public, 1)
        .await
        .expect_err("the other signer's layer does not verify with our key");

    // cip's own verifier: ours passes; tampered payload, wrong key, wrong digest are refused.
    let digest = lab.images[0].digest.as_str();
    let layers = sig_layers(&lab.one, "prod/app0", digest).await;
    let policy = key_policy(&public);
    assert_eq!(problems(&policy, digest, &layers), 0, "our signature verifies");
    let mut tampered = layers.clone();
    let mut payload = trust::encoding::unb64(&tampered[0].data).unwrap();
    payload[10] ^= 1;
    tampered[0].data = trust::encoding::b64(&payload);
    tampered[0].digest = format!("sha256:{}", trust::encoding::hex(&sha256(&payload)));
    assert!(problems(&policy, digest, &tampered) > 0, "a tampered payload is refused");
    let (_, wrong_public) = keypair(lab.dir.path(), "wrong");
    assert!(problems(&key_policy(&wrong_public), digest, &layers) > 0, "a wrong key is refused");
    let other_digest = lab.images[1].digest.as_str();
    assert!(problems(&policy, other_digest, &layers) > 0, "a signature of another digest is refused");

    // Re-run: every destination already carries our signature; nothing is written.
    let before = lab.writes();
    let again =
        signing(&lab.promote(&["--sign", "--sign-key", &key, "--signature-format", "legacy"], &[]).await);
    assert_eq!(again["summary"]["skipped"], 4, "{again:#}");
    assert_eq!(again["summary"]["written"], 0, "{again:#}");
    assert_eq!(lab.writes(), before, "a re-run writes nothing");
    let _ = &lab.source;
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

/// Bundles and promotion attestations under one canonical identity: one signing per digest for
/// both mirrors, verified by Python; a re-run writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bundles_and_promotion_attestations_sign_once_per_digest_for_both_mirrors() {
    let lab = lab(2).await;
    let (private, public) = keypair(lab.dir.path(), "cip");
    let key = private.display().to_string();
    let args = [
        "--sign",
        "--sign-key",
        &key,
        "--signature-format",
        "bundle",
        "--attest-promotion",
        "--signing-identity",
        "registry.example.io/prod",
    ];
    let signed = signing(&lab.promote(&args, &[]).await);
    assert_eq!(signed["format"], "bundle");
    assert_eq!(signed["summary"]["signings"], 2, "one signing per digest: {signed:#}");
    assert_eq!(signed["summary"]["written"], 4, "{signed:#}");
    assert_eq!(signed["summary"]["attestationsWritten"], 4, "{signed:#}");
    assert_eq!(signed["summary"]["failed"], 0, "{signed:#}");

    for registry in [&lab.one, &lab.two] {
        for (i, image) in lab.images.iter().enumerate() {
            let identity = format!("registry.example.io/prod/app{i}");
            let base = [
                "--registry".to_owned(),
                registry.url(),
                "--repo".into(),
                format!("prod/app{i}"),
                "--digest".into(),
                image.digest.as_str().to_owned(),
                "--key".into(),
                public.display().to_string(),
                "--identity".into(),
                identity,
            ];
            for predicate in [COSIGN_SIGN, trust::PROMOTION_PREDICATE_TYPE] {
                let mut args = base.to_vec();
                args.extend(["--predicate".to_owned(), predicate.to_owned()]);
                let verified = python("tests/trust/verify_bundle.py", &args).await;
                assert!(verified.is_ok(), "{} prod/app{i} {predicate}: {verified:?}", registry.host());
            }
        }
    }
    let before = lab.writes();
    let again = signing(&lab.promote(&args, &[]).await);
    assert_eq!(again["summary"]["skipped"], 4, "{again:#}");
    assert_eq!(again["summary"]["attestationsSkipped"], 4, "{again:#}");
    assert_eq!(lab.writes(), before, "a re-run writes nothing");
}

/// The committed cosign encrypted key (written by `tests/trust/keys/make_keys.py` with PyNaCl and
/// hashlib's scrypt), its public key and its password (`make_keys.py`'s `PASSWORD`).
fn cosign_key() -> (PathBuf, PathBuf, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/trust/keys");
    (dir.join("cosign.key"), dir.join("public.pem"), "cip-test-password".to_owned())
}

/// cosign's encrypted key with the password from COSIGN_PASSWORD (most verbose logging: no
/// secret in any output); a wrong password is a usage error naming the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cosign_encrypted_key_with_password_from_env_and_no_secret_in_output() {
    let lab = lab(1).await;
    let (key, public, password) = cosign_key();
    let key_text = std::fs::read_to_string(&key).unwrap();
    let key = key.display().to_string();
    let sign = ["--sign", "--sign-key", &key, "--signature-format", "legacy", "-vvv"];

    let wrong = lab.promote(&sign, &[("COSIGN_PASSWORD", "not-the-password")]).await;
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    let message = text(&wrong);
    assert!(message.contains("--sign-key") && message.contains(&key), "{message}");
    assert!(message.to_lowercase().contains("password"), "{message}");
    assert_eq!(lab.writes(), 0, "nothing is written with an unusable key");

    let out = lab.promote(&sign, &[("CIP_SIGN_PASSWORD", &password)]).await;
    let signed = signing(&out);
    assert_eq!(signed["summary"]["written"], 2, "{signed:#}");
    let all = format!("{}{}", text(&out), message);
    assert!(!all.contains(&password), "the password leaked");
    for line in key_text.lines().filter(|l| l.len() > 20 && !l.starts_with("-----")) {
        assert!(!all.contains(line), "key material leaked: {line}");
    }
    for registry in [&lab.one, &lab.two] {
        let verified = verify_cosign(registry, "prod/app0", lab.images[0].digest.as_str(), &public, 1).await;
        assert!(verified.is_ok(), "{verified:?}");
    }
}

/// The layers of `repo`'s `.sig` of `digest` that verify under the keyless policy of `lab`.
async fn keyless_verified(registry: &Registry, repo: &str, digest: &str, lab: &SigstoreLab) -> usize {
    let root = std::fs::read_to_string(lab.trusted_root()).unwrap();
    let policy = Policy::new(&TrustOptions {
        require_signature: true,
        certificate_identity: Some(lab.identity.clone()),
        certificate_oidc_issuer: Some(lab.issuer.clone()),
        trusted_root: Some(root),
        ..TrustOptions::default()
    })
    .unwrap();
    let layers = sig_layers(registry, repo, digest).await;
    layers.iter().filter(|l| problems(&policy, digest, std::slice::from_ref(l)) == 0).count()
}

/// Keyless signing against the keyless lab (mock Fulcio and Rekor on loopback) with the two
/// token sources a CI job has: `cip run` (the Go promoter's command line) signs by default when
/// GitHub Actions' ambient token is there, in the Go promoter's legacy format; `cip promote
/// --signer-account` gets the token from Google IAM `generateIdToken` (a service-account key
/// whose OAuth and IAM endpoints are a loopback server). Both at the most verbose level: no token,
/// request token or key appears in any output. The signatures verify under the lab's trusted root
/// with the lab's identity and issuer (cip's verifier; sigstore-js checks keyless signatures in
/// `sign_keyless.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyless_by_default_in_cip_run_and_with_a_google_signer_account_without_leaking_secrets() {
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let lab = lab(1).await;
    let sigstore = SigstoreLab::start().await.expect("the keyless lab (npm ci in tests/sigstore)");
    let server = MockServer::start().await;
    const REQUEST_SECRET: &str = "gh-request-secret-5d1e";
    const SOURCE_SECRET: &str = "google-source-secret-77a0";
    Mock::given(method("GET"))
        .and(path("/gh"))
        .and(query_param("audience", "sigstore"))
        .and(header("authorization", format!("Bearer {REQUEST_SECRET}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": sigstore.token})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"access_token": SOURCE_SECRET, "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/projects/-/serviceAccounts/signer@cip-test.iam.gserviceaccount.com:generateIdToken"))
        .and(header("authorization", format!("Bearer {SOURCE_SECRET}").as_str()))
        .and(body_json(serde_json::json!({"audience": "sigstore", "includeEmail": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": sigstore.token})))
        .expect(1)
        .mount(&server)
        .await;
    let base = server.uri();
    let root = sigstore.trusted_root().display().to_string();
    let bin = cip_binary().expect("build the cip binary first (cargo build -p cip)");
    let config = docker_config(lab.dir.path(), &[]).unwrap();
    let manifest = lab.manifest.display().to_string();

    // cip run: signing is on because the ambient token is there; legacy format, as in Go.
    let mut run = Command::new(&bin);
    run.args(["run", "-verbosity=3", "--confirm"])
        .arg(format!("--manifest={manifest}"))
        .args(["--fulcio-url", &sigstore.fulcio_url, "--rekor-url", &sigstore.rekor_url])
        .args(["--certificate-identity", &sigstore.identity, "--certificate-oidc-issuer", &sigstore.issuer])
        .args(["--trusted-root", &root])
        .env("DOCKER_CONFIG", &config)
        .env("NO_COLOR", "1")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", format!("{base}/gh?api-version=2.0"))
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_SECRET);
    let out = run_bounded(run, Duration::from_secs(120)).await.unwrap();
    let all_run = text(&out);
    assert!(out.status.success(), "{all_run}");
    assert!(all_run.contains("signatures (legacy): 2 written"), "{all_run}");
    assert!(!all_run.contains("unsigned"), "{all_run}");
    let digest = lab.images[0].digest.as_str();
    for registry in [&lab.one, &lab.two] {
        assert_eq!(
            keyless_verified(registry, "prod/app0", digest, &sigstore).await,
            1,
            "{}",
            registry.host()
        );
    }

    // cip promote --signer-account: Google IAM generateIdToken; the bundle format this time.
    let key_file = lab.dir.path().join("sa.json");
    let key_text = service_account_key(&format!("{base}/oauth2/token"));
    std::fs::write(&key_file, &key_text).unwrap();
    let key = key_file.display().to_string();
    let args = [
        "--sign",
        "--signer-account",
        "signer@cip-test.iam.gserviceaccount.com",
        "--iam-url",
        &base,
        "--google-credentials",
        &key,
        "--fulcio-url",
        &sigstore.fulcio_url,
        "--rekor-url",
        &sigstore.rekor_url,
        "--signature-format",
        "bundle",
        "-vvv",
    ];
    let out = lab.promote(&args, &[]).await;
    let all_promote = text(&out);
    let signed = signing(&out);
    assert_eq!(signed["summary"]["written"], 2, "{signed:#}");
    let stats = sigstore.stats().await.unwrap();
    assert_eq!(stats.signing_certs, 2, "one certificate per run, reused across digests and mirrors");

    let everything = format!("{all_run}{all_promote}");
    for secret in [REQUEST_SECRET, SOURCE_SECRET, sigstore.token.as_str()] {
        assert!(!everything.contains(secret), "a token leaked: {secret}");
    }
    let private_key: String =
        serde_json::from_str::<Value>(&key_text).unwrap()["private_key"].as_str().unwrap().to_owned();
    for line in private_key.lines().filter(|l| l.len() > 20 && !l.starts_with("-----")) {
        assert!(!everything.contains(line), "key material leaked");
    }
    server.verify().await;
}

/// A signing failure (the transparency log cannot be reached) is reported with exit 1 after the
/// images and their tags are in place, and never undoes them; the next run copies nothing and
/// signs what was missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signing_failure_leaves_the_tags_and_a_rerun_completes_the_signatures() {
    let lab = lab(2).await;
    let sigstore = SigstoreLab::start().await.expect("the keyless lab (npm ci in tests/sigstore)");
    let token = sigstore.token_file().unwrap().display().to_string();
    // Nothing listens on port 9 of loopback (discard): Rekor is unreachable.
    let args = |rekor: &str| {
        [
            "--sign",
            "--identity-token",
            &token,
            "--fulcio-url",
            &sigstore.fulcio_url,
            "--rekor-url",
            rekor,
            "--signature-format",
            "legacy",
        ]
        .map(str::to_owned)
    };
    let broken = args("http://127.0.0.1:9");
    let broken: Vec<&str> = broken.iter().map(String::as_str).collect();
    let out = lab.promote(&broken, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &doc["report"];
    assert_eq!(report["summary"]["failed"], 0, "the copies succeeded: {report:#}");
    assert_eq!(report["signing"]["summary"]["failed"], 4, "{:#}", report["signing"]);
    let error = report["signing"]["digests"][0]["destinations"][0]["error"].as_str().unwrap();
    assert!(error.contains("Rekor"), "{error}");
    for registry in [&lab.one, &lab.two] {
        for (i, image) in lab.images.iter().enumerate() {
            let tagged = registry.client().get_manifest(&format!("prod/app{i}"), "v1").await.unwrap();
            assert_eq!(tagged.expect("tag in place").bytes, image.bytes, "the tag stays");
        }
    }

    let fixed = args(&sigstore.rekor_url);
    let fixed: Vec<&str> = fixed.iter().map(String::as_str).collect();
    let out = lab.promote(&fixed, &[]).await;
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(doc["report"]["actions"].as_array().is_none_or(Vec::is_empty), "nothing left to copy");
    assert_eq!(doc["report"]["signing"]["summary"]["written"], 4, "{:#}", doc["report"]["signing"]);
    for registry in [&lab.one, &lab.two] {
        for (i, image) in lab.images.iter().enumerate() {
            let n =
                keyless_verified(registry, &format!("prod/app{i}"), image.digest.as_str(), &sigstore).await;
            assert_eq!(n, 1, "{} prod/app{i}", registry.host());
        }
    }
}
