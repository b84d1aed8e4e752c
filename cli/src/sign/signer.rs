//! One signer per run: a private key (`--sign-key`), or keyless: an ephemeral P-256 key made
//! from the engine's random number generator, certified by Fulcio for the OIDC identity of the
//! run's token, with every signature logged in Rekor.
//!
//! Keyless costs one Fulcio call per run (the certificate is reused for every digest while it is
//! valid: Fulcio's certificates live 10 minutes, cip renews after [`CERTIFICATE_REUSE`], with a
//! fresh token and key) and one Rekor call per signature. Signing itself is deterministic ECDSA
//! (RFC 6979, in core), so a key-based signature of the same payload is byte-identical across runs.
//!
//! The signer also says whether an existing signature counts as this run's ([`Signer::accepts`]):
//! [`trust::check`] under a policy built from the run's own public key, or keyless from the
//! token's identity and issuer with `--trusted-root`. Without a trusted root a keyless signature
//! counts when it verifies with the certificate it carries (the certificate chain cannot be checked
//! offline without one); the payload it signs names this identity and digest in either case.

use std::time::{Duration, Instant};

use cip_core::trust::{
    self, Bundle, Envelope, EvidenceKind, Policy, SignedLayer, Statement, TrustOptions, bundle::Content,
};
use reqwest::Method;
use tokio::sync::Mutex;

use super::sigstore::call;
use super::token::TokenSource;
use super::{SignError, SignOptions, SignerSource};
use crate::registry::{RegistryClient, Secret};

/// How long a Fulcio certificate is used before a new one is asked for (they live 10 minutes).
pub(crate) const CERTIFICATE_REUSE: Duration = Duration::from_secs(8 * 60);

/// The signer of a run.
pub(crate) struct Signer {
    mode: Mode,
    /// What an existing signature must satisfy to count as this run's.
    policy: Option<Policy>,
}

enum Mode {
    Key(trust::SigningKey),
    Keyless(Keyless),
}

struct Keyless {
    source: TokenSource,
    /// The token obtained when the signer was opened (its identity is the run's).
    first_token: std::sync::Mutex<Option<Secret>>,
    fulcio_url: String,
    rekor_url: String,
    certificate: Mutex<Option<Certified>>,
}

/// An ephemeral key and its Fulcio certificate chain.
#[derive(Clone)]
struct Certified {
    key: std::sync::Arc<trust::SigningKey>,
    /// PEM certificates, leaf first.
    chain: Vec<String>,
    obtained: Instant,
}

impl Certified {
    fn leaf_pem(&self) -> &str {
        self.chain.first().map_or("", String::as_str)
    }

    fn chain_pem(&self) -> String {
        self.chain.iter().skip(1).map(String::as_str).collect()
    }

    fn leaf_der(&self) -> Vec<u8> {
        trust::key::pem_blocks(self.leaf_pem())
            .ok()
            .and_then(|b| b.into_iter().next())
            .map(|(_, der)| der)
            .unwrap_or_default()
    }
}

/// A signature with what a verifier needs beside it.
struct Signature {
    der: Vec<u8>,
    /// Keyless: the certificate chain used.
    certified: Option<Certified>,
    /// Keyless: the Rekor entry.
    entry: Option<trust::rekor::LogEntry>,
}

impl Signer {
    /// Opens the run's signer: reads the key, or obtains the identity token (the Fulcio
    /// certificate is asked for when the first digest needs a signature).
    pub(crate) async fn open(client: &RegistryClient, options: &SignOptions) -> Result<Signer, SignError> {
        match &options.signer {
            SignerSource::Key { pem, password } => {
                let key = trust::SigningKey::from_pem(pem.expose(), password.as_ref().map(Secret::expose))
                    .map_err(|e| SignError::Key(e.to_string()))?;
                let public_pem = key.public_key_pem();
                let policy = Policy::new(&TrustOptions {
                    require_signature: true,
                    verify_key: Some(public_pem),
                    ..TrustOptions::default()
                })
                .map_err(|e| SignError::Key(e.to_string()))?;
                Ok(Signer { mode: Mode::Key(key), policy: Some(policy) })
            }
            SignerSource::Keyless { token, fulcio_url, rekor_url } => {
                let first = token.fetch(client).await.map_err(SignError::Token)?;
                let claims = trust::fulcio::token_claims(first.expose())
                    .map_err(|e| SignError::Token(format!("{}: {e}", token.describe())))?;
                let policy = match &options.trusted_root {
                    Some(root) => Some(
                        Policy::new(&TrustOptions {
                            require_signature: true,
                            certificate_identity: Some(claims.identity().to_owned()),
                            certificate_oidc_issuer: Some(claims.issuer.clone()),
                            trusted_root: Some(root.clone()),
                            ..TrustOptions::default()
                        })
                        .map_err(|e| SignError::Option(e.to_string()))?,
                    ),
                    None => None,
                };
                let keyless = Keyless {
                    source: token.clone(),
                    first_token: std::sync::Mutex::new(Some(first)),
                    fulcio_url: fulcio_url.trim_end_matches('/').to_owned(),
                    rekor_url: rekor_url.trim_end_matches('/').to_owned(),
                    certificate: Mutex::new(None),
                };
                Ok(Signer { mode: Mode::Keyless(keyless), policy })
            }
        }
    }

    /// Whether `layer` (of `kind`, for `digest`) is a valid signature of this run's signer.
    pub(crate) fn accepts(&self, digest: &str, kind: EvidenceKind, layer: &SignedLayer) -> bool {
        let layers = std::slice::from_ref(layer);
        let evidence = trust::Evidence { digest, attachments: vec![(kind, layers)] };
        match &self.policy {
            Some(policy) => trust::check(Some(policy), &evidence).is_empty(),
            // Keyless without a trusted root: carrying a certificate (so the signature is checked
            // against it), and self-consistent.
            None => {
                let certified = match kind {
                    EvidenceKind::Bundle => trust::encoding::unb64(&layer.data)
                        .and_then(|bytes| Bundle::from_json(&bytes).ok())
                        .is_some_and(|b| b.leaf_certificate().is_some()),
                    _ => layer.annotations.contains_key(trust::CERTIFICATE_ANNOTATION),
                };
                certified && trust::check(None, &evidence).is_empty()
            }
        }
    }

    /// Whether `bundle` (JSON) is a DSSE-signed statement whose subject is named `identity`.
    pub(crate) fn names_identity(&self, bundle: &[u8], identity: &str) -> bool {
        let Ok(bundle) = Bundle::from_json(bundle) else { return false };
        let Some(envelope) = bundle.dsse_envelope else { return false };
        let Ok(statement) = Statement::from_json(&envelope.payload) else { return false };
        statement.subject.iter().any(|s| s.name == identity)
    }

    /// A legacy `.sig` layer: `payload` signed, with the keyless certificate, chain and Rekor
    /// bundle annotations.
    pub(crate) async fn legacy_layer(
        &self,
        client: &RegistryClient,
        payload: &[u8],
    ) -> Result<SignedLayer, String> {
        let signature = self.sign(client, payload, Logged::Message(payload)).await?;
        let keyless = match (&signature.certified, &signature.entry) {
            (Some(c), Some(entry)) => {
                let bundle = entry.to_cosign_bundle().map_err(|e| format!("Rekor answer: {e}"))?;
                Some(trust::manifest::Keyless {
                    certificate: c.leaf_pem().to_owned(),
                    chain: c.chain_pem(),
                    bundle: bundle.to_json(),
                })
            }
            _ => None,
        };
        Ok(trust::manifest::signature_layer(payload, &signature.der, keyless.as_ref()))
    }

    /// A Sigstore bundle of the image signature for `identity` and `digest`: a DSSE envelope
    /// around an in-toto statement of predicate type [`trust::COSIGN_SIGN_PREDICATE_TYPE`]
    /// whose subject is the digest named `identity` (what cosign v3 stores as a referrer).
    pub(crate) async fn image_bundle(
        &self,
        client: &RegistryClient,
        identity: &str,
        digest: &str,
    ) -> Result<Bundle, String> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let statement = Statement {
            statement_type: trust::payload::IN_TOTO_STATEMENT_V1.to_owned(),
            subject: vec![trust::payload::Subject {
                name: identity.to_owned(),
                digest: [("sha256".to_owned(), hex.to_owned())].into(),
            }],
            predicate_type: trust::COSIGN_SIGN_PREDICATE_TYPE.to_owned(),
            predicate: serde_json::json!({}),
        };
        self.dsse_bundle(client, &statement.to_json()).await
    }

    /// A Sigstore bundle holding `statement` (in-toto JSON) in a signed DSSE envelope.
    pub(crate) async fn dsse_bundle(
        &self,
        client: &RegistryClient,
        statement: &[u8],
    ) -> Result<Bundle, String> {
        let payload_type = trust::dsse::IN_TOTO_PAYLOAD_TYPE;
        let pae = trust::pae(payload_type, statement);
        let unsigned = Envelope::new(payload_type, statement, &[], "");
        let signature = self.sign(client, &pae, Logged::Dsse(&unsigned)).await?;
        let envelope = Envelope::new(payload_type, statement, &signature.der, "");
        let bundle = match (&self.mode, &signature.certified, &signature.entry) {
            (Mode::Keyless(_), Some(c), Some(entry)) => {
                let tlog = entry.to_tlog_entry().map_err(|e| format!("Rekor answer: {e}"))?;
                Bundle::keyless(&c.leaf_der(), vec![tlog], Content::Dsse(envelope))
            }
            _ => Bundle::with_key("", Vec::new(), Content::Dsse(envelope)),
        };
        Ok(bundle)
    }

    /// Signs `message`; keyless, logs the signature in Rekor as `logged` describes.
    async fn sign(
        &self,
        client: &RegistryClient,
        message: &[u8],
        logged: Logged<'_>,
    ) -> Result<Signature, String> {
        match &self.mode {
            Mode::Key(key) => Ok(Signature { der: key.sign(message), certified: None, entry: None }),
            Mode::Keyless(keyless) => {
                let certified = keyless.certified(client).await?;
                let der = certified.key.sign(message);
                let proposed = match logged {
                    Logged::Message(payload) => {
                        let hex = trust::encoding::hex(&sha2_256(payload));
                        trust::rekor::hashedrekord_entry(&hex, &der, certified.leaf_pem())
                    }
                    Logged::Dsse(unsigned) => {
                        let signed = Envelope::new(&unsigned.payload_type, &unsigned.payload, &der, "");
                        trust::rekor::dsse_entry(&signed, certified.leaf_pem())
                    }
                };
                let entry = keyless.log(client, proposed).await?;
                Ok(Signature { der, certified: Some(certified), entry: Some(entry) })
            }
        }
    }
}

/// What Rekor is told about a signature.
enum Logged<'a> {
    /// A signature over these bytes (`hashedrekord`).
    Message(&'a [u8]),
    /// A DSSE envelope (its signature filled in when logged).
    Dsse(&'a Envelope),
}

fn sha2_256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

impl Keyless {
    /// The current certificate, asking Fulcio for one when there is none or it is old.
    async fn certified(&self, client: &RegistryClient) -> Result<Certified, String> {
        let mut held = self.certificate.lock().await;
        if let Some(c) = held.as_ref().filter(|c| c.obtained.elapsed() < CERTIFICATE_REUSE) {
            return Ok(c.clone());
        }
        let first = self.first_token.lock().expect("token lock").take();
        let token = match first {
            Some(t) => t,
            None => self.source.fetch(client).await?,
        };
        let key = ephemeral_key();
        let claims = trust::fulcio::token_claims(token.expose()).map_err(|e| e.to_string())?;
        // Proof of possession: the key signs the token's subject (Fulcio checks it).
        let proof = key.sign(claims.proof_subject().as_bytes());
        let request = trust::fulcio::signing_cert_request(token.expose(), &key.public_key_pem(), &proof);
        let url = format!("{}/api/v2/signingCert", self.fulcio_url);
        let answer = call(client, "Fulcio signingCert", Method::POST, &url, None, Some(request)).await?;
        if !answer.status.is_success() {
            return Err(format!("Fulcio {url}: HTTP {} ({})", answer.status.as_u16(), answer.excerpt()));
        }
        let chain = trust::fulcio::parse_signing_cert_response(&answer.body)
            .map_err(|e| format!("Fulcio {url}: {e}"))?;
        let certified = Certified { key: std::sync::Arc::new(key), chain, obtained: Instant::now() };
        *held = Some(certified.clone());
        Ok(certified)
    }

    /// Logs a proposed entry in Rekor; its answer is the entry with the signed entry timestamp.
    async fn log(
        &self,
        client: &RegistryClient,
        proposed: Vec<u8>,
    ) -> Result<trust::rekor::LogEntry, String> {
        let url = format!("{}/api/v1/log/entries", self.rekor_url);
        let answer = call(client, "Rekor log entry", Method::POST, &url, None, Some(proposed)).await?;
        if !answer.status.is_success() {
            return Err(format!("Rekor {url}: HTTP {} ({})", answer.status.as_u16(), answer.excerpt()));
        }
        let entries =
            trust::rekor::parse_log_entries(&answer.body).map_err(|e| format!("Rekor {url}: {e}"))?;
        entries
            .into_iter()
            .next()
            .map(|(_, e)| e)
            .ok_or_else(|| format!("Rekor {url}: an answer without an entry"))
    }
}

/// A fresh P-256 key from the engine's random number generator (rejection-sampled: a random
/// 32-byte string is a valid scalar with overwhelming probability).
fn ephemeral_key() -> trust::SigningKey {
    loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = trust::SigningKey::from_bytes(&bytes) {
            return key;
        }
    }
}
