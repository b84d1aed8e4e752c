//! Signing after promoting (issue 14): the flags of `cip promote` (and, mapped from the Go
//! promoter's, of `cip run`). Files and environment variables are read here, by the binary; the
//! engine ([`cip::sign`]) gets their contents. A key that cannot be read or decrypted is a usage
//! error (exit 2) naming the file, before any registry is read.

use std::io::Read as _;

use anyhow::{Context, bail};
use cip::Secret;
use cip::sign::{
    DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, SignOptions, SignatureFormat, SignerSource, TokenSource,
};

/// The environment variables holding a cosign encrypted key's password, in order.
const PASSWORD_VARS: [&str; 2] = ["CIP_SIGN_PASSWORD", "COSIGN_PASSWORD"];

/// `--signature-format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// cosign's tag scheme (`sha256-<hex>.sig` simple-signing layers): cosign v1/v2 and the Go
    /// promoter.
    Legacy,
    /// A Sigstore bundle v0.3 as an OCI 1.1 referrer: cosign v3's default.
    Bundle,
}

/// Sign what was promoted: key-based (--sign-key) or keyless (an OIDC identity token, Fulcio,
/// Rekor).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SignArgs {
    /// Sign every promoted digest after its tags are in place (once per digest and identity,
    /// written to every destination). Needs --sign-key, --identity-token, --signer-account, or
    /// GitHub Actions' ID token (ACTIONS_ID_TOKEN_REQUEST_URL, `permissions: id-token: write`).
    #[arg(long)]
    pub sign: bool,
    /// Sign with this private key: PKCS#8 or SEC1 PEM, or cosign's encrypted key (password
    /// from CIP_SIGN_PASSWORD or COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE", requires = "sign", conflicts_with_all = ["identity_token", "signer_account"])]
    pub sign_key: Option<String>,
    /// Keyless: the OIDC identity token, from a file or `-` for stdin.
    #[arg(long, value_name = "FILE|-", requires = "sign", conflicts_with = "signer_account")]
    pub identity_token: Option<String>,
    /// Keyless: obtain the identity token for this Google service account (IAM Credentials
    /// generateIdToken, audience sigstore), as the Go promoter's Kubernetes jobs do.
    #[arg(long, value_name = "EMAIL", requires = "sign")]
    pub signer_account: Option<String>,
    /// The IAM Credentials API used with --signer-account.
    #[arg(long, value_name = "URL", default_value = cip::sign::DEFAULT_IAM_ENDPOINT, hide = true)]
    pub iam_url: String,
    /// Keyless: the Fulcio certificate authority.
    #[arg(long, value_name = "URL", default_value = DEFAULT_FULCIO_URL)]
    pub fulcio_url: String,
    /// Keyless: the Rekor transparency log.
    #[arg(long, value_name = "URL", default_value = DEFAULT_REKOR_URL)]
    pub rekor_url: String,
    /// How signatures are stored. Default `bundle`: cosign v3's format, an OCI 1.1 referrer
    /// that never rewrites a shared tag (a `.sig` tag is read, merged and re-pushed by every
    /// signer, and two signers can race); `legacy` is what cosign v2 and the Go promoter write
    /// (and `cip run`'s default).
    #[arg(long, value_enum, default_value = "bundle", value_name = "FORMAT")]
    pub signature_format: FormatArg,
    /// Sign the digest under this canonical name (`registry.example.io/PATH`) plus the image
    /// name, for every destination: one signature for all mirrors.
    #[arg(long, value_name = "REGISTRY/PATH", requires = "sign")]
    pub signing_identity: Option<String>,
    /// Sign again even where a valid signature of this signer and identity exists.
    #[arg(long, requires = "sign")]
    pub resign: bool,
    /// Also push a signed in-toto promotion attestation (source, destination, digest, time,
    /// cip's version) as an OCI 1.1 referrer of each promoted digest.
    #[arg(long, requires = "sign")]
    pub attest_promotion: bool,
    /// Digests signed in parallel.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub max_signature_ops: usize,
}

impl SignArgs {
    /// The engine's signing options (`None` without --sign); `trusted_root` (the text of
    /// --trusted-root) lets existing keyless signatures be checked fully.
    ///
    /// # Errors
    ///
    /// A key file that cannot be read or decrypted, a token file that cannot be read, or no
    /// way to sign.
    pub(crate) fn options(&self, trusted_root: Option<String>) -> anyhow::Result<Option<SignOptions>> {
        if !self.sign {
            return Ok(None);
        }
        let signer = match (&self.sign_key, &self.identity_token, &self.signer_account) {
            (Some(path), _, _) => key_source(path)?,
            (None, Some(path), _) => self.keyless(TokenSource::Given(read_token(path)?)),
            (None, None, Some(account)) => self.keyless(TokenSource::GoogleAccount {
                account: account.clone(),
                iam_endpoint: self.iam_url.clone(),
            }),
            (None, None, None) => match TokenSource::github_actions_from_env() {
                Some(source) => self.keyless(source),
                None => bail!(
                    "--sign needs a signer: --sign-key FILE, --identity-token FILE|-, --signer-account EMAIL, \
                     or GitHub Actions' ID token (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN; the job needs \
                     `permissions: id-token: write`)"
                ),
            },
        };
        let mut options = SignOptions::new(signer);
        options.format = match self.signature_format {
            FormatArg::Legacy => SignatureFormat::Legacy,
            FormatArg::Bundle => SignatureFormat::Bundle,
        };
        options.signing_identity = self.signing_identity.clone();
        options.resign = self.resign;
        options.attest_promotion = self.attest_promotion;
        options.max_ops = self.max_signature_ops.max(1);
        options.trusted_root = trusted_root;
        Ok(Some(options))
    }

    fn keyless(&self, token: TokenSource) -> SignerSource {
        SignerSource::Keyless {
            token,
            fulcio_url: self.fulcio_url.clone(),
            rekor_url: self.rekor_url.clone(),
        }
    }
}

/// Whether signing credentials are available without a flag: GitHub Actions' ambient token.
pub(crate) fn ambient_credentials() -> bool {
    TokenSource::github_actions_from_env().is_some()
}

/// Reads and checks the key (decrypting it with the password from the environment).
fn key_source(path: &str) -> anyhow::Result<SignerSource> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--sign-key {path}: cannot read the file"))?;
    let password = PASSWORD_VARS.iter().find_map(|v| std::env::var(v).ok()).map(Secret::new);
    let pem = Secret::new(text);
    // Checked now, so a wrong password is a usage error before anything is read or copied.
    cip_core::trust::SigningKey::from_pem(pem.expose(), password.as_ref().map(Secret::expose)).map_err(
        |e| {
            let hint = if password.is_none() && pem.expose().contains("ENCRYPTED") {
                " (an encrypted key: set CIP_SIGN_PASSWORD or COSIGN_PASSWORD)"
            } else {
                ""
            };
            anyhow::anyhow!("--sign-key {path}: {e}{hint}")
        },
    )?;
    Ok(SignerSource::Key { pem, password })
}

/// Reads an identity token from a file, or stdin for `-`.
fn read_token(path: &str) -> anyhow::Result<Secret> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin().read_to_string(&mut text).context("--identity-token -: cannot read stdin")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("--identity-token {path}: cannot read the file"))?;
    }
    let token = text.trim();
    if token.is_empty() {
        bail!("--identity-token {path}: empty; give an OIDC identity token (a JWT)");
    }
    Ok(Secret::new(token))
}
