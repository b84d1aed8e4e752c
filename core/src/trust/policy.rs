//! Compiling [`TrustOptions`] into rules: the key or the keyless constraints (trusted root,
//! identity and issuer) signatures must satisfy, and what is required. Every refusal names the
//! option at fault and what to do.
//!
//! Identity and issuer regexps match like cosign's (Go `regexp.MatchString`): unanchored, so
//! `example\.com` matches any identity containing it; anchor with `^...$` for a whole-value match.

use super::key::VerifyKey;
use super::root::TrustedRoot;
use super::{TrustError, TrustOptions};

/// A compiled policy.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    /// What signatures must verify against, if anything.
    pub(crate) authority: Option<Authority>,
    /// A trusted root given beside a key: log entries of key-based signatures are checked with it.
    pub(crate) root: Option<TrustedRoot>,
    /// `--require-signature`.
    pub(crate) require_signature: bool,
    /// `--require-attestation`, in the order given, without repeats.
    pub(crate) require_attestation: Vec<String>,
}

/// Who must have signed.
#[derive(Clone, Debug)]
pub(crate) enum Authority {
    /// `--verify-key`.
    Key(VerifyKey),
    /// Keyless: a certificate chaining to the trusted root, logged, with this identity and issuer.
    Keyless {
        /// `--trusted-root`.
        root: TrustedRoot,
        /// `--certificate-identity[-regexp]`.
        identity: Matcher,
        /// `--certificate-oidc-issuer[-regexp]`.
        issuer: Matcher,
    },
}

/// An exact value or an (unanchored, cosign-like) regexp.
#[derive(Clone, Debug)]
pub(crate) enum Matcher {
    /// The whole value must be equal.
    Exact(String),
    /// The regexp must match somewhere in the value.
    Pattern(regex_lite::Regex),
}

impl Matcher {
    /// Whether `value` satisfies it.
    pub(crate) fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(want) => want == value,
            Self::Pattern(re) => re.is_match(value),
        }
    }

    /// The constraint in the CLI's words, for messages (`--certificate-identity "a@b"`).
    pub(crate) fn describe(&self, option: &str) -> String {
        match self {
            Self::Exact(want) => format!("{option} {want:?}"),
            Self::Pattern(re) => format!("{option}-regexp {:?}", re.as_str()),
        }
    }
}

impl Rules {
    /// Compiles the options.
    ///
    /// # Errors
    ///
    /// See [`super::Policy::new`].
    pub(crate) fn compile(options: &TrustOptions) -> Result<Self, TrustError> {
        let err = |option: &'static str, message: String| TrustError { option, message };
        let key = options
            .verify_key
            .as_deref()
            .map(|pem| {
                VerifyKey::from_pem(pem).map_err(|e| {
                    err("--verify-key", format!("{e} (give a PEM public key file such as cosign.pub)"))
                })
            })
            .transpose()?;
        let root = options
            .trusted_root
            .as_deref()
            .map(|text| {
                TrustedRoot::parse(text).map_err(|e| {
                    err(
                        "--trusted-root",
                        format!(
                            "{e} (give a Sigstore trusted_root.json, e.g. from `cosign trusted-root create`)"
                        ),
                    )
                })
            })
            .transpose()?;
        let identity = matcher(
            "--certificate-identity",
            options.certificate_identity.as_deref(),
            options.certificate_identity_regexp.as_deref(),
        )?;
        let issuer = matcher(
            "--certificate-oidc-issuer",
            options.certificate_oidc_issuer.as_deref(),
            options.certificate_oidc_issuer_regexp.as_deref(),
        )?;
        let keyless_asked = identity.is_some() || issuer.is_some();
        let authority = match (key, keyless_asked) {
            (Some(_), true) => {
                return Err(err(
                    "--verify-key",
                    "give either --verify-key (key-based signatures) or --certificate-identity and \
                     --certificate-oidc-issuer (keyless), not both"
                        .into(),
                ));
            }
            (Some(key), false) => Some(Authority::Key(key)),
            (None, true) => {
                let Some(root) = root.clone() else {
                    let option = if identity.is_some() {
                        "--certificate-identity"
                    } else {
                        "--certificate-oidc-issuer"
                    };
                    return Err(err(
                        option,
                        "keyless identity constraints need --trusted-root FILE (Sigstore's trusted_root.json)".into(),
                    ));
                };
                // cosign refuses keyless verification without both constraints: any identity
                // from any issuer would pass.
                let issuer_missing = issuer.is_none();
                let (Some(identity), Some(issuer)) = (identity, issuer) else {
                    let (option, what) = if issuer_missing {
                        (
                            "--certificate-oidc-issuer",
                            "an OIDC issuer: give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp",
                        )
                    } else {
                        (
                            "--certificate-identity",
                            "an identity: give --certificate-identity or --certificate-identity-regexp",
                        )
                    };
                    return Err(err(option, format!("keyless verification needs {what}")));
                };
                Some(Authority::Keyless { root, identity, issuer })
            }
            (None, false) => {
                if root.is_some() {
                    return Err(err(
                        "--trusted-root",
                        "keyless verification needs --certificate-identity(-regexp) and \
                         --certificate-oidc-issuer(-regexp) beside the trusted root"
                            .into(),
                    ));
                }
                None
            }
        };
        if authority.is_none() && (options.require_signature || !options.require_attestation.is_empty()) {
            let option =
                if options.require_signature { "--require-signature" } else { "--require-attestation" };
            return Err(err(
                option,
                "needs what to verify against: --verify-key FILE, or --trusted-root FILE with \
                 --certificate-identity and --certificate-oidc-issuer"
                    .into(),
            ));
        }
        let mut require_attestation: Vec<String> = Vec::new();
        for predicate_type in &options.require_attestation {
            if predicate_type.trim().is_empty() {
                return Err(err(
                    "--require-attestation",
                    "a predicate type is empty (give one such as https://slsa.dev/provenance/v1)".into(),
                ));
            }
            if !require_attestation.contains(predicate_type) {
                require_attestation.push(predicate_type.clone());
            }
        }
        let root = match &authority {
            Some(Authority::Key(_)) => root,
            _ => None,
        };
        Ok(Self { authority, root, require_signature: options.require_signature, require_attestation })
    }
}

/// The exact or regexp form of one constraint (not both).
fn matcher(
    option: &'static str,
    exact: Option<&str>,
    pattern: Option<&str>,
) -> Result<Option<Matcher>, TrustError> {
    match (exact, pattern) {
        (Some(_), Some(_)) => {
            Err(TrustError { option, message: format!("give {option} or {option}-regexp, not both") })
        }
        (Some(value), None) => Ok(Some(Matcher::Exact(value.to_owned()))),
        (None, Some(pattern)) => {
            regex_lite::Regex::new(pattern).map(|re| Some(Matcher::Pattern(re))).map_err(|e| TrustError {
                option: if option == "--certificate-identity" {
                    "--certificate-identity-regexp"
                } else {
                    "--certificate-oidc-issuer-regexp"
                },
                message: format!("not a regular expression: {e}"),
            })
        }
        (None, None) => Ok(None),
    }
}
