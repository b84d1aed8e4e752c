//! The one error type of the trust formats: key material that does not parse or decrypt, and
//! documents (payloads, envelopes, bundles, log entries) that are not what they claim. Messages say
//! what is wrong and what to do, and never quote key material or passwords.

/// Why a key, certificate or trust document could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Not a PEM block, or a PEM block of another kind than the one expected.
    #[error("not a {expected}: {found}")]
    NotAKey {
        /// What was expected (`PEM public key`, `PEM private key`).
        expected: &'static str,
        /// What was found instead (a PEM label, or why nothing was found).
        found: String,
    },
    /// A key of an algorithm or curve cip does not sign or verify with.
    #[error("unsupported key: {0} (use an ECDSA P-256 or P-384 key)")]
    UnsupportedKey(String),
    /// An encrypted private key whose password is wrong (or whose ciphertext was altered).
    #[error("wrong password for the encrypted private key (or the key file is damaged)")]
    WrongPassword,
    /// An encrypted private key without a password.
    #[error("the private key is encrypted: give its password (CIP_SIGN_PASSWORD or COSIGN_PASSWORD)")]
    PasswordRequired,
    /// A document that is not the JSON it should be, or lacks a field.
    #[error("{what}: {message}")]
    Invalid {
        /// The document (`simple-signing payload`, `DSSE envelope`, `Sigstore bundle`, ...).
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl FormatError {
    /// A shorthand for [`FormatError::Invalid`].
    pub(crate) fn invalid(what: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid { what, message: message.into() }
    }
}
