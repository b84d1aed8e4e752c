//! The Sigstore trusted root (`trusted_root.json`, `--trusted-root`): the certificate authorities
//! keyless certificates must chain to, the transparency log keys that sign Rekor's entry
//! timestamps and checkpoints, and the certificate transparency logs whose SCTs Fulcio embeds,
//! each with its validity window. Protobuf-JSON (camelCase, bytes as
//! standard base64, times as RFC 3339); only what offline verification needs is read, unknown
//! fields (timestampAuthorities, ...) are ignored.

use der::Decode as _;
use serde::Deserialize;
use sha2::Digest as _;
use x509_cert::Certificate;

use super::FormatError;
use super::cert::order_authority_chain;
use super::encoding::unb64;
use super::key::VerifyKey;

/// A parsed trusted root.
#[derive(Clone, Debug)]
pub(crate) struct TrustedRoot {
    /// Certificate authorities, each a chain from the issuing certificate to the self-signed root.
    pub(crate) authorities: Vec<Authority>,
    /// Transparency logs (Rekor), found by log ID.
    pub(crate) logs: Vec<LogKey>,
    /// Certificate transparency logs: when there are some, keyless certificates must embed an
    /// SCT by one of them.
    pub(crate) ct_logs: Vec<LogKey>,
}

/// One certificate authority (Fulcio).
#[derive(Clone, Debug)]
pub(crate) struct Authority {
    /// `certChain.certificates`, ordered: the issuing (intermediate) certificate first, the root
    /// last.
    pub(crate) chain: Vec<Certificate>,
    /// When this authority issued certificates.
    pub(crate) valid_for: Window,
}

/// One transparency log's key.
#[derive(Clone, Debug)]
pub(crate) struct LogKey {
    /// `logId.keyId`: SHA-256 of the key's DER SubjectPublicKeyInfo, as Rekor names its log.
    pub(crate) log_id: Vec<u8>,
    /// The first four bytes of the same hash: the key hint of checkpoint signatures.
    pub(crate) key_hint: [u8; 4],
    /// The log's key.
    pub(crate) key: VerifyKey,
    /// When this key signed.
    pub(crate) valid_for: Window,
}

/// A validity window in Unix seconds; an open end is unbounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    /// Inclusive start.
    pub(crate) start: Option<u64>,
    /// Inclusive end.
    pub(crate) end: Option<u64>,
}

impl Window {
    /// Whether `time` (Unix seconds) falls inside the window.
    pub(crate) fn contains(&self, time: u64) -> bool {
        self.start.is_none_or(|s| s <= time) && self.end.is_none_or(|e| time <= e)
    }
}

impl TrustedRoot {
    /// Parses `trusted_root.json` text.
    ///
    /// # Errors
    ///
    /// Not JSON of that shape, a certificate or key that does not decode, a bad time; the message
    /// says which entry (`certificateAuthorities[0].certChain.certificates[1]`).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let json: RootJson = serde_json::from_str(text).map_err(|e| {
            format!("line {}, column {}: not a Sigstore trusted root ({e})", e.line(), e.column())
        })?;
        let mut authorities = Vec::new();
        for (i, ca) in json.certificate_authorities.iter().enumerate() {
            let mut chain = Vec::new();
            for (j, c) in ca.cert_chain.certificates.iter().enumerate() {
                let at = || format!("certificateAuthorities[{i}].certChain.certificates[{j}]");
                let der = unb64(&c.raw_bytes).ok_or_else(|| format!("{}: rawBytes is not base64", at()))?;
                let cert = Certificate::from_der(&der)
                    .map_err(|e| format!("{}: not an X.509 certificate ({e})", at()))?;
                chain.push(cert);
            }
            let chain = order_authority_chain(chain)
                .map_err(|e| format!("certificateAuthorities[{i}].certChain: {e}"))?;
            let valid_for = ca
                .valid_for
                .as_ref()
                .map(|w| w.parse(&format!("certificateAuthorities[{i}].validFor")))
                .transpose()?
                .unwrap_or_default();
            authorities.push(Authority { chain, valid_for });
        }
        let logs = log_keys("tlogs", &json.tlogs)?;
        let ct_logs = log_keys("ctlogs", &json.ctlogs)?;
        if authorities.is_empty() && logs.is_empty() {
            return Err("no certificateAuthorities and no tlogs: nothing to verify against".into());
        }
        Ok(Self { authorities, logs, ct_logs })
    }

    /// The log whose ID (`logId.keyId`, Rekor's `logID`) is `log_id`.
    pub(crate) fn log(&self, log_id: &[u8]) -> Option<&LogKey> {
        self.logs.iter().find(|l| l.log_id == log_id)
    }
}

/// The keys of a `tlogs` or `ctlogs` list (`field` names it in errors).
fn log_keys(field: &str, list: &[TlogJson]) -> Result<Vec<LogKey>, String> {
    let mut logs = Vec::new();
    for (i, log) in list.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let der = unb64(&log.public_key.raw_bytes)
            .ok_or_else(|| format!("{at}.publicKey.rawBytes is not base64"))?;
        // Sigstore's roots also list logs cip cannot verify with (Rekor v2's Ed25519 keys, a
        // staging CT log's PKCS#1 RSA key): their entries find no log here; the root is fine.
        let details = log.public_key.key_details.as_deref().unwrap_or_default();
        if !details.is_empty() && !details.starts_with("PKIX_ECDSA_") {
            continue;
        }
        let key = match VerifyKey::from_spki_der(&der) {
            Ok(key) => key,
            Err(FormatError::UnsupportedKey(_)) => continue,
            Err(e) => return Err(format!("{at}.publicKey: {e}")),
        };
        let hash = sha2::Sha256::digest(&der);
        // Logs are named by their key's hash; an explicit logId wins (they agree in Sigstore's
        // roots).
        let log_id = match &log.log_id {
            Some(id) => unb64(&id.key_id).ok_or_else(|| format!("{at}.logId.keyId is not base64"))?,
            None => hash.to_vec(),
        };
        let valid_for = log
            .public_key
            .valid_for
            .as_ref()
            .map(|w| w.parse(&format!("{at}.publicKey.validFor")))
            .transpose()?
            .unwrap_or_default();
        logs.push(LogKey { log_id, key_hint: [hash[0], hash[1], hash[2], hash[3]], key, valid_for });
    }
    Ok(logs)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootJson {
    #[serde(default)]
    tlogs: Vec<TlogJson>,
    #[serde(default)]
    ctlogs: Vec<TlogJson>,
    #[serde(default)]
    certificate_authorities: Vec<AuthorityJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogJson {
    public_key: PublicKeyJson,
    #[serde(default)]
    log_id: Option<LogIdJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublicKeyJson {
    raw_bytes: String,
    #[serde(default)]
    key_details: Option<String>,
    #[serde(default)]
    valid_for: Option<WindowJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogIdJson {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorityJson {
    cert_chain: ChainJson,
    #[serde(default)]
    valid_for: Option<WindowJson>,
}

#[derive(Deserialize)]
struct ChainJson {
    #[serde(default)]
    certificates: Vec<RawJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawJson {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct WindowJson {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

impl WindowJson {
    fn parse(&self, at: &str) -> Result<Window, String> {
        let one = |t: &Option<String>, field: &str| {
            t.as_deref()
                .map(|t| {
                    rfc3339_seconds(t)
                        .ok_or_else(|| format!("{at}.{field}: {t:?} is not an RFC 3339 UTC time"))
                })
                .transpose()
        };
        Ok(Window { start: one(&self.start, "start")?, end: one(&self.end, "end")? })
    }
}

/// Unix seconds of an RFC 3339 UTC time (`2021-03-07T03:20:29Z`, fraction allowed and dropped), as
/// protobuf-JSON writes timestamps. The calendar arithmetic is `der`'s.
pub(crate) fn rfc3339_seconds(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z').or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = text.split_once(['T', 't'])?;
    let time = time
        .split_once('.')
        .map_or(time, |(whole, frac)| if frac.bytes().all(|b| b.is_ascii_digit()) { whole } else { "" });
    let mut d = date.split('-').map(str::parse::<u16>);
    let mut t = time.split(':').map(str::parse::<u8>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hour, minute, second) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    let month = u8::try_from(month).ok()?;
    let day = u8::try_from(day).ok()?;
    der::DateTime::new(year, month, day, hour, minute, second).ok().map(|dt| dt.unix_duration().as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2021-03-07T03:20:29.000Z"), Some(1_615_087_229));
        assert_eq!(rfc3339_seconds("2021-03-07T03:20:29+00:00"), Some(1_615_087_229));
        assert_eq!(rfc3339_seconds("2021-03-07T03:20:29"), None);
        assert_eq!(rfc3339_seconds("2021-13-07T03:20:29Z"), None);
        assert_eq!(rfc3339_seconds("2021-03-07T03:20:29.x0Z"), None);
    }

    #[test]
    fn window() {
        let w = Window { start: Some(10), end: Some(20) };
        assert!(w.contains(10) && w.contains(20) && !w.contains(9) && !w.contains(21));
        assert!(Window::default().contains(0));
    }

    #[test]
    fn logs_with_keys_cip_cannot_verify_are_skipped() {
        // Sigstore's roots list Rekor v2 logs with Ed25519 keys (RFC 8410's example key here).
        let mut root: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/trust/fixtures/trusted_root.json")).unwrap();
        let mut ed25519 = root["tlogs"][0].clone();
        ed25519["publicKey"]["rawBytes"] =
            "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=".into();
        ed25519["publicKey"]["keyDetails"] = serde_json::Value::Null;
        ed25519["logId"]["keyId"] = "AAAA".into();
        root["tlogs"].as_array_mut().unwrap().insert(0, ed25519);
        // A CT log key in PKCS#1 form (not SPKI), named by its keyDetails.
        let mut rsa = root["tlogs"][1].clone();
        rsa["publicKey"]["rawBytes"] = "MIICCgKCAgEA".into();
        rsa["publicKey"]["keyDetails"] = "PKCS1_RSA_PKCS1V5".into();
        root["ctlogs"] = serde_json::json!([rsa]);
        let parsed = TrustedRoot::parse(&root.to_string()).unwrap();
        assert_eq!(parsed.logs.len(), 1);
        assert!(parsed.ct_logs.is_empty());
        assert!(parsed.log(&[0, 0, 0]).is_none());
        assert_eq!(parsed.authorities.len(), 1);
        assert_eq!(parsed.authorities[0].chain.len(), 2);
    }

    #[test]
    fn errors_name_the_entry() {
        let err = TrustedRoot::parse(
            r#"{"certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"AAAA"}]}}]}"#,
        )
        .unwrap_err();
        assert!(
            err.starts_with("certificateAuthorities[0].certChain.certificates[0]: not an X.509"),
            "{err}"
        );
        let err = TrustedRoot::parse("{").unwrap_err();
        assert!(err.starts_with("line 1, column 1"), "{err}");
        let err = TrustedRoot::parse("{}").unwrap_err();
        assert!(err.contains("nothing to verify against"), "{err}");
    }
}
