//! Fulcio v2 (the keyless certificate authority): the `POST /api/v2/signingCert` request and its
//! answer (either form: SCT embedded in the certificate, or detached), and the unverified claims
//! of the OIDC identity token cip sends there. Fulcio verifies the token; cip reads its claims
//! only to know which identity to expect and what to sign as proof of possession.

use serde::{Deserialize, Serialize};

use super::FormatError;
use super::encoding::{b64, unb64};

/// GitHub Actions' OIDC issuer: Fulcio names the workflow (`job_workflow_ref`), not `sub`.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The claims cip reads from an identity token (without verifying it: Fulcio does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// `iss`: the OIDC issuer (the certificate's issuer extension).
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `email`, when the token has one (Google service accounts, email issuers).
    pub email: Option<String>,
    /// The SAN Fulcio will write (see [`Claims::identity`]).
    identity: String,
}

impl Claims {
    /// The identity (SAN) Fulcio's certificate for this token names, by Fulcio's issuer rules:
    /// GitHub Actions → `https://github.com/<job_workflow_ref>`; a Kubernetes service account token
    /// → `https://kubernetes.io/namespaces/<ns>/serviceaccounts/<name>`; a token with an email
    /// (Google service accounts) → the email; otherwise `sub`.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// What the key signs as proof of possession: the email when there is one, else `sub`
    /// (cosign's rule, and the principal name Fulcio checks the challenge against).
    pub fn proof_subject(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

/// Reads the claims of a JWT (`header.payload.signature`) without verifying it.
///
/// # Errors
///
/// Not three dot-separated parts, a payload that is not base64url JSON, or no `iss`/`sub`. The
/// message never quotes the token.
pub fn token_claims(token: &str) -> Result<Claims, FormatError> {
    const WHAT: &str = "OIDC identity token";
    #[derive(Deserialize)]
    struct Raw {
        iss: Option<String>,
        sub: Option<String>,
        email: Option<String>,
        job_workflow_ref: Option<String>,
        #[serde(rename = "kubernetes.io")]
        kubernetes: Option<Kubernetes>,
    }
    #[derive(Deserialize)]
    struct Kubernetes {
        namespace: String,
        serviceaccount: Named,
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [_, payload, _] = parts.as_slice() else {
        return Err(FormatError::invalid(
            WHAT,
            format!("a JWT has 3 dot-separated parts, this has {}", parts.len()),
        ));
    };
    let json = unb64(payload).ok_or_else(|| FormatError::invalid(WHAT, "its payload is not base64url"))?;
    let raw: Raw = serde_json::from_slice(&json)
        .map_err(|_| FormatError::invalid(WHAT, "its payload is not a JSON object of claims"))?;
    let issuer = raw.iss.ok_or_else(|| FormatError::invalid(WHAT, "it has no iss claim"))?;
    let subject = raw.sub.ok_or_else(|| FormatError::invalid(WHAT, "it has no sub claim"))?;
    let email = raw.email.filter(|e| !e.is_empty());
    let identity = match (&raw.job_workflow_ref, &raw.kubernetes, &email) {
        (Some(workflow), _, _) if issuer == GITHUB_ACTIONS_ISSUER => format!("https://github.com/{workflow}"),
        (_, Some(k), None) => format!(
            "https://kubernetes.io/namespaces/{}/serviceaccounts/{}",
            k.namespace, k.serviceaccount.name
        ),
        (_, _, Some(email)) => email.clone(),
        _ => subject.clone(),
    };
    Ok(Claims { issuer, subject, email, identity })
}

/// The `signingCert` request body: the token, the PEM public key (ECDSA) and the proof of
/// possession (the key's DER signature over [`Claims::proof_subject`]).
pub fn signing_cert_request(token: &str, public_key_pem: &str, proof_of_possession: &[u8]) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Request<'a> {
        credentials: Credentials<'a>,
        public_key_request: PublicKeyRequest<'a>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Credentials<'a> {
        oidc_identity_token: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct PublicKeyRequest<'a> {
        public_key: PublicKey<'a>,
        proof_of_possession: String,
    }
    #[derive(Serialize)]
    struct PublicKey<'a> {
        algorithm: &'a str,
        content: &'a str,
    }
    let request = Request {
        credentials: Credentials { oidc_identity_token: token.trim() },
        public_key_request: PublicKeyRequest {
            public_key: PublicKey { algorithm: "ECDSA", content: public_key_pem },
            proof_of_possession: b64(proof_of_possession),
        },
    };
    serde_json::to_vec(&request).unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    signed_certificate_embedded_sct: Option<Signed>,
    signed_certificate_detached_sct: Option<Signed>,
}

#[derive(Deserialize)]
struct Signed {
    chain: Chain,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<String>,
}

/// Reads a `signingCert` answer: the PEM certificates, leaf first, each ending in a newline.
///
/// # Errors
///
/// Neither answer form, an empty chain, or an entry that is not a PEM certificate.
pub fn parse_signing_cert_response(bytes: &[u8]) -> Result<Vec<String>, FormatError> {
    const WHAT: &str = "Fulcio signingCert answer";
    let response: Response =
        serde_json::from_slice(bytes).map_err(|e| FormatError::invalid(WHAT, e.to_string()))?;
    let signed = response
        .signed_certificate_embedded_sct
        .or(response.signed_certificate_detached_sct)
        .ok_or_else(|| {
            FormatError::invalid(
                WHAT,
                "neither signedCertificateEmbeddedSct nor signedCertificateDetachedSct",
            )
        })?;
    if signed.chain.certificates.is_empty() {
        return Err(FormatError::invalid(WHAT, "an empty certificate chain"));
    }
    signed
        .chain
        .certificates
        .into_iter()
        .enumerate()
        .map(|(i, pem)| {
            let blocks = super::key::pem_blocks(&pem)?;
            match blocks.as_slice() {
                [(label, _)] if label == "CERTIFICATE" => {
                    let mut pem = pem.trim().to_owned();
                    pem.push('\n');
                    Ok(pem)
                }
                _ => Err(FormatError::invalid(
                    WHAT,
                    format!("chain entry {} is not one PEM certificate", i + 1),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt(claims: &str) -> String {
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.c2ln", url.encode(r#"{"alg":"RS256"}"#), url.encode(claims))
    }

    #[test]
    fn claims_prefer_the_email() {
        let sa = token_claims(&jwt(
            r#"{"iss":"https://accounts.google.com","sub":"1234","email":"signer@p.iam.gserviceaccount.com","aud":"sigstore"}"#,
        ))
        .unwrap();
        assert_eq!(sa.issuer, "https://accounts.google.com");
        assert_eq!(sa.identity(), "signer@p.iam.gserviceaccount.com");
        assert_eq!(sa.proof_subject(), "signer@p.iam.gserviceaccount.com");
        let gha = token_claims(&format!(
            "{}\n",
            jwt(
                r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/main","job_workflow_ref":"o/r/.github/workflows/promote.yml@refs/heads/main"}"#
            )
        ))
        .unwrap();
        assert_eq!(gha.identity(), "https://github.com/o/r/.github/workflows/promote.yml@refs/heads/main");
        assert_eq!(gha.proof_subject(), "repo:o/r:ref:refs/heads/main");
        assert_eq!(gha.email, None);
        let k8s = token_claims(&jwt(
            r#"{"iss":"https://container.googleapis.com/v1/projects/p/locations/l/clusters/c","sub":"system:serviceaccount:ns:sa","kubernetes.io":{"namespace":"ns","serviceaccount":{"name":"sa","uid":"u"}}}"#,
        ))
        .unwrap();
        assert_eq!(k8s.identity(), "https://kubernetes.io/namespaces/ns/serviceaccounts/sa");
        assert_eq!(k8s.proof_subject(), "system:serviceaccount:ns:sa");
        // Any other issuer (the keyless lab's): `sub`.
        let plain =
            token_claims(&jwt(r#"{"iss":"https://issuer.test","sub":"https://signer.test/x"}"#)).unwrap();
        assert_eq!(
            (plain.identity(), plain.proof_subject()),
            ("https://signer.test/x", "https://signer.test/x")
        );
    }

    #[test]
    fn bad_tokens_are_refused_without_quoting_them() {
        for token in ["secret-token-value", "a.secret-token-value.c", &jwt(r#"{"sub":"x"}"#)] {
            let err = token_claims(token).unwrap_err().to_string();
            assert!(!err.contains("secret-token-value"), "{err}");
        }
        assert!(token_claims(&jwt(r#"{"iss":"i"}"#)).unwrap_err().to_string().contains("sub"));
    }

    #[test]
    fn request_has_fulcios_v2_shape() {
        let body = signing_cert_request("tok.en.sig", "-----BEGIN PUBLIC KEY-----\n", &[1, 2]);
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(doc["credentials"]["oidcIdentityToken"], "tok.en.sig");
        assert_eq!(doc["publicKeyRequest"]["publicKey"]["algorithm"], "ECDSA");
        assert_eq!(doc["publicKeyRequest"]["publicKey"]["content"], "-----BEGIN PUBLIC KEY-----\n");
        assert_eq!(doc["publicKeyRequest"]["proofOfPossession"], "AQI=");
    }

    #[test]
    fn reads_both_answer_forms() {
        let leaf = super::super::key::encode_pem("CERTIFICATE", b"\x30\x01\x01");
        let root = super::super::key::encode_pem("CERTIFICATE", b"\x30\x01\x02");
        let chain = serde_json::json!({"certificates": [leaf.trim_end(), root]});
        for answer in [
            serde_json::json!({"signedCertificateEmbeddedSct": {"chain": chain}}),
            serde_json::json!({"signedCertificateDetachedSct": {"chain": chain, "signedCertificateTimestamp": "AQ=="}}),
        ] {
            let pems = parse_signing_cert_response(&serde_json::to_vec(&answer).unwrap()).unwrap();
            assert_eq!(pems, vec![leaf.clone(), root.clone()]);
        }
        assert!(parse_signing_cert_response(b"{}").is_err());
        let empty = serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": []}}});
        assert!(parse_signing_cert_response(&serde_json::to_vec(&empty).unwrap()).is_err());
        let key = serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"]}}});
        assert!(parse_signing_cert_response(&serde_json::to_vec(&key).unwrap()).is_err());
    }
}
