//! The keyless lab from Rust tests: a loopback Sigstore Fulcio + Rekor (`tests/sigstore/server.mjs`,
//! built from `@sigstore/mock`) and the independent verifier (`tests/sigstore/verify.mjs`, sigstore-js).
//!
//! Both need `node` and the lab's packages: `npm ci` in `tests/sigstore` (tests/run-all.sh does it).
//! Without them every entry point fails with an error that says so, so a test using the lab stops
//! with that message instead of passing vacuously.

use crate::error::Error;
use crate::process::run_bounded;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// How long the lab may take to print its ready line (key generation, CA certificate, listen).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on one run of verify.mjs.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// `tests/sigstore`, after checking that its packages are installed.
fn lab_dir() -> Result<PathBuf, Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sigstore");
    let dir = dir.canonicalize().map_err(|e| Error(format!("{}: {e}", dir.display())))?;
    if !dir.join("node_modules/@sigstore/mock").is_dir() || !dir.join("node_modules/sigstore").is_dir() {
        return Err(Error(format!(
            "{}/node_modules is missing: run `npm ci` in tests/sigstore (tests/run-all.sh does)",
            dir.display()
        )));
    }
    Ok(dir)
}

/// A running keyless lab; the Node process is killed when this is dropped (and stops by itself
/// when its stdin, held here, closes).
pub struct SigstoreLab {
    /// Base URL of the mock Fulcio (`POST /api/v2/signingCert`).
    pub fulcio_url: String,
    /// Base URL of the mock Rekor (`POST /api/v1/log/entries`); the same server as Fulcio.
    pub rekor_url: String,
    /// An OIDC identity token for [`SigstoreLab::identity`] and [`SigstoreLab::issuer`].
    pub token: String,
    /// The certificate identity (URI SAN) the lab's Fulcio gives for `token`.
    pub identity: String,
    /// The OIDC issuer (certificate extension) the lab's Fulcio gives for `token`.
    pub issuer: String,
    trusted_root: PathBuf,
    dir: tempfile::TempDir,
    // Held so the server sees stdin close only when the lab is dropped (or the test process dies).
    _stdin: tokio::process::ChildStdin,
    child: tokio::process::Child,
}

/// Requests the lab has served, by route (the `GET /stats` of server.mjs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabStats {
    /// `POST /api/v2/signingCert` (certificates issued or refused).
    pub signing_certs: u64,
    /// `POST /api/v1/log/entries` (log entries made or refused).
    pub log_entries: u64,
}

impl SigstoreLab {
    /// Starts the lab with its default identity and issuer.
    pub async fn start() -> Result<SigstoreLab, Error> {
        let dir = lab_dir()?;
        let work = tempfile::tempdir()?;
        let trusted_root = work.path().join("trusted_root.json");
        let stderr_path = work.path().join("server.stderr");
        let mut command = tokio::process::Command::new("node");
        command
            .arg(dir.join("server.mjs"))
            .arg("--trusted-root")
            .arg(&trusted_root)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path)?)
            .kill_on_drop(true);
        let mut child =
            command.spawn().map_err(|e| Error(format!("cannot run node (is it installed?): {e}")))?;
        let stdin = child.stdin.take().ok_or_else(|| Error::msg("server.mjs: no stdin pipe"))?;
        let stdout = child.stdout.take().ok_or_else(|| Error::msg("server.mjs: no stdout pipe"))?;
        let mut line = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut line)).await;
        let stderr = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
        match read {
            Ok(Ok(n)) if n > 0 => {}
            Ok(Ok(_)) => return Err(Error(format!("server.mjs exited before it was ready: {}", stderr()))),
            Ok(Err(e)) => return Err(Error(format!("server.mjs: reading its ready line: {e}"))),
            Err(_) => {
                return Err(Error(format!("server.mjs not ready within {START_TIMEOUT:?}: {}", stderr())));
            }
        }
        let ready: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| Error(format!("server.mjs ready line {line:?}: {e}")))?;
        let field = |name: &str| {
            ready[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Error(format!("server.mjs ready line has no {name}: {line}")))
        };
        Ok(SigstoreLab {
            fulcio_url: field("fulcioUrl")?,
            rekor_url: field("rekorUrl")?,
            token: field("token")?,
            identity: field("identity")?,
            issuer: field("issuer")?,
            trusted_root,
            dir: work,
            _stdin: stdin,
            child,
        })
    }

    /// The `trusted_root.json` that verifies what this lab's Fulcio and Rekor issue.
    pub fn trusted_root(&self) -> &Path {
        &self.trusted_root
    }

    /// Writes [`SigstoreLab::token`] to a file (for `--identity-token FILE`) and returns its path.
    pub fn token_file(&self) -> Result<PathBuf, Error> {
        let path = self.dir.path().join("identity-token");
        std::fs::write(&path, &self.token)?;
        Ok(path)
    }

    /// A token for another subject and issuer (the lab's Fulcio certifies whatever a token names).
    pub async fn token_for(&self, subject: &str, issuer: &str) -> Result<String, Error> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/token", self.fulcio_url),
            &[("sub", subject), ("iss", issuer)],
        )
        .map_err(|e| Error(format!("token URL: {e}")))?;
        let response = reqwest::get(url).await?;
        Ok(response.error_for_status()?.text().await?)
    }

    /// Requests served so far by the mock Fulcio and Rekor.
    pub async fn stats(&self) -> Result<LabStats, Error> {
        let url = format!("{}/stats", self.fulcio_url);
        let body: serde_json::Value = reqwest::get(url).await?.error_for_status()?.json().await?;
        let count = |name: &str| {
            body[name].as_u64().ok_or_else(|| Error(format!("lab stats without {name}: {body}")))
        };
        Ok(LabStats { signing_certs: count("signingCert")?, log_entries: count("logEntries")? })
    }
}

impl Drop for SigstoreLab {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// What verify.mjs is asked to verify.
#[derive(Debug, Clone, Copy)]
pub enum Signed<'a> {
    /// A Sigstore bundle file.
    Bundle {
        /// The bundle JSON.
        bundle: &'a Path,
        /// The signed bytes, needed for a message signature (not for a DSSE envelope).
        artifact: Option<&'a Path>,
    },
    /// One keyless cosign `.sig` layer.
    Legacy {
        /// The layer's content (the simple-signing payload).
        payload: &'a Path,
        /// The layer's annotations: the object, or the layer descriptor holding it.
        annotations: &'a Path,
    },
}

/// The policy verify.mjs checks: trusted root, exact identity and issuer, and optionally the image
/// digest the payload or statement must name.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The `trusted_root.json` to verify against.
    pub trusted_root: &'a Path,
    /// The certificate identity (SAN), matched exactly.
    pub identity: &'a str,
    /// The OIDC issuer extension, matched exactly.
    pub issuer: &'a str,
    /// The image digest the simple-signing payload or the in-toto subject must name.
    pub digest: Option<&'a str>,
}

/// verify.mjs's answer: accepted (exit 0) or refused (exit 1) with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether sigstore-js accepted the signature.
    pub accepted: bool,
    /// stdout on acceptance (one JSON line), stderr on refusal (the reason).
    pub message: String,
}

/// Runs sigstore-js (verify.mjs) on `signed` with `expect`. Usage errors and a missing Node setup
/// are errors, not refusals, so a broken harness cannot pass for a refused signature.
pub async fn sigstore_verify(signed: Signed<'_>, expect: Expect<'_>) -> Result<Verdict, Error> {
    let dir = lab_dir()?;
    let mut command = Command::new("node");
    command.arg(dir.join("verify.mjs")).current_dir(&dir);
    match signed {
        Signed::Bundle { bundle, artifact } => {
            command.arg("--bundle").arg(bundle);
            if let Some(artifact) = artifact {
                command.arg("--artifact").arg(artifact);
            }
        }
        Signed::Legacy { payload, annotations } => {
            command.arg("--payload").arg(payload).arg("--annotations").arg(annotations);
        }
    }
    command.arg("--trusted-root").arg(expect.trusted_root);
    command.args(["--identity", expect.identity, "--issuer", expect.issuer]);
    if let Some(digest) = expect.digest {
        command.args(["--digest", digest]);
    }
    let output = run_bounded(command, VERIFY_TIMEOUT).await?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(Verdict { accepted: true, message: stdout }),
        Some(1) => Ok(Verdict { accepted: false, message: stderr }),
        _ => Err(Error(format!("verify.mjs failed ({}): {stderr}", output.status))),
    }
}
