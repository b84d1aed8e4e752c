//! What signatures sign: cosign's simple-signing payload (legacy `.sig` layers and bundle message
//! signatures) and in-toto statements (attestations, inside DSSE), both parsed for the verifier and
//! built for the signer. cip writes the simple-signing payload byte for byte as cosign does (Go's
//! `encoding/json` of `payload.Cosign`: fields in declaration order, `"optional":null`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FormatError, PROMOTION_PREDICATE_TYPE};

/// The `critical.type` of a cosign container image signature.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";
/// The predicate type of a cosign v3 image signature: `cosign sign` with the bundle format signs
/// an in-toto statement (subject = the image digest, empty predicate) in a DSSE envelope.
pub const COSIGN_SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";
/// in-toto Statement v1 `_type`.
pub const IN_TOTO_STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// in-toto Statement v0.1 `_type` (cosign v1/v2 attestations), still read.
pub const IN_TOTO_STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";

/// A parsed simple-signing payload: what it says was signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository the signer named.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the digest that was signed.
    pub docker_manifest_digest: String,
    /// `optional`: the signer's annotations (empty when `null` or absent).
    pub optional: BTreeMap<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    critical: Critical,
    #[serde(default)]
    optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// Reads a simple-signing payload.
///
/// # Errors
///
/// Not JSON, a missing `critical` field, or a `critical.type` other than
/// [`SIMPLE_SIGNING_TYPE`] (cosign refuses those too).
pub fn parse_simple_signing(bytes: &[u8]) -> Result<SimpleSigning, FormatError> {
    const WHAT: &str = "simple-signing payload";
    let wire: Wire = serde_json::from_slice(bytes).map_err(|e| FormatError::invalid(WHAT, e.to_string()))?;
    if wire.critical.kind != SIMPLE_SIGNING_TYPE {
        return Err(FormatError::invalid(
            WHAT,
            format!("critical.type is {:?}, not {SIMPLE_SIGNING_TYPE:?}", wire.critical.kind),
        ));
    }
    Ok(SimpleSigning {
        docker_reference: wire.critical.identity.docker_reference,
        docker_manifest_digest: wire.critical.image.docker_manifest_digest,
        optional: wire.optional.unwrap_or_default(),
    })
}

/// cosign's simple-signing payload for `digest` (`sha256:<hex>`) named `docker_reference`
/// (`registry/path`, no tag), without annotations: exactly the bytes `cosign sign` signs.
pub fn simple_signing_payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    let wire = Wire {
        critical: Critical {
            identity: Identity { docker_reference: docker_reference.to_owned() },
            image: Image { docker_manifest_digest: digest.to_owned() },
            kind: SIMPLE_SIGNING_TYPE.to_owned(),
        },
        optional: None,
    };
    // Strings only: serialization cannot fail.
    serde_json::to_vec(&wire).unwrap_or_default()
}

/// A parsed in-toto statement (v1 or v0.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// `_type`: [`IN_TOTO_STATEMENT_V1`] or [`IN_TOTO_STATEMENT_V01`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate's type URI.
    pub predicate_type: String,
    /// The predicate, as JSON.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

/// One subject of a [`Statement`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The subject's name (cip: the repository).
    #[serde(default)]
    pub name: String,
    /// Algorithm → lower-case hex (`sha256` → `<hex>`).
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// Reads a statement.
    ///
    /// # Errors
    ///
    /// Not JSON, a missing field, or a `_type` that is not an in-toto statement.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FormatError> {
        const WHAT: &str = "in-toto statement";
        let statement: Self =
            serde_json::from_slice(bytes).map_err(|e| FormatError::invalid(WHAT, e.to_string()))?;
        if statement.statement_type != IN_TOTO_STATEMENT_V1
            && statement.statement_type != IN_TOTO_STATEMENT_V01
        {
            return Err(FormatError::invalid(
                WHAT,
                format!("_type is {:?}, not an in-toto statement", statement.statement_type),
            ));
        }
        Ok(statement)
    }

    /// Whether a subject names `digest` (`sha256:<hex>`).
    pub fn is_about(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        self.subject.iter().any(|s| s.digest.get(algorithm).is_some_and(|h| h.eq_ignore_ascii_case(hex)))
    }

    /// The statement as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The in-toto statement a cosign v3 image signature signs (inside DSSE, in a Sigstore bundle
/// referrer): subject = the digest, predicate type [`COSIGN_SIGN_PREDICATE_TYPE`], empty
/// predicate. cosign names no subject; cip names the signed identity (`name`), which verifiers
/// ignore and cip uses to find its own signature.
pub fn cosign_sign_statement(name: &str, digest: &str) -> Vec<u8> {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
    Statement {
        statement_type: IN_TOTO_STATEMENT_V1.to_owned(),
        subject: vec![Subject {
            name: name.to_owned(),
            digest: BTreeMap::from([(algorithm.to_owned(), hex.to_owned())]),
        }],
        predicate_type: COSIGN_SIGN_PREDICATE_TYPE.to_owned(),
        predicate: serde_json::Value::Object(serde_json::Map::new()),
    }
    .to_json()
}

/// What cip's promotion attestation records ([`PROMOTION_PREDICATE_TYPE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Promotion<'a> {
    /// The repository the attestation's subject names (the destination, without tag).
    pub subject_name: &'a str,
    /// The source reference (`registry/path@sha256:<hex>`).
    pub source: &'a str,
    /// The destination reference.
    pub destination: &'a str,
    /// The promoted digest (`sha256:<hex>`).
    pub digest: &'a str,
    /// When, as the engine formats it (RFC 3339); core has no clock.
    pub time: &'a str,
    /// cip's version.
    pub version: &'a str,
}

/// The promotion attestation's in-toto statement (v1) as JSON bytes:
/// subject `{name, digest{sha256}}`, predicate `{source, destination, digest, time,
/// promoter{name: "cip", version}}`.
pub fn promotion_statement(promotion: &Promotion<'_>) -> Vec<u8> {
    let hex = promotion.digest.strip_prefix("sha256:").unwrap_or(promotion.digest);
    let statement = Statement {
        statement_type: IN_TOTO_STATEMENT_V1.to_owned(),
        subject: vec![Subject {
            name: promotion.subject_name.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex.to_owned())]),
        }],
        predicate_type: PROMOTION_PREDICATE_TYPE.to_owned(),
        predicate: serde_json::json!({
            "source": promotion.source,
            "destination": promotion.destination,
            "digest": promotion.digest,
            "time": promotion.time,
            "promoter": {"name": "cip", "version": promotion.version},
        }),
    };
    statement.to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:703218c0465075f4425e58fac086e09e1de5c340b12976ab9eb8ad26615c3715";

    #[test]
    fn simple_signing_is_cosigns_bytes() {
        let payload = simple_signing_payload("reg.example.com/ubuntu", DIGEST);
        assert_eq!(
            String::from_utf8(payload.clone()).unwrap(),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"reg.example.com/ubuntu"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":null}}"#
            )
        );
        let parsed = parse_simple_signing(&payload).unwrap();
        assert_eq!(parsed.docker_reference, "reg.example.com/ubuntu");
        assert_eq!(parsed.docker_manifest_digest, DIGEST);
        assert!(parsed.optional.is_empty());
    }

    #[test]
    fn simple_signing_reads_annotations_and_refuses_other_types() {
        let with_optional = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":{{"sig":"x"}}}}"#
        );
        let parsed = parse_simple_signing(with_optional.as_bytes()).unwrap();
        assert_eq!(parsed.optional["sig"], "x");
        let other = with_optional.replace("cosign container image signature", "atomic");
        let err = parse_simple_signing(other.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("critical.type"), "{err}");
        assert!(parse_simple_signing(b"{}").is_err());
    }

    #[test]
    fn cosign_sign_statement_is_about_the_digest() {
        let statement = Statement::from_json(&cosign_sign_statement("reg.example/app", DIGEST)).unwrap();
        assert_eq!(statement.predicate_type, COSIGN_SIGN_PREDICATE_TYPE);
        assert!(statement.is_about(DIGEST));
        assert_eq!(statement.subject[0].name, "reg.example/app");
        assert_eq!(statement.predicate, serde_json::json!({}));
    }

    #[test]
    fn promotion_statement_round_trip() {
        let bytes = promotion_statement(&Promotion {
            subject_name: "prod.example/app",
            source: "stage.example/app@sha256:ab",
            destination: "prod.example/app@sha256:ab",
            digest: DIGEST,
            time: "2026-01-02T03:04:05Z",
            version: "0.1.0",
        });
        let statement = Statement::from_json(&bytes).unwrap();
        assert_eq!(statement.predicate_type, PROMOTION_PREDICATE_TYPE);
        assert_eq!(statement.statement_type, IN_TOTO_STATEMENT_V1);
        assert!(statement.is_about(DIGEST));
        assert!(!statement.is_about("sha256:00"));
        assert_eq!(statement.subject[0].name, "prod.example/app");
        assert_eq!(statement.predicate["promoter"]["name"], "cip");
        assert_eq!(statement.predicate["time"], "2026-01-02T03:04:05Z");
        let bad = String::from_utf8(bytes).unwrap().replace(IN_TOTO_STATEMENT_V1, "x");
        assert!(Statement::from_json(bad.as_bytes()).is_err());
    }
}
