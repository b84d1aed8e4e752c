//! Registry errors. Every error names the registry, the repository (when there is one) and the
//! operation, so a failure in a run over hundreds of repositories says exactly where it was.
//! No variant carries a header value or a credential.

use std::fmt;
use std::time::Duration;

/// What the client was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /v2/`: reachability and the authentication challenge.
    Ping,
    /// Obtaining a token or credentials.
    Authenticate,
    /// `GET /v2/<name>/tags/list`.
    ListTags,
    /// `GET /v2/_catalog`.
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
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
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
        })
    }
}

/// A failed registry operation.
#[derive(Debug, thiserror::Error)]
pub struct RegistryError {
    /// Registry host (with port).
    pub registry: String,
    /// Repository name within the registry, when the operation had one.
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
        if let Some(repo) = &self.repository {
            write!(f, ", repository {repo}")?;
        }
        write!(f, ": {} failed: {}", self.operation, self.kind)
    }
}

impl RegistryError {
    /// True when the whole registry is unusable (unreachable, refused, misconfigured), as
    /// opposed to one repository or one object failing.
    pub fn is_registry_wide(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Connect(_)
                | ErrorKind::AuthRefused { .. }
                | ErrorKind::Insecure { .. }
                | ErrorKind::Credentials(_)
                | ErrorKind::NotARegistry(_)
        ) || (self.operation == Operation::Ping)
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
    /// The object does not exist.
    #[error("not found (HTTP 404)")]
    NotFound,
    /// Any other unexpected status.
    #[error("unexpected HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The registry's error message (truncated).
        message: String,
    },
    /// Retries ran out (attempts or time budget).
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
    /// The connection was lost while the response body was arriving (reset, cut off).
    #[error("connection lost while reading the response: {0}")]
    Interrupted(String),
    /// The response could not be understood.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// A manifest media type cip does not handle.
    #[error(
        "unsupported manifest media type {0:?} (supported: Docker schema 2, Docker manifest list, \
         OCI manifest, OCI index)"
    )]
    UnsupportedMediaType(String),
    /// Credentials could not be obtained.
    #[error("cannot obtain credentials: {0}")]
    Credentials(String),
    /// Content did not match its digest.
    #[error("content does not match digest {expected} (got {actual})")]
    DigestMismatch {
        /// The digest asked for.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
}
