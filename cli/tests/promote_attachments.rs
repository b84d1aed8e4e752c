//! Signatures, attestations, SBOMs and referrers follow promoted images (issue 13).
//!
//! Real CNCF distribution registries (2.8, Debian `docker-registry`, started by the test kit on
//! loopback) hold images with cosign `.sig` (ECDSA P-256 signed simple-signing payloads), `.att`
//! (DSSE in-toto) and `.sbom` tags and an SPDX referrer recorded in the referrers tag schema, all
//! pushed by the test kit in the formats cosign and oras write. Distribution 2.8 has no referrers
//! API; the tests of the API use the test kit's in-process OCI 1.1 front over a real registry
//! (`ReferrersFront`: no OCI 1.1 registry is installable here).
//!
//! Interop: skopeo reads the promoted signature manifests, and the promoted signatures verify
//! with `tests/attachments/verify_cosign.py` (Python `cryptography`), not cip's code.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cip::connect::RegistryOptions;
use cip::promote::{self, Outcome, PromoteOptions, Quiet, Report};
use cip_core::{Input, SourceFile};
use cip_testkit::{
    Client, MediaKind, Pushed, ReferrersFront, Registry, SPDX_JSON, Signer, check_complete, cip_binary,
    cosign_tag, docker_config, kill_after, random_layer, referrers_tag, run_bounded,
};

/// One image with every kind of attachment.
struct Signed {
    repo: String,
    image: Pushed,
    sig: Pushed,
    att: Pushed,
    sbom: Pushed,
    referrer: Pushed,
}

async fn seed(client: &Client, repo: &str, seed: u64, signer: &Signer, host: &str) -> Signed {
    let layers = [random_layer(seed, 32 * 1024)];
    let image = client.push_image(repo, Some("v1"), &layers, MediaKind::Oci).await.expect("image");
    let reference = format!("{host}/{repo}");
    client.push_cosign_signature(repo, &image.digest, signer, &reference, "first").await.expect("sig");
    let sig =
        client.push_cosign_signature(repo, &image.digest, signer, &reference, "second").await.expect("sig 2");
    let att = client
        .push_cosign_attestation(repo, &image.digest, signer, "https://slsa.dev/provenance/v1")
        .await
        .expect("att");
    let spdx = format!(r#"{{"spdxVersion":"SPDX-2.3","name":"{repo}","SPDXID":"SPDXRef-DOCUMENT"}}"#);
    let sbom = client.push_cosign_sbom(repo, &image.digest, spdx.as_bytes()).await.expect("sbom");
    let referrer =
        client.push_referrer(repo, &image, SPDX_JSON, spdx.as_bytes(), true).await.expect("referrer");
    Signed { repo: repo.to_owned(), image, sig, att, sbom, referrer }
}

fn yaml(src: &str, dests: &[String], images: &[&Signed]) -> String {
    let mut out = format!("registries:\n- name: {src}\n  src: true\n");
    for d in dests {
        out.push_str(&format!("- name: {d}\n"));
    }
    out.push_str("images:\n");
    for s in images {
        out.push_str(&format!("- name: {}\n  dmap:\n    \"{}\": [\"v1\"]\n", s.repo, s.image.digest));
    }
    out
}

async fn promote(yaml: &str) -> Option<Report> {
    let options = PromoteOptions {
        confirm: true,
        registry: RegistryOptions { no_docker_config: true, ..RegistryOptions::default() },
        ..PromoteOptions::default()
    };
    let input = Input { files: vec![SourceFile::new("promote.yaml", yaml)], thin_dirs: None };
    promote::run(input, &options, &Quiet).await.expect("promotion runs").report
}

fn puts(registry: &Registry) -> usize {
    registry.request_log().iter().filter(|r| r.method == "PUT").count()
}

/// Every attachment of `s` is in `dest` byte for byte, and the referrers index lists the referrer.
async fn assert_attached(dest: &Registry, s: &Signed) {
    let client = dest.client();
    for (what, pushed, tag) in [
        ("sig", &s.sig, cosign_tag(&s.image.digest, "sig")),
        ("att", &s.att, cosign_tag(&s.image.digest, "att")),
        ("sbom", &s.sbom, cosign_tag(&s.image.digest, "sbom")),
    ] {
        let got = client.get_manifest(&s.repo, &tag).await.expect("get").unwrap_or_else(|| panic!("{what}"));
        assert_eq!(got.bytes, pushed.bytes, "{}: {what} byte-exact", dest.host());
    }
    let referrer =
        client.get_manifest(&s.repo, s.referrer.digest.as_str()).await.expect("get").expect("referrer");
    assert_eq!(referrer.bytes, s.referrer.bytes, "referrer byte-exact");
    let index =
        client.get_manifest(&s.repo, &referrers_tag(&s.image.digest)).await.expect("get").expect("index");
    let listed: Vec<String> = index.children().into_iter().map(|d| d.0).collect();
    assert!(listed.contains(&s.referrer.digest.0), "{listed:?}");
    check_complete(&client, &s.repo).await.expect("every tag complete");
}

/// Promote to two destinations; one already has an extra signature, which it keeps (union);
/// a no-op re-run writes nothing; the promoted signatures verify independently.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attachments_follow_to_two_destinations_with_the_union_rule() {
    let (source, one, two) = (
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
    );
    let signer = Signer::from_seed(1);
    let a = seed(&source.client(), "team/app", 1, &signer, &source.host()).await;
    // The second destination already has the image and a signature of its own.
    let other = Signer::from_seed(2);
    let c2 = two.client();
    let copy = c2.push_image("team/app", None, &[random_layer(1, 32 * 1024)], MediaKind::Oci).await.unwrap();
    assert_eq!(copy.digest, a.image.digest, "the same image");
    let extra = c2
        .push_cosign_signature("team/app", &a.image.digest, &other, "mirror/team/app", "mirror")
        .await
        .unwrap();

    let text = yaml(&source.host(), &[one.host(), two.host()], &[&a]);
    let report = promote(&text).await.expect("work to do");
    let failed: Vec<_> = report.actions.iter().filter(|r| r.result != Outcome::Done).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let attach = report.actions.iter().filter(|r| r.action == cip_core::plan::ActionKind::Attach).count();
    assert!(attach >= 8, "sig, att, sbom and the referrer per destination: {attach}");

    assert_attached(&one, &a).await;
    // Destination two: att, sbom, referrer as in the source; the .sig is the union.
    let sig = c2.get_manifest("team/app", &cosign_tag(&a.image.digest, "sig")).await.unwrap().unwrap();
    let layers: Vec<String> = sig.json()["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect();
    let source_layers = a.sig.bytes.pipe_layers();
    let extra_layers = extra.bytes.pipe_layers();
    assert_eq!(layers[..source_layers.len()], source_layers[..], "source layers first");
    assert_eq!(layers[source_layers.len()..], extra_layers[..], "the destination's own signature is kept");
    check_complete(&c2, "team/app").await.unwrap();

    // Interop: skopeo reads the promoted signature manifest; Python verifies every signature.
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/team/app:{}", one.host(), cosign_tag(&a.image.digest, "sig")))
        .output()
        .expect("skopeo runs");
    assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
    assert_eq!(raw.stdout, a.sig.bytes, "skopeo reads the promoted .sig byte for byte");
    let dir = tempfile::tempdir().unwrap();
    verify(dir.path(), &one, &a, &signer, 2).await.expect("the promoted signatures verify");
    verify(dir.path(), &two, &a, &signer, 2).await.expect_err("the mirror's own signature is not ours");
    verify(dir.path(), &one, &a, &other, 1).await.expect_err("a wrong key fails");

    // No-op: nothing written anywhere.
    let before = (puts(&one), puts(&two));
    let again = promote(&text).await;
    assert!(again.as_ref().is_none_or(|r| r.actions.is_empty()), "{again:#?}");
    assert_eq!((puts(&one), puts(&two)), before, "a no-op run writes nothing");
}

/// Source and destination in one registry (a common topology): every attachment follows into
/// the production path byte for byte, and a no-op re-run writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attachments_follow_within_one_registry() {
    let registry = Registry::start().await.unwrap();
    let host = registry.host();
    let signer = Signer::from_seed(3);
    let a = seed(&registry.client(), "staging/team/app", 3, &signer, &host).await;
    let text = format!(
        "registries:\n- name: {host}/staging\n  src: true\n- name: {host}/prod\nimages:\n- name: team/app\n  \
         dmap:\n    \"{}\": [\"v1\"]\n",
        a.image.digest
    );
    let report = promote(&text).await.expect("work to do");
    let failed: Vec<_> = report.actions.iter().filter(|r| r.result != Outcome::Done).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let promoted = Signed { repo: "prod/team/app".to_owned(), ..a };
    assert_attached(&registry, &promoted).await;

    let before = puts(&registry);
    let again = promote(&text).await;
    assert!(again.as_ref().is_none_or(|r| r.actions.is_empty()), "{again:#?}");
    assert_eq!(puts(&registry), before, "a no-op run writes nothing");
}

trait Layers {
    fn pipe_layers(&self) -> Vec<String>;
}

impl Layers for Vec<u8> {
    fn pipe_layers(&self) -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_slice(self).unwrap();
        doc["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap().to_owned()).collect()
    }
}

/// Runs the independent verifier on `s`'s promoted `.sig` in `registry` with `signer`'s key.
async fn verify(
    dir: &Path,
    registry: &Registry,
    s: &Signed,
    signer: &Signer,
    min: usize,
) -> Result<(), String> {
    let key = dir.join("cosign.pub");
    std::fs::write(&key, signer.public_key_pem()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/attachments/verify_cosign.py");
    let mut command = Command::new("python3");
    command.arg(script).args([
        "--registry",
        &registry.url(),
        "--repo",
        &s.repo,
        "--digest",
        s.image.digest.as_str(),
    ]);
    command.arg("--key").arg(&key).args(["--min", &min.to_string()]);
    let out = run_bounded(command, Duration::from_secs(60)).await.map_err(|e| e.to_string())?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(()) } else { Err(text) }
}

/// SIGKILL the `cip` process at several moments of a promotion with many attachments; after
/// each kill every tag is complete, and a last run completes everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_attachment_copies_then_rerun_completes() {
    let Ok(bin) = cip_binary() else {
        panic!("build the cip binary first (cargo build -p cip)");
    };
    let (source, dest) = (Registry::start().await.unwrap(), Registry::start().await.unwrap());
    let signer = Signer::from_seed(3);
    let client = source.client();
    let mut all = Vec::new();
    for i in 0..12u64 {
        all.push(seed(&client, &format!("kill/app{i}"), 100 + i, &signer, &source.host()).await);
    }
    let refs: Vec<&Signed> = all.iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("promote.yaml");
    std::fs::write(&manifest, yaml(&source.host(), &[dest.host()], &refs)).unwrap();
    let config = docker_config(dir.path(), &[]).unwrap();
    let command = || {
        let mut c = Command::new(&bin);
        c.args(["promote", "--confirm"]).arg(&manifest).env("DOCKER_CONFIG", &config).env("NO_COLOR", "1");
        c
    };
    let mut killed = 0;
    for at in [150, 400, 800, 1500] {
        if kill_after(command(), Duration::from_millis(at)).await.unwrap() {
            killed += 1;
        }
        for s in &all {
            check_complete(&dest.client(), &s.repo)
                .await
                .unwrap_or_else(|e| panic!("after a kill at {at} ms: {e}"));
        }
    }
    assert!(killed > 0, "at least one run was killed mid-way");
    let out = run_bounded(command(), Duration::from_secs(300)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for s in &all {
        assert_attached(&dest, s).await;
    }
    let before = puts(&dest);
    let out = run_bounded(command(), Duration::from_secs(300)).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(puts(&dest), before, "the run after completion writes nothing");
}

/// The referrers API (in-process OCI 1.1 front over a real registry): `artifactType` filtering
/// and `Link` pagination; promotion from it to a registry without the API (which gets the
/// tag-schema index) and to it (which needs none: `OCI-Subject`); a no-op run asks the API
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn referrers_api_filtering_paging_and_promotion() {
    let (backing, plain, backing2) = (
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
        Registry::start().await.unwrap(),
    );
    let front = ReferrersFront::start(&backing.url(), 2).await.unwrap();
    let client = Client::new(&front.url(), None);
    let image =
        client.push_image("api/app", Some("v1"), &[random_layer(9, 4096)], MediaKind::Oci).await.unwrap();
    // The documents are made up, so not a Sigstore bundle type: the trust gate (issue 14) would
    // verify a bundle, and refuse these.
    let bundle = "application/vnd.cyclonedx+json";
    let mut referrers = Vec::new();
    for (i, t) in [SPDX_JSON, SPDX_JSON, bundle].into_iter().enumerate() {
        referrers.push(
            client.push_referrer("api/app", &image, t, format!("doc {i}").as_bytes(), false).await.unwrap(),
        );
    }

    // The client API: three referrers over two pages; one with the bundle filter.
    let reg = cip::registry::RegistryClient::new(cip::registry::ClientConfig {
        default_rate: Some(0.0),
        docker_config_dir: None,
        ..Default::default()
    })
    .unwrap();
    let full = format!("{}/api/app", front.host());
    let all = reg.referrers(&full, image.digest.as_str(), &[]).await.unwrap().expect("API offered");
    let mut got: Vec<String> = all.iter().map(|r| r.digest.clone()).collect();
    let mut want: Vec<String> = referrers.iter().map(|r| r.digest.0.clone()).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let pages = front.requests().iter().filter(|(_, t)| t.contains("/referrers/")).count();
    assert_eq!(pages, 2, "three referrers in pages of two: {:?}", front.requests());
    let bundles = reg.referrers(&full, image.digest.as_str(), &[bundle.to_owned()]).await.unwrap().unwrap();
    assert_eq!(bundles.len(), 1);
    assert_eq!(bundles[0].artifact_type.as_deref(), Some(bundle));
    assert!(front.requests().iter().any(|(_, t)| t.contains("artifactType=application%2Fvnd.cyclonedx")));
    // Distribution 2.8 has no API: `None`, asked once.
    let no_api = reg.referrers(&format!("{}/api/app", plain.host()), image.digest.as_str(), &[]).await;
    assert!(matches!(no_api, Ok(None)), "{no_api:?}");

    // Promote from the API registry to the plain one: the referrers land with a tag-schema index.
    let text = format!(
        "registries:\n- name: {}\n  src: true\n- name: {}\nimages:\n- name: api/app\n  dmap:\n    \"{}\": [\"v1\"]\n",
        front.host(),
        plain.host(),
        image.digest
    );
    let report = promote(&text).await.expect("work");
    assert!(report.actions.iter().all(|r| r.result == Outcome::Done), "{report:#?}");
    let pc = plain.client();
    for r in &referrers {
        assert_eq!(pc.get_manifest("api/app", r.digest.as_str()).await.unwrap().unwrap().bytes, r.bytes);
    }
    let index =
        pc.get_manifest("api/app", &referrers_tag(&image.digest)).await.unwrap().expect("tag-schema index");
    assert_eq!(index.children().len(), 3);
    let asked = front.requests().iter().filter(|(_, t)| t.contains("/referrers/")).count();
    assert!(promote(&text).await.is_none_or(|r| r.actions.is_empty()), "no-op");
    let asked_again = front.requests().iter().filter(|(_, t)| t.contains("/referrers/")).count();
    assert_eq!(asked_again, asked, "a no-op run asks the referrers API nothing");

    // Promote from the plain registry to an API registry: OCI-Subject, so no index tag.
    let front2 = ReferrersFront::start(&backing2.url(), 10).await.unwrap();
    let text = format!(
        "registries:\n- name: {}\n  src: true\n- name: {}\nimages:\n- name: api/app\n  dmap:\n    \"{}\": [\"v1\"]\n",
        plain.host(),
        front2.host(),
        image.digest
    );
    let report = promote(&text).await.expect("work");
    assert!(report.actions.iter().all(|r| r.result == Outcome::Done), "{report:#?}");
    let c2 = Client::new(&front2.url(), None);
    for r in &referrers {
        assert!(c2.manifest_exists("api/app", r.digest.as_str()).await.unwrap());
    }
    let listed = reg.referrers(&format!("{}/api/app", front2.host()), image.digest.as_str(), &[]).await;
    assert_eq!(listed.unwrap().unwrap().len(), 3, "the registry lists them itself");
    assert!(
        !c2.manifest_exists("api/app", &referrers_tag(&image.digest)).await.unwrap(),
        "no tag-schema index on a registry with the API"
    );
}
