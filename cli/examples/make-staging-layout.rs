//! Writes the tiny staging OCI image layout shipped in `examples/staging` (a multi-arch index
//! `hello:v1` with two platform images, and a plain image `plain:1.0`), byte for byte the same on
//! every run, so its digests can be pinned in `examples/promote.yaml`.
//!
//! `cargo run -p cip --example make-staging-layout -- examples/staging`
//!
//! Layers are real (uncompressed) tar archives holding one small text file, so any tool that
//! unpacks the images works; a tar header is written by hand here because it is 30 lines and the
//! example should not add a dependency to the crate.

#![allow(clippy::print_stdout)]

use std::fs;
use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

fn main() -> std::io::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "examples/staging".to_owned());
    let root = Path::new(&dir);
    if root.exists() {
        fs::remove_dir_all(root)?;
    }
    fs::create_dir_all(root.join("blobs/sha256"))?;
    fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;

    let shared = tar_with("etc/greeting", b"hello from the staging registry\n");
    let amd64 = image(root, "amd64", &[&shared, &tar_with("bin/arch", b"amd64\n")])?;
    let arm64 = image(root, "arm64", &[&shared, &tar_with("bin/arch", b"arm64\n")])?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            platform(amd64.clone(), "amd64"),
            platform(arm64.clone(), "arm64"),
        ],
    });
    let index = put(root, OCI_INDEX, &to_bytes(&index))?;
    let plain = image(root, "amd64", &[&tar_with("etc/plain", b"a single-platform image\n")])?;

    let entries = vec![tagged(index.clone(), "hello:v1"), tagged(plain.clone(), "plain:1.0")];
    let top = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries });
    fs::write(root.join("index.json"), to_bytes(&top))?;
    println!("hello:v1  {}", index["digest"].as_str().unwrap_or_default());
    println!("plain:1.0 {}", plain["digest"].as_str().unwrap_or_default());
    Ok(())
}

/// Writes an image (config + layers + manifest) and returns the manifest's descriptor.
fn image(root: &Path, arch: &str, layers: &[&[u8]]) -> std::io::Result<Value> {
    let diff_ids: Vec<String> = layers.iter().map(|l| digest(l)).collect();
    let config = json!({
        "architecture": arch,
        "os": "linux",
        "config": { "Cmd": ["/bin/sh"] },
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    });
    let config = put(root, OCI_CONFIG, &to_bytes(&config))?;
    let layers: Vec<Value> = layers.iter().map(|l| put(root, OCI_LAYER, l)).collect::<Result<_, _>>()?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": layers,
    });
    put(root, OCI_MANIFEST, &to_bytes(&manifest))
}

fn platform(mut descriptor: Value, arch: &str) -> Value {
    descriptor["platform"] = json!({ "architecture": arch, "os": "linux" });
    descriptor
}

fn tagged(mut descriptor: Value, name: &str) -> Value {
    descriptor["annotations"] = json!({ "org.opencontainers.image.ref.name": name });
    descriptor
}

/// Stores a blob and returns its descriptor.
fn put(root: &Path, media_type: &str, bytes: &[u8]) -> std::io::Result<Value> {
    let digest = digest(bytes);
    fs::write(root.join("blobs/sha256").join(&digest["sha256:".len()..]), bytes)?;
    Ok(json!({ "mediaType": media_type, "digest": digest, "size": bytes.len() }))
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON serializes")
}

/// A ustar archive holding one regular file (mode 0644, owner 0, mtime 0).
fn tar_with(path: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..path.len()].copy_from_slice(path.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let text = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o644);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], content.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field read as spaces.
    header[148..156].copy_from_slice(b"        ");
    let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
    let text = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(text.as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(content);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.resize(out.len() + 1024, 0);
    out
}
