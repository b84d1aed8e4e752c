//! Running the `cip` binary from tests: locating it, Docker credentials for it, bounded runs, and
//! killing it at a chosen moment (crash-safety scenarios).

use crate::client::Credentials;
use crate::error::Error;
use crate::registry::Registry;
use base64::Engine as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The `cip` binary: `$CIP_BIN`, else `<target dir>/debug/cip`. Build it first (`cargo build -p cip`);
/// the kit cannot depend on a binary target, and a missing binary is reported, never built here.
pub fn cip_binary() -> Result<PathBuf, Error> {
    if let Some(bin) = std::env::var_os("CIP_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug").join("cip");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error(format!("{} not found: run `cargo build -p cip` first (or set CIP_BIN)", bin.display())))
    }
}

/// Writes a Docker `config.json` with Basic `auths` for each registry that has credentials; returns
/// the directory to pass as `DOCKER_CONFIG`.
pub fn docker_config(dir: &Path, registries: &[&Registry]) -> Result<PathBuf, Error> {
    let entries: Vec<(String, Credentials)> =
        registries.iter().filter_map(|r| r.credentials().map(|c| (r.host(), c))).collect();
    docker_config_entries(dir, &entries)
}

/// Like [`docker_config`] with explicit `(host, credentials)` entries (e.g. a wrong password).
pub fn docker_config_entries(dir: &Path, entries: &[(String, Credentials)]) -> Result<PathBuf, Error> {
    let mut auths = serde_json::Map::new();
    for (host, c) in entries {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password));
        auths.insert(host.clone(), serde_json::json!({ "auth": encoded }));
    }
    let config_dir = dir.join("docker-config");
    std::fs::create_dir_all(&config_dir)?;
    let body = serde_json::json!({ "auths": auths }).to_string();
    std::fs::write(config_dir.join("config.json"), body)?;
    Ok(config_dir)
}

/// Runs `command` to completion with stdout and stderr captured, killing it after `limit`.
///
/// Async on purpose: in-process servers of the kit (the [`crate::FaultProxy`], the token server) run on
/// the test's runtime, and a blocking wait would starve them while `cip` talks to them.
pub async fn run_bounded(command: Command, limit: Duration) -> Result<Output, Error> {
    let mut command = tokio::process::Command::from(command);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let child = command.spawn()?;
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(output) => Ok(output?),
        // Dropping the future drops the child, which kill_on_drop SIGKILLs.
        Err(_) => Err(Error(format!("command did not finish within {limit:?}"))),
    }
}

/// Starts `command` (output discarded) and SIGKILLs it after `delay` if still running, like `kill -9`:
/// no cleanup code in the child runs. Returns whether it was killed (false: it had already exited).
pub async fn kill_after(command: Command, delay: Duration) -> Result<bool, Error> {
    let mut command = tokio::process::Command::from(command);
    command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true);
    let mut child = command.spawn()?;
    match tokio::time::timeout(delay, child.wait()).await {
        Ok(status) => status.map(|_| false).map_err(Error::from),
        Err(_) => {
            child.kill().await?; // SIGKILL, then reaps the process
            Ok(true)
        }
    }
}

/// Copies a directory tree (an OCI layout fixture into a test's temporary directory).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// Digest of `hello:v1` in `examples/staging` (a two-platform index).
pub const STAGING_HELLO: &str = "sha256:3a869696c650e2e7921884dd6203f6a3f668a1a7bc5a4bca37bf67eb7d80b27a";
/// Digest of `plain:1.0` in `examples/staging` (a single-platform image).
pub const STAGING_PLAIN: &str = "sha256:92803563d151254bd5409d3aaa94ddc1607e496e8df47e5c09e1852fd252fa5f";

/// Copies the staging layout shipped in `examples/staging` to `dir/staging` (tests promote from
/// it with no network).
pub fn staging_layout(dir: &Path) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/staging");
    copy_dir(&shipped, &dir.join("staging"));
}

/// A manifest promoting `oci:<dir>/staging` into `oci:<dir>/prod`: `hello` with `hello_tags` (the
/// YAML list's inside, e.g. `"v1"`) and `plain` with `1.0`.
pub fn layout_promotion(dir: &Path, hello_tags: &str) -> String {
    let root = dir.display();
    format!(
        "registries:\n- name: oci:{root}/staging\n  src: true\n- name: oci:{root}/prod\nimages:\n\
         - name: hello\n  dmap:\n    \"{STAGING_HELLO}\": [{hello_tags}]\n\
         - name: plain\n  dmap:\n    \"{STAGING_PLAIN}\": [\"1.0\"]\n"
    )
}
