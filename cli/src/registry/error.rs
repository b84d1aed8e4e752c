//! The one error type of the engine: every registry request, every store operation (HTTP registry
//! or `oci:` layout) and every inventory read fails with a [`RegistryError`] naming the registry,
//! the repository (when there is one), the operation and what went wrong. One [`Operation`] enum,
//! one [`ErrorKind::is_transient`], so the executor, the reader, the CLI's exit codes and the Node
//! addon's error codes all decide from the same structure. No variant carries a header value or a
//! credential.

use std::fmt;
use std::time::Duration;

/// What the engine was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /v2/`: reachability and the authentication challenge.
    Ping,
    /// Obtaining a token or credentials.
    Authenticate,
    /// `GET /v2/<name>/tags/list` (or reading a layout's `index.json` for a repository).
    ListTags,
    /// `GET /v2/_catalog` (or the repositories of a layout).
    Catalog,
    /// `HEAD /v2/<name>/manifests/<ref>`.
    HeadManifest,
    /// `GET /v2/<name>/manifests/<ref>`.
    GetManifest,
    /// `PUT /v2/<name>/manifests/<ref>`.
    PutManifest,
    /// `HEAD /v2/<name>/blobs/<digest>`.
    HeadBlob,
    /// `GET /v2/<name>/blobs/<digest>`.
    GetBlob,
    /// Blob upload (`POST`/`PATCH`/`PUT /v2/<name>/blobs/uploads/`).
    PutBlob,
    /// Cross-repository blob mount.
    MountBlob,
    /// `GET /v2/<name>/referrers/<digest>` (OCI 1.1), or reading a referrers tag-schema index.
    ListReferrers,
    /// Opening a store (a layout directory, a registry name no manifest declares).
    Open,
}

impl Operation {
    /// The operation's name in messages and in the Node addon's error objects.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Ping => "connect",
            Operation::Authenticate => "authenticate",
            Operation::ListTags => "list tags",
            Operation::Catalog => "list repositories",
            Operation::HeadManifest => "check manifest",
            Operation::GetManifest => "read manifest",
            Operation::PutManifest => "write manifest",
            Operation::HeadBlob => "check blob",
            Operation::GetBlob => "read blob",
            Operation::PutBlob => "upload blob",
            Operation::MountBlob => "mount blob",
            Operation::ListReferrers => "list referrers",
            Operation::Open => "open",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed engine operation.
#[derive(Clone, Debug, thiserror::Error)]
pub struct RegistryError {
    /// Registry host (with port) or `oci:DIR`.
    pub registry: String,
    /// Repository path within the registry, when the operation had one.
    pub repository: Option<String>,
    /// What was being done.
    pub operation: Operation,
    /// Why it failed.
    #[source]
    pub kind: ErrorKind,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "registry {}", self.registry)?;
        if let Some(repo) = self.repository.as_deref().filter(|r| !r.is_empty()) {
            write!(f, ", repository {repo}")?;
        }
        write!(f, ": {} failed: {}", self.operation, self.kind)
    }
}

impl RegistryError {
    /// An error of `operation` on `registry` (and `repository`, when not empty).
    pub fn new(registry: &str, repository: &str, operation: Operation, kind: ErrorKind) -> Self {
        let repository = (!repository.is_empty()).then(|| repository.to_owned());
        RegistryError { registry: registry.to_owned(), repository, operation, kind }
    }

    /// True when the whole registry is unusable (unreachable, refused, misconfigured, its
    /// repositories cannot be listed), as opposed to one repository or one object failing.
    pub fn is_registry_wide(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect(_)
                | ErrorKind::AuthRefused { .. }
                | ErrorKind::Insecure { .. }
                | ErrorKind::Credentials(_)
                | ErrorKind::NotARegistry(_)
        ) || matches!(self.operation, Operation::Ping | Operation::Catalog | Operation::Open)
    }

    /// True for a missing manifest, blob or repository.
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ErrorKind::NotFound(_))
    }
}

/// Why an operation failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ErrorKind {
    /// No connection could be made (DNS, refused, TLS handshake).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The request did not finish within the per-request timeout.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The registry refused the credentials (401 after authenticating).
    #[error(
        "authentication refused (HTTP {status}); check the credentials for this registry \
         (--auth-env, Docker config.json, or Google credentials)"
    )]
    AuthRefused {
        /// HTTP status.
        status: u16,
    },
    /// Authenticated but not allowed (403).
    #[error("access denied (HTTP 403): the credentials lack permission for this repository")]
    Denied,
    /// The object does not exist: what was looked for (`manifest v1`, `blob sha256:…`).
    #[error("{0} not found")]
    NotFound(String),
    /// Any other unexpected status.
    #[error("unexpected HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The registry's error message (truncated).
        message: String,
    },
    /// Retries ran out (the host's time budget).
    #[error("gave up after {attempts} attempts in {elapsed:?}; last problem: {last}")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last failure.
        last: String,
    },
    /// Plain HTTP or unverified TLS was needed for a host not marked insecure.
    #[error(
        "HTTPS to {host} failed ({reason}); cip only uses plain HTTP or unverified TLS for loopback \
         addresses and registries marked with --insecure-registry {host}"
    )]
    Insecure {
        /// The host.
        host: String,
        /// Why HTTPS failed.
        reason: String,
    },
    /// The host answered but does not speak the Distribution API.
    #[error("not an OCI registry: {0}")]
    NotARegistry(String),
    /// The connection was lost while a body was arriving (reset, cut off), or fewer bytes came
    /// than announced: worth another try.
    #[error("connection lost while reading: {0}")]
    Interrupted(String),
    /// The response or stored content could not be understood (bad JSON, corrupt layout, a
    /// manifest cip cannot copy).
    #[error("invalid content: {0}")]
    Invalid(String),
    /// A manifest media type cip does not handle.
    #[error(
        "unsupported manifest media type {0:?} (supported: Docker schema 2, Docker manifest list, \
         OCI manifest, OCI index)"
    )]
    UnsupportedMediaType(String),
    /// Credentials could not be obtained.
    #[error("cannot obtain credentials: {0}")]
    Credentials(String),
    /// Bytes that arrived complete but are not what their digest promises: the source is corrupt
    /// or tampered with. Final: reading again gives the same bytes.
    #[error("integrity: {object} does not match its digest ({found})")]
    Integrity {
        /// The manifest or blob that was asked for (`blob sha256:…`).
        object: String,
        /// What arrived instead (`the bytes hash to sha256:…`, `12 bytes where 10 were
        /// announced`).
        found: String,
    },
    /// Local file system error (layouts), with the path.
    #[error("{0}")]
    Io(String),
    /// The executor abandoned an upload because its source stream failed or did not verify;
    /// the source's own error is reported separately.
    #[error("upload abandoned: {0}")]
    Aborted(String),
}

/// What an integrity failure found: the digest the bytes hash to, and the sizes when they
/// differ.
pub(crate) fn found(actual_digest: &str, sizes: Option<(u64, u64)>) -> String {
    match sizes {
        Some((announced, got)) => {
            format!("the bytes hash to {actual_digest}, {got} bytes where {announced} were announced")
        }
        None => format!("the bytes hash to {actual_digest}"),
    }
}

impl ErrorKind {
    /// True when trying again may succeed: a refused or reset connection, a timeout, a body cut
    /// off, a 408, 429 or 5xx answer, an upload abandoned because its source stream broke.
    /// Refusals (401, 403, 404), bad content, local IO errors and integrity failures are final:
    /// an integrity failure means all the bytes arrived and they are not the image the manifest
    /// names, so reading them again would copy the same wrong bytes.
    pub fn is_transient(&self) -> bool {
        match self {
            ErrorKind::Connect(_)
            | ErrorKind::Timeout(_)
            | ErrorKind::Interrupted(_)
            | ErrorKind::Aborted(_) => true,
            ErrorKind::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_repository_is_not_shown() {
        let e =
            RegistryError::new("oci:x", "", Operation::HeadManifest, ErrorKind::Connect("refused".into()));
        assert_eq!(e.to_string(), "registry oci:x: check manifest failed: cannot connect: refused");
    }

    #[test]
    fn integrity_is_final_and_named() {
        let kind = ErrorKind::Integrity { object: "blob sha256:aa".into(), found: found("sha256:bb", None) };
        assert!(!kind.is_transient());
        assert_eq!(
            kind.to_string(),
            "integrity: blob sha256:aa does not match its digest (the bytes hash to sha256:bb)"
        );
        assert!(ErrorKind::Interrupted("reset".into()).is_transient());
        assert!(!ErrorKind::NotFound("blob".into()).is_transient());
    }
}
